"""Double-submit protection for create forms: a one-time token in a hidden field, checked in the database.

A view wraps its form handling in ``guard`` (inside the request transaction)::

    form = SomeForm(request.POST or None)
    try:
        with idempotency.guard(request, scope=f"labs:{patient.public_id}") as submission:
            if not submission.earlier and form.is_valid() and not submission.claim():
                obj = service_create(...)        # a DomainError or ValidationError releases the claim
                return redirect(submission.complete(obj.get_absolute_url()))
    except DomainError as exc:
        add_service_error(form, exc)
    if submission.earlier:                       # this form was sent before: answer like the first time
        return redirect(submission.earlier)
    ... render the form ...

``submission.earlier`` is where an earlier, completed submission of the same form led: read it before
validating (a resent form may no longer be valid, e.g. its record number now exists) and again after a failed
validation (the first of two simultaneous submissions may have finished meanwhile). ``claim()`` records the
token after validating; two submissions racing each other serialise on the token row's unique key (the
second waits, then finds the first) and the second gets the first one's URL back. ``complete(url)`` stores
where the write led. In the template ``{% include "includes/_idempotency.html" %}`` with ``idempotency_key``
from ``idempotency.form_key(request)`` in the context. ``replay``/``claim``/``complete``/``release`` are the
steps ``guard`` takes; views should not call them directly. ``submit_once`` wraps the whole pattern above for a
view whose write needs nothing but a valid form.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from django.contrib import messages
from django.core.exceptions import SuspiciousOperation, ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.shortcuts import redirect

from portal.errors import DomainError
from portal.models import IdempotencyKey
from portal.web import add_service_error

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


class Submission:
    """One submission of a protected form, as ``guard`` hands it to the view."""

    def __init__(self, request, scope: str):
        self.request = request
        self.scope = scope
        self.claimed = False
        self.completed = False
        self._first: str | None = None

    @property
    def earlier(self) -> str | None:
        """Where an earlier submission of this form led, or None (always None for a GET or a form without token).

        Looked up afresh on each read until found (by a lookup or by ``claim``), then kept."""
        if self._first is None:
            self._first = replay(self.request, scope=self.scope)
        return self._first

    def claim(self) -> str | None:
        """Record this submission before writing; None if it is the first, else where the first one led."""
        self._first = claim(self.request, scope=self.scope)
        self.claimed = self._first is None and _submitted(self.request) is not None
        return self._first

    def complete(self, result_url: str) -> str:
        """Record where the write led (what a resent form is answered with) and return it."""
        complete(self.request, scope=self.scope, result_url=result_url)
        self.completed = True
        return result_url


def submit_once(request, form, *, scope: str, save: Callable[[], str], again: str) -> HttpResponse | None:
    """A create form's POST handled at most once per form token: the usual ``guard`` steps for views whose write
    raises a DomainError or ValidationError onto the form.

    ``save()`` validates nothing (``form`` is already valid), writes and returns the URL to go to. Returns the
    redirect to answer with (first submission, or the resent one, with ``again`` as a message), or None to show
    the form, with any error on it. The template needs ``idempotency_key`` (``form_key(request)``)."""
    try:
        with guard(request, scope) as submission:
            if request.method == "POST" and not submission.earlier and form.is_valid() and not submission.claim():
                return redirect(submission.complete(save()))
    except DomainError as exc:
        add_service_error(form, exc)
    except ValidationError as exc:
        form.add_error(None, exc)
    if submission.earlier:
        messages.info(request, again)
        return redirect(submission.earlier)
    return None


@contextmanager
def guard(request, scope: str) -> Iterator[Submission]:
    """Protect a create form against double submission; a refused write (DomainError or ValidationError
    leaving the block) releases the claim, so the corrected form can be sent again with the same token."""
    submission = Submission(request, scope)
    try:
        yield submission
    except (DomainError, ValidationError):
        if submission.claimed and not submission.completed:
            release(request, scope=scope)
        raise
