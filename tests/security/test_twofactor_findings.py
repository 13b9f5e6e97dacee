"""Pen test issue 18 (F3, F4, F15) and encryption at rest of the authenticator secrets."""

from __future__ import annotations

import base64
from datetime import timedelta

import pytest
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import AuditEvent, AuthenticatorDevice, BackupCode, EnrolmentCode
from portal.security import secretbox, twofactor
from tests.factories import TEST_PASSWORD, make_user
from tests.security.conftest import (
    backup_codes_in,
    current_code,
    enrol_response,
    issue_enrolment_code,
    start_enrolment,
)

pytestmark = pytest.mark.django_db


def password_login(client, user):
    response = client.post(reverse("login"), {"username": user.username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return response


@pytest.fixture
def derm_with_email(derm):
    derm.email = "derm@clinic.example"
    derm.save(update_fields=["email"])
    return derm


def _verified_client(user) -> tuple[Client, AuthenticatorDevice, list[str]]:
    client = Client()
    password_login(client, user)
    codes = backup_codes_in(enrol_response(client, user))
    return client, AuthenticatorDevice.objects.get(user=user, confirmed=True), codes


# --- F3: one secret per attempt and per session ------------------------------------------------------------------


def test_each_session_sees_its_own_secret_and_only_it_confirms(require_2fa, derm):
    first, second = Client(), Client()
    password_login(first, derm)
    password_login(second, derm)
    device_1 = start_enrolment(first, derm)
    device_2 = start_enrolment(second, derm)
    assert device_1.pk != device_2.pk
    assert device_1.bin_key != device_2.bin_key
    page_1 = first.get(reverse("otp_enrol")).content.decode()
    page_2 = second.get(reverse("otp_enrol")).content.decode()
    assert twofactor.manual_key(device_1) in page_1
    assert twofactor.manual_key(device_1) not in page_2
    # The first session types a code of the secret the second session was shown: refused.
    refused = first.post(reverse("otp_enrol"), {"token": current_code(device_2)})
    assert b"That code does not match" in refused.content
    assert not AuthenticatorDevice.objects.filter(user=derm, confirmed=True).exists()
    # Its own secret works (once the throttle of the wrong try has passed); the other attempt is then gone for good.
    AuthenticatorDevice.objects.filter(pk=device_1.pk).update(throttling_failure_count=0)
    assert first.post(reverse("otp_enrol"), {"token": current_code(device_1, offset_steps=1)}).status_code == 200
    assert AuthenticatorDevice.objects.get(user=derm, confirmed=True).pk == device_1.pk
    assert not AuthenticatorDevice.objects.filter(pk=device_2.pk).exists()
    late = second.post(reverse("otp_enrol"), {"token": current_code(device_2)})
    assert b"otp-qr" not in late.content  # back at the unlock step, no secret shown
    assert AuthenticatorDevice.objects.filter(user=derm).count() == 1


def test_a_secret_from_another_session_never_confirms_even_with_its_id(require_2fa, derm):
    owner, attacker = Client(), Client()
    password_login(owner, derm)
    password_login(attacker, derm)
    device = start_enrolment(owner, derm)
    session = attacker.session
    session[twofactor.PENDING_SESSION_KEY] = device.pk  # even knowing the row id
    session.save()
    response = attacker.post(reverse("otp_enrol"), {"token": current_code(device)})
    assert b"otp-qr" not in response.content
    device.refresh_from_db()
    assert device.confirmed is False


def test_reload_keeps_the_secret_a_new_attempt_gets_a_fresh_one(require_2fa, client, derm):
    password_login(client, derm)
    device = start_enrolment(client, derm)
    assert twofactor.manual_key(device) in client.get(reverse("otp_enrol")).content.decode()
    assert twofactor.manual_key(device) in client.get(reverse("otp_enrol")).content.decode()
    again = twofactor.enrolment_attempt_start(user=derm, session=client.session)
    assert again.bin_key != device.bin_key
    assert not AuthenticatorDevice.objects.filter(pk=device.pk).exists()  # the earlier attempt of this session


def test_confirming_locks_the_pending_row(require_2fa, client, derm):
    password_login(client, derm)
    device = start_enrolment(client, derm)
    with CaptureQueriesContext(connection) as queries:
        assert client.post(reverse("otp_enrol"), {"token": current_code(device)}).status_code == 200
    reads = [q["sql"] for q in queries if 'FROM "portal_authenticatordevice"' in q["sql"]]
    assert reads
    if connection.features.has_select_for_update:  # the page's plain read first, then the locked one that confirms
        assert any("FOR UPDATE" in sql and "session_key_hash" in sql for sql in reads), reads


def test_one_code_confirms_an_attempt_once(require_2fa, client, derm):
    password_login(client, derm)
    device = start_enrolment(client, derm)
    code = current_code(device)
    assert twofactor.totp_enrol_confirm(user=derm, session=client.session, token=code) is not None
    assert twofactor.totp_enrol_confirm(user=derm, session=client.session, token=code) is None


# --- F4: no enrolment with the password alone --------------------------------------------------------------------


def test_password_alone_shows_no_secret_and_creates_no_device(require_2fa, client, derm):
    password_login(client, derm)
    page = client.get(reverse("otp_enrol"))
    assert page.status_code == 200
    assert b"Enrolment code" in page.content
    assert b"otp-qr" not in page.content
    assert b"otp-key" not in page.content
    assert not AuthenticatorDevice.objects.filter(user=derm).exists()
    # Posting a code for a secret that was never shown does nothing either.
    client.post(reverse("otp_enrol"), {"token": "123456"})
    assert not AuthenticatorDevice.objects.filter(user=derm).exists()
    assert client.get(reverse("portal:home")).status_code == 302


@pytest.mark.parametrize("case", ["wrong", "expired", "used", "other_user", "superseded"])
def test_enrolment_code_refused(case, require_2fa, client, derm, nurse):
    code = issue_enrolment_code(nurse if case == "other_user" else derm)
    if case == "wrong":
        code = "abcd-efgh-jkmn"
    elif case == "expired":
        EnrolmentCode.objects.filter(user=derm).update(expires_at=timezone.now() - timedelta(seconds=1))
    elif case == "used":
        assert twofactor.enrolment_code_redeem(user=derm, code=code)
    elif case == "superseded":
        issue_enrolment_code(derm)  # a newer code replaces the one the user has
    password_login(client, derm)
    response = client.post(reverse("otp_enrol"), {"enrolment_code": code})
    assert response.status_code == 200
    assert b"That enrolment code is not right, has expired or was used already" in response.content
    assert not AuthenticatorDevice.objects.filter(user=derm).exists()
    assert AuditEvent.objects.filter(actor=derm, action="otp_failed", summary__contains="enrolment code").exists()


def test_enrolment_code_is_hashed_expires_and_works_once(require_2fa, settings, client, derm):
    settings.PORTAL_ENROLMENT_CODE_HOURS = 72
    code = issue_enrolment_code(derm)
    row = EnrolmentCode.objects.get(user=derm)
    identify_hasher(row.code_hash)
    assert code not in row.code_hash
    assert code.replace("-", "") not in row.code_hash
    assert abs(row.expires_at - (timezone.now() + timedelta(hours=72))) < timedelta(minutes=1)
    password_login(client, derm)
    assert client.post(reverse("otp_enrol"), {"enrolment_code": code.upper()}).status_code == 302
    row.refresh_from_db()
    assert row.used_at is not None
    assert AuditEvent.objects.filter(actor=derm, action="enrol_code_used").exists()
    assert not twofactor.enrolment_code_redeem(user=derm, code=code)


def test_admin_reset_removes_the_app_and_shows_an_enrolment_code_once(
    superuser, derm_with_email, django_capture_on_commit_callbacks
):
    derm = derm_with_email
    _client, _device, _codes = _verified_client(derm)
    admin = Client()
    admin.force_login(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        page = admin.post(
            reverse("admin:portal_user_changelist"),
            {"action": "reset_two_step", "_selected_action": [derm.pk]},
        )
    assert page.status_code == 200
    assert "no-cache" in page["Cache-Control"] or "no-store" in page["Cache-Control"]
    assert not AuthenticatorDevice.objects.filter(user=derm).exists()
    assert not BackupCode.objects.filter(user=derm).exists()
    assert AuditEvent.objects.filter(actor=superuser, action="otp_reset", object_id=str(derm.pk)).exists()
    assert AuditEvent.objects.filter(actor=superuser, action="enrol_code_issued", object_id=str(derm.pk)).exists()
    import re

    code = re.search(r"<code>([a-z0-9]{4}-[a-z0-9]{4}-[a-z0-9]{4})</code>", page.content.decode()).group(1)
    subjects_bodies = [(m.to, m.body) for m in mail.outbox]
    assert len(mail.outbox) == 2  # reset, code issued (enrolment email cleared before: none captured)
    for to, body in subjects_bodies:
        assert to == ["derm@clinic.example"]
        assert code not in body
        assert code.replace("-", "") not in body
    assert "administrator removed the authenticator app" in mail.outbox[0].body
    # The user now enrols with the code they were given.
    user_client = Client()
    password_login(user_client, derm)
    assert user_client.post(reverse("otp_enrol"), {"enrolment_code": code}).status_code == 302
    assert b"otp-qr" in user_client.get(reverse("otp_enrol")).content


def test_admin_issue_enrolment_code_action(superuser, derm):
    admin = Client()
    admin.force_login(superuser)
    page = admin.post(
        reverse("admin:portal_user_changelist"), {"action": "issue_enrolment_code", "_selected_action": [derm.pk]}
    )
    assert page.status_code == 200
    assert b"Enrolment codes issued" in page.content
    row = EnrolmentCode.objects.get(user=derm)
    assert row.issued_by == superuser
    assert row.used_at is None


def test_non_superuser_cannot_issue_codes(client, catalogue_admin, derm):
    catalogue_admin.is_staff = True
    catalogue_admin.save()
    client.force_login(catalogue_admin)
    client.post(
        reverse("admin:portal_user_changelist"), {"action": "issue_enrolment_code", "_selected_action": [derm.pk]}
    )
    assert not EnrolmentCode.objects.exists()


def test_management_command_bootstraps_the_first_superuser(require_2fa, capsys):
    root = make_user(username="root", is_superuser=True, is_staff=True)
    call_command("issue_enrolment_code", "root")
    out = capsys.readouterr().out
    code = out.split("Enrolment code for root: ")[1].split()[0]
    client = Client()
    password_login(client, root)
    assert client.post(reverse("otp_enrol"), {"enrolment_code": code}).status_code == 302
    device = AuthenticatorDevice.objects.get(user=root, confirmed=False)
    assert client.post(reverse("otp_enrol"), {"token": current_code(device)}).status_code == 200
    assert client.get("/admin/").status_code == 200


def test_management_command_refuses_unknown_user(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="No account named"):
        call_command("issue_enrolment_code", "nobody")


# --- F15: replacing a factor needs the password and a current code ------------------------------------------------


def test_replacing_the_app_needs_password_and_code(require_2fa, derm_with_email, django_capture_on_commit_callbacks):
    derm = derm_with_email
    client, old, backup = _verified_client(derm)
    page = client.get(reverse("otp_enrol"))
    assert b"Replace your authenticator app" in page.content
    assert b"otp-qr" not in page.content
    wrong_password = client.post(
        reverse("otp_enrol"), {"password": "not-it", "token": current_code(old, offset_steps=1)}
    )
    assert b"That password is not right. Nothing was changed." in wrong_password.content
    AuthenticatorDevice.objects.filter(pk=old.pk).update(throttling_failure_count=0)  # a wrong password throttles
    wrong_code = client.post(reverse("otp_enrol"), {"password": TEST_PASSWORD, "token": "000000"})
    assert b"That code is not right. Nothing was changed." in wrong_code.content
    assert list(AuthenticatorDevice.objects.filter(user=derm).values_list("pk", flat=True)) == [old.pk]
    assert twofactor.PENDING_SESSION_KEY not in client.session
    assert BackupCode.objects.filter(user=derm, used_at__isnull=True).count() == 10
    # The throttle counted the wrong code; reset it so the right one is accepted now.
    AuthenticatorDevice.objects.filter(pk=old.pk).update(throttling_failure_count=0, throttling_failure_timestamp=None)
    unlocked = client.post(
        reverse("otp_enrol"), {"password": TEST_PASSWORD, "token": current_code(old, offset_steps=1)}
    )
    assert unlocked.status_code == 302
    new = AuthenticatorDevice.objects.get(pk=client.session[twofactor.PENDING_SESSION_KEY])
    assert new.bin_key != old.bin_key
    assert AuthenticatorDevice.objects.filter(pk=old.pk, confirmed=True).exists()  # until the new one is confirmed
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("otp_enrol"), {"token": current_code(new)})
    assert done.status_code == 200
    assert list(AuthenticatorDevice.objects.filter(user=derm).values_list("pk", flat=True)) == [new.pk]
    assert not twofactor.backup_code_use(user=derm, code=backup[1])  # the old backup codes are gone
    assert [m.body for m in mail.outbox if "replaced by a new one" in m.body]
    assert AuditEvent.objects.filter(actor=derm, action="otp_enrol", summary="Authenticator app replaced").exists()


def test_a_backup_code_can_stand_in_for_the_app_code(require_2fa, derm):
    client, _old, backup = _verified_client(derm)
    response = client.post(reverse("otp_enrol"), {"password": TEST_PASSWORD, "token": backup[0]})
    assert response.status_code == 302
    assert BackupCode.objects.filter(user=derm, used_at__isnull=False).count() == 1


def test_wrong_password_spends_no_backup_code(require_2fa, derm):
    client, _old, backup = _verified_client(derm)
    client.post(reverse("otp_enrol"), {"password": "wrong", "token": backup[0]})
    assert BackupCode.objects.filter(user=derm, used_at__isnull=False).count() == 0


def test_new_backup_codes_need_password_and_code(require_2fa, derm_with_email, django_capture_on_commit_callbacks):
    derm = derm_with_email
    client, device, old_codes = _verified_client(derm)
    hashes_before = set(BackupCode.objects.filter(user=derm).values_list("code_hash", flat=True))
    form = client.get(reverse("otp_backup_codes"))
    assert form.status_code == 200
    assert not backup_codes_in(form)
    refused = client.post(reverse("otp_backup_codes"), {"password": "nope", "token": current_code(device, 1)})
    assert b"That password is not right" in refused.content
    AuthenticatorDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0)
    refused = client.post(reverse("otp_backup_codes"), {"password": TEST_PASSWORD, "token": ""})
    assert b"This field is required" in refused.content
    assert set(BackupCode.objects.filter(user=derm).values_list("code_hash", flat=True)) == hashes_before
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("otp_backup_codes"), {"password": TEST_PASSWORD, "token": current_code(device, 1)})
    new_codes = backup_codes_in(done)
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)
    assert not twofactor.backup_code_use(user=derm, code=old_codes[3])
    assert twofactor.backup_code_use(user=derm, code=new_codes[3])
    assert AuditEvent.objects.filter(actor=derm, action="backup_codes").exists()
    assert len(mail.outbox) == 1
    assert "New backup codes" in mail.outbox[0].body
    for code in new_codes:
        assert code not in mail.outbox[0].body


