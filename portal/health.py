"""Health probes for load balancers and orchestrators (README "Deploying", "Health checks").

Liveness (``/healthz/live``) says the process answers; it never touches the database, so a database outage does not
make an orchestrator restart every app server. Readiness (``/healthz/ready``, and ``/healthz`` for deployments that
already probe it) says this server can take traffic: one database round trip and no unapplied migration.

``HealthProbeMiddleware`` sits first in MIDDLEWARE and answers the three paths before the HTTPS redirect and before
the Host header is checked against ALLOWED_HOSTS: a load balancer probes a backend by its IP address over plain HTTP.
The answers hold no host-derived or patient data.
"""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.urls import NoReverseMatch, reverse

logger = logging.getLogger(__name__)

PROBE_URL_NAMES = ("healthz", "healthz_live", "healthz_ready")
# JSON bodies, never framed or cached: the headers CSPMiddleware and NoStoreMiddleware would add further down.
PROBE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
}


def database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.warning("readiness: database check failed")
        return False
    return True


def migrations_applied() -> bool:
    """True when every migration on disk is recorded as applied (a deploy that skipped ``migrate`` is not ready)."""
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.warning("readiness: migration check failed")
        return False
    if plan:
        logger.warning("readiness: %d migration(s) not applied", len(plan))
    return not plan


def readiness() -> dict[str, str]:
    """``{"database": "ok"|"error", "migrations": "ok"|"pending"|"unknown"}``; migrations are not checked when the
    database is down."""
    if not database_ok():
        return {"database": "error", "migrations": "unknown"}
    return {"database": "ok", "migrations": "ok" if migrations_applied() else "pending"}


def _probe_paths() -> dict[str, str]:
    paths = {}
    for name in PROBE_URL_NAMES:
        try:
            paths[reverse(name)] = name
        except NoReverseMatch:  # a test URLconf without them
            continue
    return paths


class HealthProbeMiddleware:
    """Answers the health paths first, before SecurityMiddleware's HTTPS redirect and CommonMiddleware's Host check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        name = _probe_paths().get(request.path)
        # Early only as a probe asks: without a query string. Anything else takes the ordinary way, through the
        # input guard (a NUL in the query is a 400) and the host check.
        if name is None or request.META.get("QUERY_STRING"):
            return self.get_response(request)
        from portal import views

        request.health_probe = name  # for the access log and the metrics, which run outside the URL resolver
        response = views.healthz_live(request) if name == "healthz_live" else views.healthz_ready(request)
        for header, value in PROBE_HEADERS.items():
            response.headers.setdefault(header, value)
        return response
