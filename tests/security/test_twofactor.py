"""Second factor: in production a password alone reaches no patient page."""

from __future__ import annotations

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client
from django.urls import reverse

from portal.demo import DEMO_PASSWORD
from portal.models import AuditEvent, AuthenticatorDevice, BackupCode
from tests.factories import TEST_PASSWORD
from tests.security.conftest import backup_codes_in, current_code, enrol_response, start_enrolment

pytestmark = pytest.mark.django_db


def password_login(client, user, password=TEST_PASSWORD, next_url=""):
    data = {"username": user.username, "password": password}
    if next_url:
        data["next"] = next_url
    return client.post(reverse("login"), data)


def enrol(client, user) -> list[str]:
    return backup_codes_in(enrol_response(client, user))


def test_password_only_session_reaches_no_patient_page(require_2fa, client, derm, canary_patient):
    response = password_login(client, derm)
    assert response.status_code == 302
    for url in (reverse("portal:home"), reverse("patients:list"), canary_patient.get_absolute_url(), "/admin/"):
        page = client.get(url)
        assert page.status_code == 302, url
        assert page["Location"].startswith(reverse("otp_enrol"))
    assert b"Zzcanary" not in client.get(reverse("otp_enrol")).content
    assert not AuditEvent.objects.filter(action="view", object_id=str(canary_patient.pk)).exists()


def test_enrolment_shows_qr_as_image_and_backup_codes_once_hashed(require_2fa, client, derm):
    password_login(client, derm)
    device = start_enrolment(client, derm)
    page = client.get(reverse("otp_enrol"))
    assert b'src="data:image/svg+xml;base64,' in page.content
    assert b"<script>" not in page.content
    codes = backup_codes_in(client.post(reverse("otp_enrol"), {"token": current_code(device)}))
    assert len(codes) == 10
    stored = list(BackupCode.objects.filter(user=derm).values_list("code_hash", flat=True))
    assert len(stored) == 10
    for code, code_hash in zip(codes, stored, strict=False):
        assert code not in code_hash
        assert code.replace("-", "") not in code_hash
        identify_hasher(code_hash)  # a Django password hash
    assert client.get(reverse("portal:home")).status_code == 200  # verified now
    assert AuditEvent.objects.filter(actor=derm, action="otp_enrol").exists()


def test_enrolled_user_gets_otp_step_then_home(require_2fa, client, derm, canary_patient):
    password_login(client, derm)
    enrol(client, derm)
    client.post(reverse("logout"))
    response = password_login(client, derm, next_url=canary_patient.get_absolute_url())
    step = client.get(response["Location"])
    assert step.status_code == 302
    assert step["Location"].startswith(reverse("otp_verify"))
    wrong = client.post(step["Location"], {"token": "000000"})
    assert wrong.status_code == 200
    assert b"That code is not right" in wrong.content
    device = AuthenticatorDevice.objects.get(user=derm, confirmed=True)
    device.throttling_failure_count = 0
    device.throttling_failure_timestamp = None
    device.save()
    before = client.session.session_key
    ok = client.post(step["Location"], {"token": current_code(device, offset_steps=1)})
    assert ok.status_code == 302
    assert ok["Location"] == canary_patient.get_absolute_url()
    assert client.session.session_key != before
    assert client.get(canary_patient.get_absolute_url()).status_code == 200


def test_backup_code_works_once(require_2fa, client, derm):
    password_login(client, derm)
    codes = enrol(client, derm)
    client.post(reverse("logout"))
    password_login(client, derm)
    assert client.post(reverse("otp_verify"), {"token": codes[0].upper()}).status_code == 302
    assert client.get(reverse("portal:home")).status_code == 200
    client.post(reverse("logout"))
    password_login(client, derm)
    again = client.post(reverse("otp_verify"), {"token": codes[0]})
    assert again.status_code == 200
    assert BackupCode.objects.filter(user=derm, used_at__isnull=False).count() == 1


def test_wrong_codes_are_throttled(require_2fa, client, derm):
    password_login(client, derm)
    enrol(client, derm)
    client.post(reverse("logout"))
    password_login(client, derm)
    client.post(reverse("otp_verify"), {"token": "111111"})
    device = AuthenticatorDevice.objects.get(user=derm, confirmed=True)
    blocked = client.post(reverse("otp_verify"), {"token": current_code(device, offset_steps=1)})
    assert b"Too many wrong codes" in blocked.content
    assert client.get(reverse("portal:home")).status_code == 302


