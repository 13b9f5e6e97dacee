"""Known devices: a browser a user has fully logged in on before keeps working during a password spray.

Lockouts by username (the per-username cap, and the (username, address) pair when every client shares one
address) would otherwise let anyone lock a user out by typing wrong passwords for their username. After a
complete log-in (password, and the second step when there is one) the browser gets a signed cookie naming that
user and a random device id. A log-in attempt for that user from that browser is then counted against its own
device id only: the username's locks do not apply to it and its failures do not count towards them. A device
gets AXES_FAILURE_LIMIT wrong passwords per AXES_COOLOFF_TIME, like one (username, address) pair; each complete
log-in issues a new device id, which starts a fresh count. Failures are counted from the audit trail
(LOGIN_FAILED rows with object_type ``portal.device``), and a superuser's unlock of the username clears them.

The cookie is HttpOnly, sent only to /accounts/, SameSite=Strict, Secure in production, and lasts
PORTAL_KNOWN_DEVICE_MAX_AGE; it remembers up to PORTAL_KNOWN_DEVICE_USERS users (a shared clinic computer).
It grants nothing by itself: the password and the second step are still needed.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.core import signing
from django.db.models import Max
from django.utils import timezone

from portal.models import AuditEvent, User

COOKIE_NAME = "portal_device"
COOKIE_PATH = "/accounts/"
OBJECT_TYPE = "portal.device"
_SALT = "portal.security.devices"
_CACHE_ATTR = "_portal_known_devices"


def _entries(request) -> list[tuple[int, str]]:
    """(user id, device id) pairs from a valid cookie, newest first; [] for a missing, old or forged one."""
    raw = getattr(request, "COOKIES", {}).get(COOKIE_NAME)
    if not raw:
        return []
    try:
        data = signing.loads(raw, salt=_SALT, max_age=settings.PORTAL_KNOWN_DEVICE_MAX_AGE)
    except signing.BadSignature:  # includes SignatureExpired
        return []
    if not isinstance(data, list):
        return []
    return [
        (entry[0], entry[1])
        for entry in data
        if isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], int) and isinstance(entry[1], str)
    ]


def device_id_for(request, username: str | None) -> str | None:
    """The device id this browser holds for ``username``, if it has logged in fully as that user before."""
    if request is None or not username:
        return None
    cache = getattr(request, _CACHE_ATTR, None)
    if cache is None:
        cache = {}
        setattr(request, _CACHE_ATTR, cache)
    if username not in cache:
        entries = _entries(request)
        user_id = None
        if entries:
            user_id = User.objects.filter(username=username).values_list("pk", flat=True).first()
        cache[username] = next((device for uid, device in entries if uid == user_id), None)
    return cache[username]


def remember(request, response, user: User) -> None:
    """Mark this browser as a known device for ``user`` (after a complete log-in), with a fresh device id."""
    entries = [entry for entry in _entries(request) if entry[0] != user.pk]
    entries.insert(0, (user.pk, secrets.token_hex(8)))
    value = signing.dumps([list(entry) for entry in entries[: settings.PORTAL_KNOWN_DEVICE_USERS]], salt=_SALT)
    response.set_cookie(
        COOKIE_NAME,
        value,
        max_age=int(settings.PORTAL_KNOWN_DEVICE_MAX_AGE.total_seconds()),
        path=COOKIE_PATH,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def failures(username: str, device_id: str, now: dt.datetime | None = None) -> list[dt.datetime]:
    """Times of wrong passwords for ``username`` from this device in the current window, oldest first."""
    now = now or timezone.now()
    start = now - settings.AXES_COOLOFF_TIME
    last_unlock = AuditEvent.objects.filter(
        action=AuditEvent.Action.UNLOCK, object_type="axes.username", object_id=username[:64]
    ).aggregate(at=Max("at"))["at"]
    return list(
        AuditEvent.objects.filter(
            action=AuditEvent.Action.LOGIN_FAILED,
            actor_username=username[:150],
            object_type=OBJECT_TYPE,
            object_id=device_id,
            at__gte=max(start, last_unlock) if last_unlock else start,
        )
        .order_by("at")
        .values_list("at", flat=True)
    )


def is_locked(username: str, device_id: str) -> bool:
    return len(failures(username, device_id)) >= settings.AXES_FAILURE_LIMIT


def retry_at(username: str, device_id: str, now: dt.datetime | None = None) -> dt.datetime:
    now = now or timezone.now()
    times = failures(username, device_id, now)
    limit = settings.AXES_FAILURE_LIMIT
    if len(times) < limit:
        return now
    return times[len(times) - limit] + settings.AXES_COOLOFF_TIME
