"""portal.sessions: a renewal writes the same row (data and new expiry) in one statement; other saves are Django's."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from portal.sessions import SessionStore


def _saved_session(start: dt.datetime) -> str:
    with time_machine.travel(start, tick=False):
        store = SessionStore()
        store["_auth_user_id"] = "7"
        store.create()
        return store.session_key


def _renew(key: str, at: dt.datetime) -> SessionStore:
    with time_machine.travel(at, tick=False):
        store = SessionStore(session_key=key)
        assert store["_auth_user_id"] == "7"  # read, not changed: a renewal
        assert not store.modified
        store.save()
        return store


def _renewal_write(minutes: int) -> tuple[str, dt.datetime, str]:
    """A session saved, then renewed ``minutes`` later: its key, the renewal's time and its one write's SQL."""
    start = timezone.now().replace(microsecond=0)
    key = _saved_session(start)
    later = start + dt.timedelta(minutes=minutes)
    with CaptureQueriesContext(connection) as queries:
        _renew(key, later)
    (write,) = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")]  # no savepoint
    return key, later, write


@pytest.mark.django_db
def test_renewal_moves_the_expiry_keeps_the_data_in_one_statement():
    key, later, write = _renewal_write(10)
    assert write.startswith("UPDATE")
    row = Session.objects.get(session_key=key)
    assert row.expire_date == later + dt.timedelta(seconds=900)
    assert SessionStore().decode(row.session_data) == {"_auth_user_id": "7"}


@pytest.mark.django_db
def test_a_changed_session_is_saved_with_its_change():
    start = timezone.now().replace(microsecond=0)
    key = _saved_session(start)
    store = SessionStore(session_key=key)
    store["note"] = "x"
    store.save()
    assert SessionStore(session_key=key).load() == {"_auth_user_id": "7", "note": "x"}


@pytest.mark.django_db
def test_renewing_a_deleted_session_fails_as_django_does():
    key = _saved_session(timezone.now())
    store = SessionStore(session_key=key)
    store.load()
    Session.objects.filter(session_key=key).delete()
    with pytest.raises(UpdateError):
        store.save()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the asynchronous commit is PostgreSQL's")
def test_renewal_on_postgresql_is_one_statement_outside_a_transaction():
    key, later, write = _renewal_write(5)
    assert "synchronous_commit" in write
    assert Session.objects.get(session_key=key).expire_date == later + dt.timedelta(seconds=900)
    assert connection.cursor().execute("SHOW synchronous_commit").fetchone() == ("on",)  # only that transaction's
