"""Sessions (idle 15 min, absolute 12 h, new key at login, end on password change/deactivation), headers, passwords."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.password_validation import validate_password
from django.contrib.sessions.models import Session
from django.core.exceptions import ValidationError
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db


def login(client, username):
    response = client.post(reverse("login"), {"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def test_idle_session_ends_server_side_after_15_minutes(client):
    make_user(username="idle")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, "idle")
        key = client.session.session_key
        assert client.get(reverse("portal:home")).status_code == 200
        row = Session.objects.get(session_key=key)
        assert row.expire_date == start + dt.timedelta(seconds=900)
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert client.get(reverse("portal:home")).status_code == 200  # activity renews the 15 minutes
    last = start + dt.timedelta(minutes=14)
    with time_machine.travel(last + dt.timedelta(seconds=901), tick=False):
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        # Server-side: the old row is expired (the cookie alone would not count).
        assert not Session.objects.filter(session_key=key, expire_date__gt=timezone.now()).exists()


def test_keepalive_renews_the_session(client):
    make_user(username="keep")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, "keep")
    with time_machine.travel(start + dt.timedelta(minutes=13), tick=False):
        response = client.post(reverse("portal:keepalive"), HTTP_ACCEPT="application/json")
        assert response.json() == {"status": "ok"}
    with time_machine.travel(start + dt.timedelta(minutes=27), tick=False):
        assert client.get(reverse("portal:home")).status_code == 200


def test_absolute_limit_of_12_hours_despite_activity(client):
    make_user(username="long")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        login(client, "long")
    for minutes in range(10, 12 * 60, 10):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert client.get(reverse("portal:home")).status_code == 200
    with time_machine.travel(start + dt.timedelta(hours=12, seconds=1), tick=False):
        response = client.get(reverse("portal:home"))
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
        assert client.get(reverse("portal:home")).status_code == 302


def test_warning_markup_and_static_script_no_inline_script(client):
    make_user(username="warn")
    login(client, "warn")
    body = client.get(reverse("portal:home")).content.decode()
    assert 'id="session-warning"' in body
    assert 'data-warn-after="780"' in body
    assert 'data-expire-after="900"' in body
    assert 'src="/static/js/session-timeout.js"' in body
    assert "<script>" not in body  # every script has a src


def test_session_key_changes_at_login_and_old_key_is_dead(client):
    make_user(username="fix")
    client.get(reverse("login"))
    client.session.save()
    before = client.session.session_key
    login(client, "fix")
    assert client.session.session_key != before
    assert not Session.objects.filter(session_key=before).exists()


def test_deactivation_ends_open_sessions(client):
    user = make_user(username="leaver")
    login(client, "leaver")
    assert client.get(reverse("portal:home")).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert client.get(reverse("portal:home")).status_code == 302


def test_password_change_ends_other_sessions(client):
    make_user(username="pw")
    other = login(Client(), "pw")
    login(client, "pw")
    new = "a fresh long passphrase 2026"
    client.post(reverse("password_change"), {"old_password": TEST_PASSWORD, "new_password1": new, "new_password2": new})
    assert other.get(reverse("portal:home")).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200


def test_security_headers_on_pages(client):
    make_user(username="hdr")
    login(client, "hdr")
    for url in (reverse("login"), reverse("portal:home"), "/no-such-page/"):
        response = client.get(url)
        csp = response["Content-Security-Policy"]
        for directive in (
            "default-src 'self'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self' data:",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ):
            assert directive in csp, (url, directive)
        assert "unsafe-inline" not in csp
        assert response["X-Frame-Options"] == "DENY"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Referrer-Policy"] == "same-origin"


def test_production_settings_turn_on_https_protections():
    import importlib
    import os

    import portal.settings as portal_settings

    saved = {k: os.environ.get(k) for k in ("DJANGO_DEBUG", "PORTAL_DEMO")}
    try:
        os.environ["DJANGO_DEBUG"] = "0"
        os.environ["PORTAL_DEMO"] = "0"
        prod = importlib.reload(portal_settings)
        assert prod.SECURE_HSTS_SECONDS >= 31_536_000
        assert prod.SECURE_HSTS_INCLUDE_SUBDOMAINS
        assert prod.SESSION_COOKIE_SECURE
        assert prod.CSRF_COOKIE_SECURE
        assert prod.SECURE_SSL_REDIRECT
        assert prod.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
        assert prod.AXES_FAILURE_LIMIT == 10
        assert prod.AXES_LOCKOUT_PARAMETERS == [["username", "ip_address"]]
        assert prod.AUTHENTICATION_BACKENDS[0] == "axes.backends.AxesStandaloneBackend"
        assert prod.MIDDLEWARE[-1] == "axes.middleware.AxesMiddleware"
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        importlib.reload(portal_settings)


def test_argon2_hashes_with_the_production_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = make_user(username="argon")
    assert user.password.startswith("argon2$argon2id$")


@pytest.mark.parametrize(
    ("password", "ok"),
    [
        ("elevenchars", False),  # 11 characters
        ("password1234", False),  # on the common-password list
        ("qwertyuiop123", False),  # common
        ("twelve chars", True),  # 12, lowercase and a space: no composition rules
        ("all lowercase clinic words", True),
        ("ねこねこねこねこねこねこ", True),  # 12 code points
    ],
)
def test_password_rules(password, ok):
    if ok:
        validate_password(password)
    else:
        with pytest.raises(ValidationError):
            validate_password(password)
