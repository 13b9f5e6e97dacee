"""Brute-force protection on top of django-axes.

Axes counts failures per (username, address) pair (AXES_LOCKOUT_PARAMETERS) so colleagues behind the same
clinic address are not locked out by one person's typing. On top of that this handler caps the failures of
one username across every address (PORTAL_USERNAME_FAILURE_CAP per PORTAL_USERNAME_FAILURE_WINDOW), counted
from the audit trail, so rotating addresses does not buy an attacker more guesses. An audited unlock by a
superuser clears both.

Neither applies to a known device (``portal.security.devices``): a browser the user has fully logged in on
before has its own count, so a password spray against the username cannot lock the user out of it.
"""

from __future__ import annotations

import datetime as dt
import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Max
from django.shortcuts import render
from django.utils import timezone

from portal.audit import audit_record
from portal.models import AuditEvent, User
from portal.security import devices

# Request flags shared with the audit receiver in portal.security.signals (which may run before or after axes').
FAILURE_AUDITED_ATTR = "portal_failure_audited"
LOCK_REACHED_ATTR = "portal_lock_reached"


def _username_window_start(username: str, now: dt.datetime) -> dt.datetime:
    start = now - settings.PORTAL_USERNAME_FAILURE_WINDOW
    last_unlock = (
        AuditEvent.objects.filter(action=AuditEvent.Action.UNLOCK, object_type="axes.username", object_id=username)
        .aggregate(at=Max("at"))
        .get("at")
    )
    return max(start, last_unlock) if last_unlock else start


def username_failures(username: str, now: dt.datetime | None = None) -> list[dt.datetime]:
    """Times of counted wrong passwords for ``username`` in the current window, oldest first."""
    now = now or timezone.now()
    return list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LOGIN_FAILED,
            actor_username=username[:150],
            at__gte=_username_window_start(username, now),
        )
        .exclude(object_type=devices.OBJECT_TYPE)  # a known device's failures count only for that device
        .order_by("at")
        .values_list("at", flat=True)
    )


def axes_username(request, credentials) -> str | None:
    """The username axes records, cut to the user model's 150 characters (axes stores at most 255; longer
    input from the log-in form would otherwise fail on PostgreSQL with a server error)."""
    username = (credentials or {}).get("username") if credentials else request.POST.get("username")
    return str(username)[:150] if username is not None else None


class PortalAxesHandler(AxesDatabaseHandler):
    """Axes' database handler plus the per-username cap, with known devices counted apart."""

    @staticmethod
    def _known_device(request, credentials) -> str | None:
        return devices.device_id_for(request, get_client_username(request, credentials))

    def is_allowed(self, request, credentials=None) -> bool:
        device_id = self._known_device(request, credentials)
        if device_id is not None:
            return not devices.is_locked(get_client_username(request, credentials), device_id)
        return super().is_allowed(request, credentials)

    def is_whitelisted(self, request, credentials=None) -> bool:
        """Axes keeps no (username, address) record for a known device: the device has its own count."""
        return self._known_device(request, credentials) is not None or super().is_whitelisted(request, credentials)

    def get_failures(self, request, credentials=None) -> int:
        pair = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if username and len(username_failures(username)) >= settings.PORTAL_USERNAME_FAILURE_CAP:
            return max(pair, get_failure_limit(request, credentials))
        return pair

    def user_login_failed(self, sender, credentials, request=None, **kwargs):
        refused_up_front = getattr(request, "axes_locked_out", False)  # the backend found it locked already
        super().user_login_failed(sender, credentials, request=request, **kwargs)
        if request is None or refused_up_front:
            return
        username = get_client_username(request, credentials)
        device_id = self._known_device(request, credentials)
        if device_id is not None and not request.axes_locked_out:
            # This failure may not be in the audit trail yet: receivers run in connection order.
            pending = 0 if getattr(request, FAILURE_AUDITED_ATTR, False) else 1
            if len(devices.failures(username, device_id)) + pending >= settings.AXES_FAILURE_LIMIT:
                request.axes_locked_out = True
                request.axes_credentials = credentials
                user_locked_out.send("axes", request=request, username=username, ip_address=request.axes_ip_address)
        if request.axes_locked_out:
            setattr(request, LOCK_REACHED_ATTR, True)  # a counted failure (the one reaching the limit): audit it


