"""Prometheus metrics (README "Metrics"): request latency, responses, unhandled exceptions, and gauges that are
read from the database when Prometheus scrapes ``/metrics``.

Higher apps add their gauges without portal importing them: ``register_gauge`` in their ``AppConfig.ready()``
(monitoring registers the open alerts by severity). A gauge source is a function returning ``{label values: value}``
in one query; it runs only at scrape time, so pages pay nothing for it.

``/metrics`` is readable with ``Authorization: Bearer <PORTAL_METRICS_TOKEN>`` (compared in constant time) or from a
loopback address (portal/security/clientip.py, which honours PORTAL_TRUSTED_PROXIES). Anyone else gets the site's
ordinary 404 page, as for an address that does not exist. ``MetricsMiddleware`` sits near the top of MIDDLEWARE: it
observes every request, and answers an allowed scrape before the HTTPS redirect and the ALLOWED_HOSTS check (a
Prometheus server on the same machine scrapes gunicorn over plain HTTP at 127.0.0.1).

With PROMETHEUS_MULTIPROC_DIR set (several gunicorn workers), each worker writes its counters to files there and a
scrape adds them up (prometheus_client's multiprocess mode).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError
from django.urls import NoReverseMatch, reverse
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from portal.requestlog import route_name
from portal.security.clientip import client_ip_address

logger = logging.getLogger(__name__)

METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

REQUEST_SECONDS = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by URL name and method.",
    ["route", "method"],
    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
RESPONSES = Counter("portal_responses", "Responses by status class (2xx, 3xx, 4xx, 5xx).", ["status_class"])
EXCEPTIONS = Counter(
    "portal_unhandled_exceptions", "Exceptions a view raised and did not handle, by URL name.", ["route"]
)


# --- Gauges read at scrape time -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GaugeSource:
    name: str
    documentation: str
    labels: tuple[str, ...]
    read: Callable[[], Mapping[tuple[str, ...], float]]


_GAUGES: dict[str, GaugeSource] = {}


def register_gauge(
    name: str, documentation: str, labels: Sequence[str], read: Callable[[], Mapping[tuple[str, ...], float]]
) -> None:
    """Add a gauge read from the database at each scrape; registering the same name again replaces it."""
    _GAUGES[name] = GaugeSource(name, documentation, tuple(labels), read)


class ScrapeTimeCollector(Collector):
    """The registered gauges, plus ``portal_scrape_source_up`` saying which of them could be read."""

    def collect(self):
        up = GaugeMetricFamily(
            "portal_scrape_source_up", "1 if the gauge could be read at this scrape.", labels=["gauge"]
        )
        for source in list(_GAUGES.values()):
            try:
                values = source.read()
            except DatabaseError:
                logger.warning("metrics: gauge %s could not be read", source.name)
                up.add_metric([source.name], 0)
                continue
            family = GaugeMetricFamily(source.name, source.documentation, labels=list(source.labels))
            for label_values, value in sorted(values.items()):
                family.add_metric(list(label_values), value)
            up.add_metric([source.name], 1)
            yield family
        yield up


def outbox_depth() -> dict[tuple[str, ...], float]:
    """Emails not yet sent, by status (pending, sending, failed), in one query; sent rows are not counted."""
    from django.db.models import Count

    from portal.models import OutboundEmail

    waiting = (OutboundEmail.Status.PENDING, OutboundEmail.Status.SENDING, OutboundEmail.Status.FAILED)
    counts: dict[tuple[str, ...], float] = {(str(s),): 0.0 for s in waiting}
    rows = OutboundEmail.objects.filter(status__in=waiting).values_list("status").annotate(n=Count("id"))
    for status, n in rows.order_by():
        counts[(status,)] = float(n)
    return counts


register_gauge("portal_outbox_emails", "Outbound emails not yet sent, by status.", ["status"], outbox_depth)


class _Scrape(Collector):
    def __init__(self, *collectors: Collector) -> None:
        self.collectors = collectors

    def collect(self):
        for collector in self.collectors:
            yield from collector.collect()


def exposition() -> bytes:
    """The text Prometheus reads: this process's metrics (or every worker's, in multiprocess mode) and the gauges."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
        return generate_latest(_Scrape(registry, ScrapeTimeCollector()))
    return generate_latest(_Scrape(REGISTRY, ScrapeTimeCollector()))


# --- Who may read /metrics ------------------------------------------------------------------------------------------

_FORWARDING_HEADERS = ("HTTP_X_FORWARDED_FOR", "HTTP_FORWARDED", "HTTP_X_REAL_IP")


def _from_loopback(request) -> bool:
    """The client address (through trusted proxies) is a loopback address. A request that an untrusted proxy on
    this machine forwarded (it carries a forwarding header but REMOTE_ADDR is not a trusted proxy) is not: without
    PORTAL_TRUSTED_PROXIES, every request through a local nginx would otherwise look like loopback."""
    remote = request.META.get("REMOTE_ADDR") or ""
    try:
        remote_ip = ipaddress.ip_address(remote)
    except ValueError:
        return False
    trusted = [ipaddress.ip_network(n, strict=False) for n in settings.PORTAL_TRUSTED_PROXIES]
    if not any(remote_ip in n for n in trusted) and any(request.META.get(h) for h in _FORWARDING_HEADERS):
        return False
    try:
        return ipaddress.ip_address(client_ip_address(request) or "").is_loopback
    except ValueError:
        return False


def _has_token(request) -> bool:
    token = settings.PORTAL_METRICS_TOKEN
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(sent.strip().encode(), token.encode())


def may_read_metrics(request) -> bool:
    return _has_token(request) or _from_loopback(request)


def _metrics_path() -> str | None:
    try:
        return reverse("metrics")
    except NoReverseMatch:
        return None


# --- The middleware -------------------------------------------------------------------------------------------------

METRICS_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
}


class MetricsMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        # Early only for a plain scrape (no query string); anything else goes through the input guard as usual.
        if request.path == _metrics_path() and not request.META.get("QUERY_STRING") and may_read_metrics(request):
            from portal.views import metrics

            request.health_probe = "metrics"  # no access-log line for each scrape either
            response = metrics(request)
            for header, value in METRICS_HEADERS.items():
                response.headers.setdefault(header, value)
        else:
            response = self.get_response(request)
        route = route_name(request)
        method = request.method if request.method in METHODS else "other"
        REQUEST_SECONDS.labels(route, method).observe(time.perf_counter() - started)
        RESPONSES.labels(f"{response.status_code // 100}xx").inc()
        return response

    def process_exception(self, request, exception):
        EXCEPTIONS.labels(route_name(request)).inc()