def test_enrolled_user_needs_the_code_even_when_2fa_is_optional(settings, client, derm):
    settings.PORTAL_REQUIRE_2FA = True
    password_login(client, derm)
    enrol(client, derm)
    settings.PORTAL_REQUIRE_2FA = False
    other = Client()
    password_login(other, derm)
    assert other.get(reverse("portal:home"))["Location"].startswith(reverse("otp_verify"))


@pytest.mark.parametrize("demo", [True, False])
def test_demo_accounts_are_exempt_only_in_demo_mode(settings, client, demo):
    from django.core.management import call_command

    settings.PORTAL_DEMO = True
    call_command("setup_demo", verbosity=0)
    settings.PORTAL_DEMO = demo
    settings.PORTAL_REQUIRE_2FA = True
    client.post(reverse("login"), {"username": "demo-derm", "password": DEMO_PASSWORD})
    response = client.get(reverse("patients:list"))
    if demo:
        assert response.status_code == 200
    else:  # demo accounts cannot even log in then (tests/security/test_demo_accounts.py)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))


def test_require_2fa_defaults_to_production():
    import importlib
    import os

    import portal.settings as portal_settings

    saved = {k: os.environ.get(k) for k in ("DJANGO_DEBUG", "PORTAL_DEMO")}
    try:
        os.environ["DJANGO_DEBUG"] = "0"
        os.environ["PORTAL_DEMO"] = "0"
        assert importlib.reload(portal_settings).PORTAL_REQUIRE_2FA is True
        os.environ["PORTAL_DEMO"] = "1"
        assert importlib.reload(portal_settings).PORTAL_REQUIRE_2FA is False
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        importlib.reload(portal_settings)


def _enrolled_at_code_step(client, user) -> AuthenticatorDevice:
    """``user`` has an authenticator and a fresh session that passed only the password step."""
    password_login(client, user)
    enrol(client, user)
    client.post(reverse("logout"))
    password_login(client, user)
    return AuthenticatorDevice.objects.get(user=user, confirmed=True)


def test_a_code_another_request_accepted_meanwhile_is_refused(require_2fa, client, derm):
    """Pen test F12: eight simultaneous requests with one code, three accepted.

    Deterministic version of the race: just after this request first reads the device row, a concurrent
    request accepts the same code and commits. The code must then be refused here, which only happens if the
    check re-reads the row under a lock instead of trusting the copy it read before.
    """
    from django.db.models.signals import post_init

    device = _enrolled_at_code_step(client, derm)
    code = current_code(device, offset_steps=1)  # enrolment used up the current step's code
    raced = []

    def concurrent_request_accepts(sender, instance, **kwargs):
        if raced or not instance.confirmed:
            return
        raced.append(True)
        assert AuthenticatorDevice.objects.get(pk=instance.pk).verify_token(code)  # the other request wins

    post_init.connect(concurrent_request_accepts, sender=AuthenticatorDevice)
    try:
        response = client.post(reverse("otp_verify"), {"token": code})
    finally:
        post_init.disconnect(concurrent_request_accepts, sender=AuthenticatorDevice)
    assert raced
    assert response.status_code == 200
    assert b"That code is not right" in response.content
    assert client.get(reverse("portal:home")).status_code == 302  # still not past the second step


def test_code_check_locks_the_device_row(require_2fa, client, derm):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    device = _enrolled_at_code_step(client, derm)
    with CaptureQueriesContext(connection) as queries:
        assert client.post(reverse("otp_verify"), {"token": current_code(device, offset_steps=1)}).status_code == 302
    device_reads = [q["sql"] for q in queries if 'FROM "portal_authenticatordevice"' in q["sql"]]
    assert device_reads
    if connection.features.has_select_for_update:  # PostgreSQL; SQLite serialises whole transactions instead
        assert any("FOR UPDATE" in sql for sql in device_reads), device_reads


@pytest.mark.skipif(
    not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
    reason="real concurrent transactions need PostgreSQL (SQLite serialises them)",
)
@pytest.mark.django_db(transaction=True)
def test_eight_simultaneous_checks_of_one_code_accept_it_once(require_2fa):
    import threading

    from django.db import connection

    from portal.security import twofactor
    from tests.factories import make_user

    user = make_user()
    device = AuthenticatorDevice(user=user, name="app", confirmed=True)
    device.set_secret(b"0123456789abcdefghij")
    device.save()
    code = current_code(device)
    barrier = threading.Barrier(8)
    results = []

    def check():
        try:
            barrier.wait(timeout=10)
            results.append(twofactor.second_factor_verify(user=user, device_id=device.pk, token=code))
        finally:
            connection.close()

    threads = [threading.Thread(target=check) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 8
    assert results.count(twofactor.Verification.APP_CODE) == 1
