"""Brute force: ten wrong passwords lock that username (for a while), not other users on the same address."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent
from tests.factories import TEST_PASSWORD, make_user

pytestmark = pytest.mark.django_db
WRONG = "wrong-password-000"


def attempt(client, username, password=WRONG, ip="10.1.1.1"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=ip)


def test_ten_wrong_passwords_lock_the_username_not_colleagues(client):
    make_user(username="alice")
    make_user(username="bob")
    for _ in range(9):
        assert attempt(client, "alice").status_code == 200
    locked = attempt(client, "alice")  # the tenth
    assert locked.status_code == 429
    assert b"Log-in temporarily locked" in locked.content
    assert b"locked until" in locked.content
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    # Even the right password is refused now, from that address.
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 429
    # A colleague on the same address logs in normally.
    other = Client()
    assert attempt(other, "bob", TEST_PASSWORD).status_code == 302
    assert AuditEvent.objects.filter(action="locked_out", object_id="alice").exists()


def test_lock_lifts_after_fifteen_minutes(client):
    make_user(username="alice")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            attempt(client, "alice")
        assert attempt(client, "alice", TEST_PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=14), tick=False):
        assert attempt(client, "alice", TEST_PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=5), tick=False):
        assert attempt(client, "alice", TEST_PASSWORD).status_code == 302


def test_refused_attempts_during_lockout_do_not_extend_it(client):
    make_user(username="alice")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            attempt(client, "alice")
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        assert attempt(client, "alice").status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=5), tick=False):
        assert attempt(client, "alice", TEST_PASSWORD).status_code == 302


def test_per_username_cap_holds_across_addresses(client, settings):
    """Rotating addresses does not give more guesses: 30 failures an hour per username, from anywhere."""
    make_user(username="alice")
    for n in range(settings.PORTAL_USERNAME_FAILURE_CAP):
        assert attempt(client, "alice", ip=f"10.9.{n // 200}.{n % 200 + 1}").status_code == 200
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.200.0.1").status_code == 429
    make_user(username="bob")
    assert attempt(Client(), "bob", TEST_PASSWORD, ip="10.200.0.1").status_code == 302


def test_superuser_unlock_is_audited(client, superuser, derm):
    make_user(username="alice")
    for _ in range(10):
        attempt(client, "alice")
    admin = Client()
    admin.force_login(superuser)
    page = admin.get(reverse("portal:unlock"))
    assert page.status_code == 200
    assert b"alice" in page.content
    response = admin.post(reverse("portal:unlock"), {"username": "alice"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="unlock")
    assert event.actor == superuser
    assert event.object_id == "alice"
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 302
    staff = Client()
    staff.force_login(derm)
    assert staff.post(reverse("portal:unlock"), {"username": "alice"}).status_code == 403
    assert AuditEvent.objects.filter(action="unlock").count() == 1


def test_unlock_clears_the_per_username_cap(client, superuser, settings):
    make_user(username="alice")
    for n in range(settings.PORTAL_USERNAME_FAILURE_CAP):
        attempt(client, "alice", ip=f"10.8.0.{n + 1}")
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.8.1.1").status_code == 429
    admin = Client()
    admin.force_login(superuser)
    admin.post(reverse("portal:unlock"), {"username": "alice"})
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.8.1.1").status_code == 302


def test_successful_login_resets_the_count(client):
    make_user(username="alice")
    for _ in range(9):
        attempt(client, "alice")
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for _ in range(9):
        assert attempt(client, "alice").status_code == 200


def test_overlong_username_is_a_failed_login_not_a_server_error(client):
    response = attempt(client, "a" * 5000)
    assert response.status_code == 200
    assert AuditEvent.objects.filter(action="login_failed", actor_username="a" * 150).exists()


def via_nginx(client, username, client_ip, password=WRONG, forwarded_for=None):
    """A log-in through the README's nginx: REMOTE_ADDR is nginx, the client is in X-Forwarded-For."""
    return client.post(
        reverse("login"),
        {"username": username, "password": password},
        REMOTE_ADDR="127.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded_for or client_ip,
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_count(client, settings):
    """Pen test F13: behind nginx every client was 127.0.0.1, so ten wrong passwords locked a user everywhere."""
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32"]
    make_user(username="alice")
    for _ in range(10):
        via_nginx(client, "alice", "203.0.113.66")
    assert via_nginx(client, "alice", "203.0.113.66", TEST_PASSWORD).status_code == 429
    assert via_nginx(Client(), "alice", "198.51.100.7", TEST_PASSWORD).status_code == 302
    assert AccessAttempt.objects.get(username="alice").ip_address == "203.0.113.66"


def test_a_forged_forwarded_for_header_buys_no_guesses(client, settings):
    """Without a trusted proxy the header is ignored; through one, only the address nginx appended counts."""
    make_user(username="alice")
    for n in range(10):
        client.post(
            reverse("login"),
            {"username": "alice", "password": WRONG},
            REMOTE_ADDR="10.1.1.1",
            HTTP_X_FORWARDED_FOR=f"10.7.0.{n}",
        )
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.1.1.1").status_code == 429
    settings.PORTAL_TRUSTED_PROXIES = ["127.0.0.1/32"]
    make_user(username="bob")
    for n in range(10):
        via_nginx(client, "bob", "", forwarded_for=f"10.7.0.{n}, 203.0.113.66")
    assert via_nginx(client, "bob", "203.0.113.66", TEST_PASSWORD).status_code == 429
