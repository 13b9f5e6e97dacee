from __future__ import annotations

import logging
import sys

from django.contrib.auth.decorators import login_not_required
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseNotAllowed, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_safe
from prometheus_client import CONTENT_TYPE_LATEST

from portal import health, roles
from portal import metrics as portal_metrics
from portal.home import sections_for

logger = logging.getLogger(__name__)


@require_safe  # a read page: a POST is refused (405)
def home(request):
    user = request.user
    role_cards = [{"name": name, "description": roles.ROLE_DESCRIPTIONS[name]} for name in user.role_names]
    return render(
        request,
        "portal/home.html",
        {"role_cards": role_cards, "sections": sections_for(user), "has_role": bool(role_cards)},
    )


@login_not_required
@require_GET
@never_cache
def healthz_live(request):
    """Liveness: the process answers. No database access at all (portal/health.py)."""
    return JsonResponse({"status": "ok"})


@login_not_required
@require_GET
@never_cache
def healthz_ready(request):
    """Readiness (also served at /healthz): one database round trip and every migration applied; 503 otherwise,
    naming the check that failed."""
    checks = health.readiness()
    failed = [name for name, state in checks.items() if state != "ok"]
    if failed:
        return JsonResponse({"status": "error", **checks, "failed": failed}, status=503)
    return JsonResponse({"status": "ok", **checks})


@csrf_exempt
@login_not_required
def metrics(request):
    """Prometheus metrics (portal/metrics.py) for a bearer token or a loopback client. Anyone else gets the ordinary
    404 page, before any other check (method, CSRF, log-in), so the answer is that of an address that does not
    exist."""
    if not portal_metrics.may_read_metrics(request):
        raise Http404
    if request.method != "GET":
        return HttpResponseNotAllowed(["GET"])
    return HttpResponse(portal_metrics.exposition(), content_type=CONTENT_TYPE_LATEST)


@require_GET
def bench_ok(request):
    """Only routed with PORTAL_BENCH on: login required, one tiny response, no queries beyond session and user."""
    return HttpResponse(f"ok {request.user.pk}", content_type="text/plain")


def permission_denied(request, exception=None):
    return render(request, "403.html", status=403)


def page_not_found(request, exception=None):
    return render(request, "404.html", status=404)


# Seconds a browser or load balancer should wait before retrying while the database is unreachable.
DATABASE_RETRY_AFTER = 30


def server_error(request):
    """The error page for an uncaught exception. A lost database connection (a PostgreSQL restart or failover,
    "database is locked" on SQLite) is a 503 "try again in a moment" with Retry-After, not a 500: nothing was saved
    (ATOMIC_REQUESTS rolled it back) and the same request will work once the database is back. Rendered without
    the request's context processors, which would query the database that just failed."""
    exc = sys.exc_info()[1]
    if isinstance(exc, OperationalError | InterfaceError):
        logger.warning("database unavailable: %s", exc.__class__.__name__)
        response = HttpResponse(loader.get_template("503.html").render(), status=503)
        response["Retry-After"] = str(DATABASE_RETRY_AFTER)
        return response
    return HttpResponse(loader.get_template("500.html").render(), status=500)
