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
from portal.security import devices, lockout
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


def full_login(client, username, ip="10.1.1.1"):
    response = attempt(client, username, TEST_PASSWORD, ip=ip)
    assert response.status_code == 302
    client.post(reverse("logout"))
    return response


def spray(username, n, ip=None):
    """An attacker's wrong passwords for ``username`` from fresh browsers (no device cookie)."""
    for i in range(n):
        attempt(Client(), username, ip=ip or f"10.66.{i // 200}.{i % 200 + 1}")


def test_a_password_spray_does_not_lock_the_user_out_of_a_known_browser(client, settings):
    """Pen test F13: 30 wrong passwords from 30 addresses locked the real user out for an hour."""
    make_user(username="alice")
    first = full_login(client, "alice")
    assert devices.COOKIE_NAME in first.cookies
    spray("alice", settings.PORTAL_USERNAME_FAILURE_CAP)
    spray("alice", 10, ip="10.1.1.1")  # and the pair lock on alice's own address
    assert attempt(Client(), "alice", TEST_PASSWORD, ip="10.77.0.1").status_code == 429  # unknown browser
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.1.1.1").status_code == 302  # alice's browser


def test_behind_nginx_ten_wrong_passwords_do_not_lock_a_known_browser(client):
    """Without PORTAL_TRUSTED_PROXIES every client is 127.0.0.1; the known browser still gets in."""
    make_user(username="alice")
    full_login(client, "alice", ip="127.0.0.1")
    spray("alice", 10, ip="127.0.0.1")
    assert attempt(Client(), "alice", TEST_PASSWORD, ip="127.0.0.1").status_code == 429
    assert attempt(client, "alice", TEST_PASSWORD, ip="127.0.0.1").status_code == 302


def test_a_known_browser_has_its_own_count(client):
    make_user(username="alice")
    full_login(client, "alice")
    for _ in range(9):
        assert attempt(client, "alice").status_code == 200
    locked = attempt(client, "alice")
    assert locked.status_code == 429
    assert 0 < int(locked["Retry-After"]) <= 15 * 60
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 429
    assert AuditEvent.objects.filter(action="locked_out", object_id="alice").exists()
    # Its failures are its own: they neither lock the username elsewhere nor count towards the cap.
    assert attempt(Client(), "alice", TEST_PASSWORD, ip="10.1.1.1").status_code == 302
    assert lockout.username_failures("alice") == []
    assert not AccessAttempt.objects.filter(username="alice").exists()


def test_the_known_browser_lock_lifts_and_a_log_in_starts_a_new_count(client):
    make_user(username="alice")
    full_login(client, "alice")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for _ in range(10):
            attempt(client, "alice")
    with time_machine.travel(start + dt.timedelta(minutes=15, seconds=5), tick=False):
        full_login(client, "alice")
        for _ in range(9):
            assert attempt(client, "alice").status_code == 200


def test_the_cookie_only_helps_the_user_it_was_issued_for(client):
    make_user(username="alice")
    make_user(username="bob")
    full_login(client, "bob")  # the attacker's own account on this browser
    spray("alice", 10, ip="10.1.1.1")
    assert attempt(client, "alice", TEST_PASSWORD, ip="10.1.1.1").status_code == 429


def test_a_forged_or_foreign_cookie_is_ignored(client, settings):
    make_user(username="alice")
    full_login(client, "alice")
    genuine = client.cookies[devices.COOKIE_NAME].value
    spray("alice", 10, ip="10.1.1.1")
    forged = Client()
    forged.cookies[devices.COOKIE_NAME] = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    assert attempt(forged, "alice", TEST_PASSWORD).status_code == 429
    settings.SECRET_KEY = "another-deployment-" + "k" * 40
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 429


def test_the_cookie_is_set_only_after_the_second_step(require_2fa, client, derm):
    from portal.models import AuthenticatorDevice
    from tests.security.conftest import current_code, enrol_response

    response = client.post(reverse("login"), {"username": derm.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    assert devices.COOKIE_NAME not in response.cookies  # password only: not a complete log-in
    enrolled = enrol_response(client, derm)
    device = AuthenticatorDevice.objects.get(user=derm, confirmed=True)
    cookie = enrolled.cookies[devices.COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Strict"
    assert cookie["path"] == "/accounts/"
    client.post(reverse("logout"))
    response = client.post(reverse("login"), {"username": derm.username, "password": TEST_PASSWORD})
    assert devices.COOKIE_NAME not in response.cookies
    verified = client.post(reverse("otp_verify"), {"token": current_code(device, offset_steps=1)})
    assert verified.status_code == 302
    assert verified.cookies[devices.COOKIE_NAME].value != cookie.value  # a new device id each time


def test_a_locked_known_browser_is_listed_and_unlocked(client, superuser):
    make_user(username="alice")
    full_login(client, "alice")
    for _ in range(10):
        attempt(client, "alice")
    admin = Client()
    admin.force_login(superuser)
    page = admin.get(reverse("portal:unlock")).content.decode()
    assert "alice" in page
    assert "1 known browser" in page
    admin.post(reverse("portal:unlock"), {"username": "alice"})
    assert b"No usernames are locked right now." in admin.get(reverse("portal:unlock")).content
    assert attempt(client, "alice", TEST_PASSWORD).status_code == 302
