"""Database sessions (SESSION_ENGINE) whose renewal on every request is one statement.

The idle limit renews the session on every request (SESSION_SAVE_EVERY_REQUEST). Django's database store writes
each renewal as BEGIN, UPDATE, COMMIT and waits for the commit to reach the disk: on the bench database
(bench/profile_page.py, issue 16) that was most of the signed-in minimal view's wall time and a second commit
after the patient page's audited one (7 of 12 ms wall under cProfile on a busy machine).

Here a renewal (a session saved without a change: ``modified`` false) writes the same row as before, data and new
expiry, as one UPDATE in its own transaction; on PostgreSQL that transaction does not wait for the disk
(``synchronous_commit`` off for it alone, ``set_config(..., true)``). Should the server crash within the moment
before the write reaches the disk, the session keeps its previous expiry: it ends sooner, never later, so the idle
limit is not weakened. A changed session (sign-in, second factor, messages) and a new one are saved as Django saves
them, durably.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.backends.base import UpdateError
from django.db import DatabaseError, connections, router


class SessionStore(db.SessionStore):
    def save(self, must_create: bool = False) -> None:
        if must_create or self.session_key is None or self.modified:
            super().save(must_create=must_create)
            return
        obj = self.create_model_instance(self._get_session())  # type: ignore[attr-defined]  # as Django reads it
        using = router.db_for_write(self.model, instance=obj)
        connection = connections[using]
        try:
            if connection.vendor == "postgresql" and not connection.in_atomic_block:
                table = connection.ops.quote_name(self.model._meta.db_table)  # the columns are AbstractBaseSession's
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {table} SET session_data = %s, expire_date = %s WHERE session_key = %s "  # noqa: S608
                        "AND (SELECT set_config('synchronous_commit', 'off', true)) IS NOT NULL",
                        [obj.session_data, obj.expire_date, obj.session_key],
                    )
                    updated = cursor.rowcount
            else:
                rows = self.model.objects.using(using).filter(session_key=obj.session_key)
                updated = rows.update(session_data=obj.session_data, expire_date=obj.expire_date)
        except DatabaseError as exc:
            raise UpdateError from exc
        if not updated:
            raise UpdateError  # the row is gone (signed out elsewhere): as Django's forced update does
