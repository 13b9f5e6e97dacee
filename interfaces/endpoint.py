"""What every interface view shares: who is calling (a bearer token, or a signed-in staff member where allowed), the
size and rate limits, and the log line of each request. The views format their own answers (an HL7 ACK, a FHIR
OperationOutcome, CDS Hooks JSON), so each passes an ``error`` callable that turns (status, reason) into one.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from interfaces import tokens
from interfaces.models import InterfaceRequest, InterfaceToken
from portal.models import Clinic, User
from portal.security import twofactor

ErrorResponse = Callable[[int, str], HttpResponse]


class Denied(Exception):
    """Raised by an ``authenticate`` callable: the credentials were recognised and are not valid (the message says
    why: expired, wrong audience, replayed). It contains no secret."""


@dataclass(frozen=True)
class Caller:
    """Who sent an interface request: a system's token, or a staff member signed in to the portal."""

    clinic: Clinic
    token: InterfaceToken | None = None
    user: User | None = None

    @property
    def actor_label(self) -> str:
        if self.token is not None:
            return self.token.actor_label
        return self.user.get_username() if self.user is not None else ""


def log_request(
    *,
    interface: str,
    caller: Caller | None,
    outcome: str,
    message_id: str = "",
    reason: str = "",
    size: int = 0,
) -> InterfaceRequest:
    """One row per request: which interface, who, the message id and the outcome. Never the message itself."""
    return InterfaceRequest.objects.create(
        interface=interface,
        token=caller.token if caller else None,
        actor=caller.user if caller else None,
        message_id=message_id[:100],
        outcome=outcome,
        reason=reason[:300],
        size=size,
    )


def _rate_limited(key: str) -> bool:
    """A fixed one-minute window per caller in the cache (local memory by default, shared cache in production)."""
    window = int(time.time() // 60)
    cache_key = f"interfaces:rate:{key}:{window}"
    cache.add(cache_key, 0, timeout=120)
    try:
        count = cache.incr(cache_key)
    except ValueError:  # evicted between add and incr
        cache.set(cache_key, 1, timeout=120)
        count = 1
    return count > settings.PORTAL_INTERFACE_RATE_PER_MINUTE


def _session_caller(request: HttpRequest) -> Caller | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or user.clinic_id is None:
        return None
    if twofactor.session_second_step(request) is not None:  # the portal's own pages would not let it in either
        return None
    return Caller(clinic=user.clinic, user=user)


def interface_view(
    interface: str,
    *,
    error: ErrorResponse,
    allow_session: bool = False,
    methods: tuple[str, ...] = ("POST",),
    authenticate: Callable[[HttpRequest], Caller | None] | None = None,
):
    """Wrap an interface view ``view(request, caller, *args)``: exempt from CSRF and the log-in redirect (a machine
    authenticates with its bearer token instead), limited in body size and rate, and refused with ``error`` when
    the caller is unknown. ``allow_session`` also admits a signed-in staff member whose session the portal's pages
    admit (``twofactor.session_second_step``); ``authenticate`` is tried when the request carries no interface
    token (the CDS Hooks JWT): it returns the caller, None, or raises ``Denied``."""

    def decorate(view):
        @csrf_exempt
        @login_not_required
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if request.method not in methods:
                response = error(405, f"Use {' or '.join(methods)}.")
                response["Allow"] = ", ".join(methods)
                return response
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.PORTAL_INTERFACE_MAX_BYTES:
                log_request(
                    interface=interface,
                    caller=None,
                    outcome=InterfaceRequest.Outcome.REJECTED,
                    reason="body too large",
                    size=length,
                )
                return error(413, f"The body is larger than {settings.PORTAL_INTERFACE_MAX_BYTES} bytes.")
            token = tokens.authenticate(request)
            caller = Caller(clinic=token.clinic, token=token) if token is not None else None
            denied = "no valid token"
            if caller is None and authenticate is not None:
                try:
                    caller = authenticate(request)
                except Denied as exc:
                    denied = str(exc)
            if caller is None and allow_session:
                caller = _session_caller(request)
            if caller is None:
                log_request(
                    interface=interface,
                    caller=None,
                    outcome=InterfaceRequest.Outcome.DENIED,
                    reason=denied,
                    size=length,
                )
                message = "A valid bearer token is required."
                response = error(401, message if denied == "no valid token" else f"{message} {denied}")
                response["WWW-Authenticate"] = 'Bearer realm="jak-portal"'
                return response
            rate_key = (
                f"token:{caller.token.pk}"
                if caller.token is not None
                else f"user:{caller.user.pk if caller.user else 0}"
            )
            if _rate_limited(rate_key):
                log_request(
                    interface=interface,
                    caller=caller,
                    outcome=InterfaceRequest.Outcome.REJECTED,
                    reason="rate limit",
                    size=length,
                )
                response = error(429, "Too many requests; try again in a minute.")
                response["Retry-After"] = "60"
                return response
            return view(request, caller, *args, **kwargs)

        return wrapper

    return decorate