def retry_at(username: str, ip_address: str | None, now: dt.datetime | None = None) -> dt.datetime:
    """When the lock on this username (from this address) lifts, the later of the two limits."""
    now = now or timezone.now()
    when = now
    pair_last = AccessAttempt.objects.filter(username=username, ip_address=ip_address).aggregate(t=Max("attempt_time"))
    if pair_last["t"]:
        when = max(when, pair_last["t"] + settings.AXES_COOLOFF_TIME)
    failures = username_failures(username, now)
    cap = settings.PORTAL_USERNAME_FAILURE_CAP
    if len(failures) >= cap:
        when = max(when, failures[len(failures) - cap] + settings.PORTAL_USERNAME_FAILURE_WINDOW)
    return when


def lockout_response(request, original_response=None, credentials=None):
    """The 429 page: says plainly when to try again, and sends Retry-After."""
    username = get_client_username(request, credentials) or ""
    device_id = devices.device_id_for(request, username)
    if device_id is not None:
        when = devices.retry_at(username, device_id)
    else:
        when = retry_at(username, getattr(request, "axes_ip_address", None))
    seconds = max(0, math.ceil((when - timezone.now()).total_seconds()))
    response = render(
        request,
        "registration/lockout.html",
        {
            "retry_at": when,
            "retry_minutes": max(1, math.ceil(seconds / 60)),
            "failure_limit": settings.AXES_FAILURE_LIMIT,
        },
        status=settings.AXES_HTTP_RESPONSE_CODE,
    )
    response["Retry-After"] = str(seconds)
    return response


def locked_usernames(now: dt.datetime | None = None) -> list[dict]:
    """Usernames that are locked now (by any limit, known devices included), for the unlock page."""
    now = now or timezone.now()
    rows: dict[str, dict] = {}
    threshold = now - settings.AXES_COOLOFF_TIME
    for attempt in AccessAttempt.objects.filter(
        attempt_time__gte=threshold, failures_since_start__gte=settings.AXES_FAILURE_LIMIT
    ).order_by("username"):
        rows.setdefault(attempt.username, {"username": attempt.username, "addresses": []})
        rows[attempt.username]["addresses"].append(attempt.ip_address)
    window_start = now - settings.PORTAL_USERNAME_FAILURE_WINDOW
    candidates = (
        AuditEvent.objects.filter(action=AuditEvent.Action.LOGIN_FAILED, at__gte=window_start)
        .exclude(actor_username="")
        .values_list("actor_username", flat=True)
        .distinct()
    )
    for username in candidates:
        if len(username_failures(username, now)) >= settings.PORTAL_USERNAME_FAILURE_CAP:
            rows.setdefault(username, {"username": username, "addresses": []})
            rows[username]["all_addresses"] = True
    device_candidates = (
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LOGIN_FAILED, object_type=devices.OBJECT_TYPE, at__gte=threshold
        )
        .order_by()  # no ordering columns in the DISTINCT
        .values_list("actor_username", "object_id")
        .distinct()
    )
    device_locks: dict[str, list[dt.datetime]] = {}
    for username, device_id in device_candidates:
        if len(devices.failures(username, device_id, now)) >= settings.AXES_FAILURE_LIMIT:
            device_locks.setdefault(username, []).append(devices.retry_at(username, device_id, now))
            rows.setdefault(username, {"username": username, "addresses": []})
            rows[username]["known_devices"] = len(device_locks[username])
    for row in rows.values():
        ips = row["addresses"] or ([None] if row.get("all_addresses") else [])
        times = [retry_at(row["username"], ip, now) for ip in ips] + device_locks.get(row["username"], [])
        row["retry_at"] = max(times)
    return sorted(rows.values(), key=lambda row: row["username"])


def username_unlock(*, actor: User, username: str) -> int:
    """Clear every lock on ``username`` (all addresses and the per-username cap); audited."""
    from axes.handlers.proxy import AxesProxyHandler

    cleared = AxesProxyHandler.reset_attempts(username=username)
    audit_record(
        actor=actor,
        action=AuditEvent.Action.UNLOCK,
        object_type="axes.username",
        object_id=username[:64],
        summary=f"Unlocked log-in for username {username[:100]!r}",
        changes={"attempt_records_cleared": cleared},
    )
    return cleared
