"""Double-submit protection for create forms: a one-time token in a hidden field, checked in the database.

Usage in a view (inside the request transaction)::

    earlier = idempotency.replay(request, scope="patients:create")   # before validating: a resent form
    if earlier:                                                     # may no longer be valid (duplicate)
        return redirect(earlier)
    ... form.is_valid() ...
    earlier = idempotency.claim(request, scope="patients:create")    # after validating: two submissions
    if earlier:                                                     # racing each other serialise here
        return redirect(earlier)
    obj = service_create(...)        # on a ValidationError call idempotency.release(request)
    idempotency.complete(request, scope="patients:create", result_url=obj.get_absolute_url())

and in the template ``{% include "includes/_idempotency.html" %}`` with ``idempotency_key`` from
``idempotency.form_key(request)`` in the context. The token row's unique key makes concurrent submissions
(a double click reaching two workers) serialise on the database: the second waits, then finds the first.
"""

from __future__ import annotations

import uuid

from django.core.exceptions import SuspiciousOperation
from django.db import IntegrityError, transaction

from portal.models import IdempotencyKey

FIELD = "idempotency_key"


def form_key(request) -> str:
    """The token for the form being shown: the submitted one when re-showing a form, else a new one."""
    submitted = _submitted(request)
    return str(submitted or uuid.uuid4())


def _submitted(request) -> uuid.UUID | None:
    raw = request.POST.get(FIELD, "") if request.method == "POST" else ""
    try:
        return uuid.UUID(raw) if raw else None
    except ValueError:
        return None


def replay(request, *, scope: str) -> str | None:
    """Where an earlier, completed submission of this same form led; None if there was none."""
    key = _submitted(request)
    if key is None:
        return None
    earlier = IdempotencyKey.objects.filter(key=key, scope=scope, user=request.user).exclude(result_url="").first()
    return earlier.result_url if earlier else None


def claim(request, *, scope: str) -> str | None:
    """Record this submission's token. Returns None the first time, or where the first submission led."""
    key = _submitted(request)
    if key is None:
        return None  # forms without a token (old pages, scripts) keep working, unprotected
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(key=key, scope=scope, user=request.user)
    except IntegrityError:
        earlier = IdempotencyKey.objects.filter(key=key, scope=scope, user=request.user).first()
        if earlier is None:
            raise SuspiciousOperation("Form token belongs to another form or user.") from None
        return earlier.result_url or request.path
    return None


def complete(request, *, scope: str, result_url: str) -> None:
    key = _submitted(request)
    if key is not None:
        IdempotencyKey.objects.filter(key=key, scope=scope, user=request.user).update(result_url=result_url[:300])


def release(request, *, scope: str) -> None:
    """The claimed submission wrote nothing (a service refused it): let the same form be sent again."""
    key = _submitted(request)
    if key is not None:
        IdempotencyKey.objects.filter(key=key, scope=scope, user=request.user, result_url="").delete()
