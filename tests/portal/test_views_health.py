"""Health probes (portal/health.py): liveness without the database, readiness with it, both for a load balancer."""

import pytest
from django.db import OperationalError
from django.db.migrations.recorder import MigrationRecorder
from django.urls import reverse

PROBES = ("healthz", "healthz_live", "healthz_ready")


class BrokenConnection:
    def cursor(self):
        raise OperationalError("connection refused")


@pytest.mark.django_db
def test_liveness_answers_without_login_and_without_any_query(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get(reverse("healthz_live"))
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_liveness_stays_up_while_the_database_is_down(client, monkeypatch):
    monkeypatch.setattr("portal.health.connection", BrokenConnection())
    assert client.get(reverse("healthz_live")).status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["healthz_ready", "healthz"])
def test_readiness_ok_without_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "migrations": "ok"}


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["healthz_ready", "healthz"])
def test_readiness_reports_database_down(client, monkeypatch, name):
    monkeypatch.setattr("portal.health.connection", BrokenConnection())
    response = client.get(reverse(name))
    assert response.status_code == 503
    assert response.json() == {
        "status": "error",
        "database": "error",
        "migrations": "unknown",
        "failed": ["database", "migrations"],
    }
    assert "refused" not in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["healthz_ready", "healthz"])
def test_readiness_reports_an_unapplied_migration(client, name):
    """A real pending migration: the newest portal migration's row is removed from django_migrations (rolled back
    with the test's transaction), as after a deploy that skipped ``migrate``."""
    recorder = MigrationRecorder.Migration.objects
    latest = recorder.filter(app="portal").order_by("-name").first()
    latest.delete()
    response = client.get(reverse(name))
    assert response.status_code == 503
    assert response.json() == {"status": "error", "database": "ok", "migrations": "pending", "failed": ["migrations"]}


@pytest.mark.django_db
@pytest.mark.parametrize("name", PROBES)
def test_probes_are_get_only(client, name):
    assert client.post(reverse(name)).status_code == 405


@pytest.mark.django_db
@pytest.mark.parametrize("name", PROBES)
def test_probes_answer_plain_http_by_ip_with_the_https_redirect_on(client, settings, name):
    """A load balancer probes a backend over plain HTTP, by its IP address, which is not in ALLOWED_HOSTS."""
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.clinic.example"]
    response = client.get(reverse(name), HTTP_HOST="10.20.30.40:8001")
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"] == "application/json"
    assert "frame-ancestors 'none'" in response["Content-Security-Policy"]


@pytest.mark.django_db
def test_other_pages_still_redirect_to_https_and_check_the_host(client, settings):
    settings.SECURE_SSL_REDIRECT = True
    settings.ALLOWED_HOSTS = ["portal.clinic.example"]
    assert client.get(reverse("login"), HTTP_HOST="portal.clinic.example").status_code == 301
    assert client.get(reverse("login"), HTTP_HOST="10.20.30.40").status_code == 400
    assert client.get("/healthz/livex", HTTP_HOST="portal.clinic.example").status_code == 301


def test_production_settings_exempt_the_probes_from_the_https_redirect():
    import re

    from django.conf import settings

    exempt = [re.compile(pattern) for pattern in settings.SECURE_REDIRECT_EXEMPT]
    for name in PROBES:
        assert any(p.search(reverse(name).lstrip("/")) for p in exempt), name
    assert not any(p.search("healthz/livex") or p.search("accounts/login/") for p in exempt)