def test_backup_codes_page_needs_the_second_step(require_2fa, derm):
    _verified_client(derm)
    client = Client()
    password_login(client, derm)
    response = client.get(reverse("otp_backup_codes"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("otp_verify"))


# --- Emails ------------------------------------------------------------------------------------------------------


def test_enrolment_is_emailed_without_secrets(require_2fa, derm_with_email, django_capture_on_commit_callbacks):
    derm = derm_with_email
    client = Client()
    password_login(client, derm)
    with django_capture_on_commit_callbacks(execute=True):
        code = issue_enrolment_code(derm)
    with django_capture_on_commit_callbacks(execute=True):
        done = enrol_response(client, derm)
    device = AuthenticatorDevice.objects.get(user=derm, confirmed=True)
    bodies = "\n".join(m.body + m.subject for m in mail.outbox)
    assert len(mail.outbox) == 3  # code issued (twice: the helper issues its own), app set up
    assert "An authenticator app was set up" in bodies
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    for forbidden in [secret, device.bin_key.hex(), code, *backup_codes_in(done)]:
        assert forbidden not in bodies


def test_a_failing_mail_does_not_undo_the_change(
    require_2fa, derm_with_email, django_capture_on_commit_callbacks, monkeypatch, caplog
):
    from portal.security import notify

    def broken(*args, **kwargs):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(notify, "send_mail", broken)
    with django_capture_on_commit_callbacks(execute=True):
        code = issue_enrolment_code(derm_with_email)
    assert EnrolmentCode.objects.filter(user=derm_with_email, used_at__isnull=True).exists()
    assert code
    assert "Second-factor change email failed" in caplog.text


def test_no_mail_when_the_change_rolls_back(derm_with_email, django_capture_on_commit_callbacks):
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                issue_enrolment_code(derm_with_email)
                raise RuntimeError
        except RuntimeError:
            pass
    assert mail.outbox == []


# --- Secrets encrypted at rest -----------------------------------------------------------------------------------


def test_the_database_column_holds_no_secret(require_2fa, derm):
    _client, device, _codes = _verified_client(derm)
    secret = device.bin_key
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM portal_authenticatordevice WHERE id = %s", [device.pk])
        raw_row = " ".join(str(value) for value in cursor.fetchone())
        cursor.execute("SELECT COUNT(*) FROM otp_totp_totpdevice")
        assert cursor.fetchone()[0] == 0
    for form in (
        secret.hex(),
        secret.hex().upper(),
        base64.b32encode(secret).decode().rstrip("="),
        base64.b64encode(secret).decode(),
        base64.urlsafe_b64encode(secret).decode(),
        secret.decode("latin-1"),
    ):
        assert form not in raw_row
    assert device.encrypted_key.startswith("gAAAA")  # a Fernet token


def test_a_secret_decrypts_only_with_the_configured_key(settings, derm):
    device = AuthenticatorDevice(user=derm, name="app", confirmed=True)
    device.set_secret(b"s" * 20)
    device.save()
    settings.PORTAL_TOTP_KEYS = [base64.urlsafe_b64encode(b"k" * 32).decode()]
    with pytest.raises(secretbox.SecretUnreadable):
        AuthenticatorDevice.objects.get(pk=device.pk).bin_key  # noqa: B018


def test_key_rotation(settings, derm, capsys):
    old_key = settings.PORTAL_TOTP_KEYS[0]
    new_key = base64.urlsafe_b64encode(b"n" * 32).decode()
    device = AuthenticatorDevice(user=derm, name="app", confirmed=True)
    device.set_secret(b"r" * 20)
    device.save()
    settings.PORTAL_TOTP_KEYS = [new_key, old_key]
    assert AuthenticatorDevice.objects.get(pk=device.pk).bin_key == b"r" * 20  # the old key still decrypts
    call_command("rotate_totp_key")
    assert "Re-encrypted 1" in capsys.readouterr().out
    settings.PORTAL_TOTP_KEYS = [new_key]  # the old key removed
    assert AuthenticatorDevice.objects.get(pk=device.pk).bin_key == b"r" * 20


def test_migration_encrypts_and_moves_plain_django_otp_devices(derm):
    import importlib

    from django.apps import apps
    from django_otp.oath import totp
    from django_otp.plugins.otp_totp.models import TOTPDevice

    migration = importlib.import_module("portal.migrations.0009_move_totp_secrets_encrypted")
    plain = TOTPDevice.objects.create(user=derm, name="phone", confirmed=True, last_t=5, throttling_failure_count=2)
    key = plain.bin_key
    migration.encrypt_and_move(apps, None)
    assert not TOTPDevice.objects.exists()
    moved = AuthenticatorDevice.objects.get(user=derm)
    assert moved.bin_key == key
    assert (moved.name, moved.confirmed, moved.last_t, moved.throttling_failure_count) == ("phone", True, 5, 2)
    assert key.hex() not in moved.encrypted_key
    moved.throttling_failure_count = 0
    moved.save()
    assert (
        twofactor.second_factor_verify(user=derm, device_id=moved.pk, token=f"{totp(key):06d}")
        is twofactor.Verification.APP_CODE
    )
    migration.decrypt_and_move_back(apps, None)
    assert TOTPDevice.objects.get(user=derm).bin_key == key


def test_wrong_passwords_at_a_factor_change_are_throttled(require_2fa, derm):
    client, device, _codes = _verified_client(derm)
    client.post(reverse("otp_backup_codes"), {"password": "guess-1", "token": current_code(device, 1)})
    throttled = client.post(reverse("otp_backup_codes"), {"password": TEST_PASSWORD, "token": current_code(device, 1)})
    assert b"Too many wrong codes" in throttled.content
    assert not backup_codes_in(throttled)


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="real concurrent transactions need PostgreSQL (SQLite serialises them)"
)
@pytest.mark.django_db(transaction=True)
def test_four_simultaneous_confirmations_of_one_attempt_confirm_it_once():
    import threading

    from django.contrib.sessions.backends.db import SessionStore

    user = make_user()
    store = SessionStore()
    store.create()
    device = twofactor.enrolment_attempt_start(user=user, session=store)
    store.save()
    code = current_code(device)
    barrier = threading.Barrier(4)
    results = []

    def confirm():
        try:
            session = SessionStore(session_key=store.session_key)
            barrier.wait(timeout=10)
            results.append(twofactor.totp_enrol_confirm(user=user, session=session, token=code))
        finally:
            connection.close()

    threads = [threading.Thread(target=confirm) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert len(results) == 4
    assert sum(result is not None for result in results) == 1
    assert AuthenticatorDevice.objects.filter(user=user, confirmed=True).count() == 1
    assert BackupCode.objects.filter(user=user).count() == 10


def test_wrong_confirmation_codes_are_throttled(require_2fa, client, derm):
    password_login(client, derm)
    device = start_enrolment(client, derm)
    client.post(reverse("otp_enrol"), {"token": "000000"})
    throttled = client.post(reverse("otp_enrol"), {"token": current_code(device)})
    assert b"Too many wrong codes" in throttled.content
    assert not AuthenticatorDevice.objects.filter(user=derm, confirmed=True).exists()


def test_enrolment_code_stops_working_after_five_wrong_codes(require_2fa, settings, client, derm):
    settings.PORTAL_ENROLMENT_CODE_ATTEMPTS = 5
    code = issue_enrolment_code(derm)
    for _ in range(4):
        assert not twofactor.enrolment_code_redeem(user=derm, code="abcd-efgh-jkmn")
    assert EnrolmentCode.objects.get(user=derm).failed_attempts == 4
    assert not twofactor.enrolment_code_redeem(user=derm, code="abcd-efgh-jkmn")
    assert not EnrolmentCode.objects.filter(user=derm).exists()
    assert AuditEvent.objects.filter(actor=derm, summary="Enrolment code withdrawn after 5 wrong codes").exists()
    # The right code is refused now too: the user asks an administrator for a new one.
    password_login(client, derm)
    response = client.post(reverse("otp_enrol"), {"enrolment_code": code})
    assert b"Ask an administrator for a new one" in response.content
    assert not AuthenticatorDevice.objects.filter(user=derm).exists()


def test_a_right_enrolment_code_after_a_few_wrong_ones_still_works(require_2fa, client, derm):
    code = issue_enrolment_code(derm)
    for _ in range(3):
        assert not twofactor.enrolment_code_redeem(user=derm, code="abcd-efgh-jkmn")
    assert twofactor.enrolment_code_redeem(user=derm, code=code)
