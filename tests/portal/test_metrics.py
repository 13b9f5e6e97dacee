"""/metrics (portal/metrics.py): who may read it, what it holds, and that it names no patient."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from prometheus_client import REGISTRY

from portal import metrics
from tests.factories import CANARY, make_patient

TOKEN = "metrics-token-for-tests-only-0123456789"
ELSEWHERE = "203.0.113.9"  # a documentation address: not loopback
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def token(settings):
    settings.PORTAL_METRICS_TOKEN = TOKEN
    return TOKEN


def scrape(client=None, **headers):
    return (client or Client()).get(reverse("metrics"), **headers)


def not_found_page(**headers):
    return Client().get("/no-such-address", **headers)


# --- Access -------------------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_loopback_client_reads_metrics_without_a_token():
    response = scrape(REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]
    assert scrape(REMOTE_ADDR="::1").status_code == 200


@pytest.mark.django_db
def test_another_address_gets_the_ordinary_404_page():
    response = scrape(REMOTE_ADDR=ELSEWHERE)
    assert response.status_code == 404
    assert response.content == not_found_page(REMOTE_ADDR=ELSEWHERE).content
    assert b"portal_" not in response.content


@pytest.mark.django_db
def test_the_right_token_from_another_address(token):
    response = scrape(REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert b"portal_request_duration_seconds" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization",
    [f"Bearer {TOKEN}x", f"Bearer {TOKEN[:-1]}", "Bearer ", f"Basic {TOKEN}", TOKEN, f"Token {TOKEN}", ""],
)
def test_a_wrong_token_gets_404(token, authorization):
    response = scrape(REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION=authorization)
    assert response.status_code == 404


@pytest.mark.django_db
def test_no_token_configured_means_no_bearer_access(settings):
    settings.PORTAL_METRICS_TOKEN = ""
    assert scrape(REMOTE_ADDR=ELSEWHERE, HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.django_db
def test_a_request_forwarded_by_an_untrusted_local_proxy_is_not_loopback(settings):
    """nginx on the same machine without PORTAL_TRUSTED_PROXIES: REMOTE_ADDR is 127.0.0.1 for every visitor."""
    settings.PORTAL_TRUSTED_PROXIES = []
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 404
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP=ELSEWHERE).status_code == 404


@pytest.mark.django_db
def test_behind_a_trusted_proxy_the_real_client_address_counts(settings, token):
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32"]
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=ELSEWHERE).status_code == 404
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 200
    forwarded = {"HTTP_X_FORWARDED_FOR": ELSEWHERE, "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert scrape(REMOTE_ADDR="127.0.0.1", **forwarded).status_code == 200


@pytest.mark.django_db
def test_refused_posts_and_signed_in_users_get_404_too(derm):
    assert Client().post(reverse("metrics"), REMOTE_ADDR=ELSEWHERE).status_code == 404  # not 403 (CSRF) or 405
    client = Client()
    client.force_login(derm)
    assert scrape(client, REMOTE_ADDR=ELSEWHERE).status_code == 404  # a log-in grants nothing here
    assert Client().post(reverse("metrics"), REMOTE_ADDR="127.0.0.1").status_code == 405


@pytest.mark.django_db
def test_an_allowed_scrape_is_answered_over_plain_http_by_ip_and_a_refused_one_redirects_like_any_page(settings, token):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.clinic.example"]
    assert scrape(REMOTE_ADDR="127.0.0.1", HTTP_HOST="127.0.0.1:8001").status_code == 200
    allowed = {"REMOTE_ADDR": ELSEWHERE, "HTTP_HOST": "10.0.0.5:8001", "HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert scrape(**allowed).status_code == 200
    refused = scrape(REMOTE_ADDR=ELSEWHERE, HTTP_HOST="portal.clinic.example")
    assert refused.status_code == not_found_page(REMOTE_ADDR=ELSEWHERE, HTTP_HOST="portal.clinic.example").status_code
    assert refused.status_code == 301


# --- Content ------------------------------------------------------------------------------------------------------


def sample(name, **labels):
    return REGISTRY.get_sample_value(name, labels) or 0.0


@pytest.mark.django_db
def test_requests_are_counted_by_url_name_method_and_status_class(derm):
    client = Client()
    client.force_login(derm)
    before = sample("portal_request_duration_seconds_count", route="portal:home", method="GET")
    ok_before = sample("portal_responses_total", status_class="2xx")
    missing_before = sample("portal_responses_total", status_class="4xx")
    client.get(reverse("portal:home"))
    client.get(reverse("portal:home"))
    client.get("/no-such-address")
    assert sample("portal_request_duration_seconds_count", route="portal:home", method="GET") == before + 2
    assert sample("portal_responses_total", status_class="2xx") >= ok_before + 2
    assert sample("portal_responses_total", status_class="4xx") >= missing_before + 1
    text = scrape(REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'portal_request_duration_seconds_bucket{le="0.1",method="GET",route="portal:home"}' in text


@pytest.mark.django_db
def test_unknown_methods_do_not_make_new_series(client):
    client.generic("BREW", reverse("login"))
    assert sample("portal_request_duration_seconds_count", route="login", method="other") >= 1
    assert "BREW" not in scrape(REMOTE_ADDR="127.0.0.1").content.decode()


@pytest.mark.django_db
def test_unhandled_exceptions_are_counted(derm, settings):
    settings.ROOT_URLCONF = "tests.portal.db_down_urls"
    client = Client(raise_request_exception=False)
    client.force_login(derm)
    route = "tests.portal.test_views_errors.boom"
    before = sample("portal_unhandled_exceptions_total", route=route)
    five_before = sample("portal_responses_total", status_class="5xx")
    assert client.get("/boom/").status_code == 500
    assert sample("portal_unhandled_exceptions_total", route=route) == before + 1
    assert sample("portal_responses_total", status_class="5xx") == five_before + 1


@pytest.mark.django_db
def test_open_alerts_by_severity_and_outbox_depth_and_no_patient_data(derm, django_assert_max_num_queries):
    from monitoring.models import Alert
    from portal.models import OutboundEmail

    patient = make_patient(clinic=derm.clinic, dermatologist=derm, given_name=f"{CANARY}Gauge", family_name=CANARY)
    for severity, status in (
        (Alert.Severity.URGENT, Alert.Status.OPEN),
        (Alert.Severity.URGENT, Alert.Status.OPEN),
        (Alert.Severity.ROUTINE, Alert.Status.OPEN),
        (Alert.Severity.URGENT, Alert.Status.ACKNOWLEDGED),
    ):
        Alert.objects.create(
            patient=patient,
            recipient=derm,
            kind=Alert.Kind.LAB_ACTION,
            severity=severity,
            status=status,
            title=f"{CANARY} title",
            reason=f"{CANARY} reason",
            advice="test",
            acknowledged_at=None if status == Alert.Status.OPEN else timezone.now(),
        )
    for n, status in enumerate(["pending", "pending", "failed", "sent", "sending"]):
        OutboundEmail.objects.create(
            dedupe_key=f"k{n}", recipients=["d@example.org"], subject=f"{CANARY}", body=CANARY, status=status
        )
    with django_assert_max_num_queries(len(metrics._GAUGES)):  # one per gauge
        text = metrics.exposition().decode()
    assert 'portal_open_alerts{severity="urgent"} 2.0' in text
    assert 'portal_open_alerts{severity="same_day"} 0.0' in text
    assert 'portal_open_alerts{severity="routine"} 1.0' in text
    assert 'portal_outbox_emails{status="pending"} 2.0' in text
    assert 'portal_outbox_emails{status="failed"} 1.0' in text
    assert 'portal_outbox_emails{status="sending"} 1.0' in text
    assert 'status="sent"' not in text
    assert 'portal_scrape_source_up{gauge="portal_open_alerts"} 1.0' in text

    client = Client()
    client.force_login(derm)
    client.get(reverse("patients:detail", args=[patient.public_id]))
    text = scrape(REMOTE_ADDR="127.0.0.1").content.decode()
    assert CANARY.lower() not in text.lower()
    assert str(patient.public_id) not in text
    assert derm.username not in text
    assert 'route="patients:detail"' in text


@pytest.mark.django_db
def test_a_gauge_that_cannot_be_read_is_reported_not_fatal(monkeypatch):
    def broken():
        raise OperationalError("database is away")

    broken_source = metrics.GaugeSource("portal_outbox_emails", "x", ("status",), broken)
    monkeypatch.setitem(metrics._GAUGES, "portal_outbox_emails", broken_source)
    response = scrape(REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    text = response.content.decode()
    assert 'portal_scrape_source_up{gauge="portal_outbox_emails"} 0.0' in text
    assert 'portal_scrape_source_up{gauge="portal_open_alerts"} 1.0' in text
    assert "away" not in text


def test_multiprocess_mode_adds_up_the_workers(tmp_path):
    """Two processes (as two gunicorn workers) write to PROMETHEUS_MULTIPROC_DIR; a scrape in a third adds them up."""
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path), "DJANGO_SETTINGS_MODULE": "tests.settings"}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path}/empty.sqlite3"  # no tables: the gauges report source_up 0
    setup = "import django; django.setup(); from django.test import Client; from portal import metrics; "
    worker = setup + "[Client().get('/healthz/live') for _ in range(3)]"
    for _ in range(2):
        subprocess.run([sys.executable, "-c", worker], cwd=ROOT, env=env, check=True, timeout=60)
    result = subprocess.run(
        [sys.executable, "-c", setup + "print(metrics.exposition().decode())"],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=60,
        capture_output=True,
        text=True,
    )
    assert 'portal_request_duration_seconds_count{method="GET",route="healthz_live"} 6.0' in result.stdout
    assert 'portal_scrape_source_up{gauge="portal_open_alerts"} 0.0' in result.stdout
