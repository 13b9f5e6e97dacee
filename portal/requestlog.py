"""Request ids and the access log (README "Logs").

``RequestIdMiddleware`` runs first: it takes the caller's ``X-Request-ID`` when it is a safe token (at most 64 of
``A-Z a-z 0-9 . _ -``; a proxy or load balancer usually sets one) or makes a fresh uuid4 hex, keeps it in a
contextvar for the request, returns it as the ``X-Request-ID`` response header, and writes one access-log line per
request. ``RequestIdFilter`` (on the log handlers) puts it on every record as ``request_id``.

The access line names the URL pattern (``patients:detail``), never the raw path or query string, and the user by
id only: a path holds record ids and a query string could hold anything typed into a form.
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid

from django.utils.functional import empty

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("portal_request_id", default=None)
access_logger = logging.getLogger("portal.access")

_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
NO_REQUEST = "-"
UNRESOLVED = "-"  # a request that matched no URL pattern (a 404), or failed before resolving


def valid_request_id(raw: str | None) -> str | None:
    """The incoming id when it is safe to log and echo, else None."""
    if raw is not None and _REQUEST_ID.fullmatch(raw):
        return raw
    return None


def current_request_id() -> str | None:
    return request_id_var.get()


def route_name(request) -> str:
    """The URL name (``namespace:name``), else the route pattern, of the view that answered; never the raw path."""
    probe = getattr(request, "health_probe", None)
    if probe:
        return probe
    match = getattr(request, "resolver_match", None)
    if match is None:
        return UNRESOLVED
    return match.view_name or match.route or UNRESOLVED


def user_id(request) -> int | None:
    user = getattr(request, "user", None)
    # Only a user the request already loaded: reading it here must not add a query.
    if user is None or getattr(user, "_wrapped", None) is empty:
        return None
    return user.pk if user.is_authenticated else None


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record (``-`` outside a request)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get() or NO_REQUEST
        return True


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = valid_request_id(request.headers.get("X-Request-ID")) or uuid.uuid4().hex
        token = request_id_var.set(request_id)
        request.request_id = request_id
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if not getattr(request, "health_probe", None):  # a load balancer's probes every few seconds: no line
                duration_ms = round((time.perf_counter() - started) * 1000, 1)
                route, uid = route_name(request), user_id(request)
                access_logger.info(
                    "%s %s %s %.1fms user=%s",
                    request.method,
                    route,
                    response.status_code,
                    duration_ms,
                    uid if uid is not None else "-",
                    extra={
                        "method": request.method,
                        "route": route,
                        "status": response.status_code,
                        "duration_ms": duration_ms,
                        "user_id": uid,
                    },
                )
            return response
        finally:
            request_id_var.reset(token)
