"""Second factor: TOTP authenticator apps with encrypted secrets, hashed backup codes and enrolment codes.

- ``AuthenticatorDevice`` keeps the TOTP secret encrypted with PORTAL_TOTP_KEY (``portal.security.secretbox``).
- Backup codes and enrolment codes are stored only as Django password hashes (Argon2 in production); each is
  shown once and works once.
- Setting up an app is an *attempt*: a fresh secret, bound to the session that was shown it (its key in the
  session, a hash of the session key on the row). Only that session can confirm it, under a row lock.
- An account without a confirmed app starts an attempt only with an enrolment code an administrator issued
  (``enrolment_code_issue``); an account with one only with its password and a current code
  (``factor_change_authorise``). Every change of a factor is audited and emailed to the user.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import io
import secrets
from datetime import datetime, timedelta
from typing import Any

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from portal.audit import audit_record
from portal.models import AuditEvent, AuthenticatorDevice, BackupCode, EnrolmentCode, User
from portal.security.notify import FactorChange, notify_factor_change
from portal.security.signals import NO_DEVICE_KEY

# No look-alike characters (0/o, 1/l/i): codes are read off paper.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10  # 10 characters from 31 = 49.5 bits, hashed like a password
_ENROLMENT_CODE_LENGTH = 12  # 59 bits; read to the user out of band (phone, in person)
_SECRET_BYTES = 20  # 160 bits, as RFC 4226 recommends
PENDING_SESSION_KEY = "_portal_otp_pending_device"


def has_confirmed_device(user: User) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def confirmed_device(user: User) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-id").first()


def is_exempt(user: User) -> bool:
    """Demo accounts skip the second factor, and only while PORTAL_DEMO is on."""
    from portal.demo import is_demo_username

    return bool(settings.PORTAL_DEMO) and is_demo_username(user.get_username())


def needs_second_step(user: User) -> bool:
    """Whether a password log-in of ``user`` still has the second step (code or enrolment) ahead of it."""
    return has_confirmed_device(user) or (bool(settings.PORTAL_REQUIRE_2FA) and not is_exempt(user))


def session_second_step(request: HttpRequest) -> str | None:
    """The second-factor step a signed-in session still has ahead of it: ``"otp_verify"``, ``"otp_enrol"``, or None
    when the session may work. The one rule for the portal's pages (``SecondFactorMiddleware``) and for the
    interfaces that accept a staff session (``interfaces.endpoint``).

    A user with a confirmed authenticator always needs the code. Without one, the enrolment is required when
    PORTAL_REQUIRE_2FA is on (demo accounts are exempt while PORTAL_DEMO is on); with it off, the password is
    enough.
    """
    user: Any = request.user  # django-otp's OTPMiddleware adds is_verified()
    if not user.is_authenticated or user.is_verified():
        return None
    # Optional-2FA mode only: the log-in noted that the user has no authenticator, which saves a query per page.
    # Enrolling (the only way to get a device mid-session) verifies the session anyway.
    if not settings.PORTAL_REQUIRE_2FA and request.session.get(NO_DEVICE_KEY):
        return None
    if has_confirmed_device(user):
        return "otp_verify"
    if settings.PORTAL_REQUIRE_2FA and not is_exempt(user):
        return "otp_enrol"
    request.session[NO_DEVICE_KEY] = True
    return None


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _random_code(length: int, *, group: int) -> str:
    """``length`` random characters in dash-separated groups: backup codes ``abcde-fghjk``, enrolment codes
    ``abcd-efgh-jkmn``."""
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(length))
    return "-".join(raw[i : i + group] for i in range(0, length, group))


def _session_hash(session: SessionBase) -> str:
    if not session.session_key:
        session.save()
    return hashlib.sha256(str(session.session_key).encode("ascii")).hexdigest()


# --- Enrolment attempts ------------------------------------------------------------------------------------------


@transaction.atomic
def enrolment_attempt_start(*, user: User, session: SessionBase) -> AuthenticatorDevice:
    """A new, unconfirmed authenticator with a fresh secret, bound to ``session``; replaces this session's earlier
    attempt. Call only after the enrolment code or the password and current code were checked."""
    previous = session.get(PENDING_SESSION_KEY)
    if previous:
        AuthenticatorDevice.objects.filter(pk=previous, user=user, confirmed=False).delete()
    device = AuthenticatorDevice(user=user, name="Authenticator app", confirmed=False)
    device.set_secret(secrets.token_bytes(_SECRET_BYTES))
    device.session_key_hash = _session_hash(session)
    device.full_clean()
    device.save()
    session[PENDING_SESSION_KEY] = device.pk
    return device


def pending_device(*, user: User, session: SessionBase) -> AuthenticatorDevice | None:
    """The attempt this session started and was shown, if it is still open. Another session's never."""
    pk = session.get(PENDING_SESSION_KEY)
    if not pk or not session.session_key:
        return None
    return AuthenticatorDevice.objects.filter(
        pk=pk, user=user, confirmed=False, session_key_hash=_session_hash(session)
    ).first()


@transaction.atomic
def totp_enrol_confirm(*, user: User, session: SessionBase, token: str) -> tuple[AuthenticatorDevice, list[str]] | None:
    """Confirm this session's pending authenticator with a code from it; returns it and fresh backup codes, or None
    if the code is wrong or the session has no open attempt.

    The row is read under a lock (see ``_locked_device``), so one attempt is confirmed once. Confirming removes the
    user's other authenticators (the replaced one, other sessions' attempts) and backup codes.
    """
    pk = session.get(PENDING_SESSION_KEY)
    if not pk or not session.session_key:
        return None
    device = (
        AuthenticatorDevice.objects.select_for_update()
        .filter(pk=pk, user=user, confirmed=False, session_key_hash=_session_hash(session))
        .first()
    )
    if device is None or not device.verify_token(token):  # verify_token throttles wrong codes itself
        return None
    replaced = AuthenticatorDevice.objects.filter(user=user).exclude(pk=device.pk)
    was_replacing = replaced.filter(confirmed=True).exists()
    replaced.delete()
    device.confirmed = True
    device.session_key_hash = ""
    device.save(update_fields=["confirmed", "session_key_hash"])
    session.pop(PENDING_SESSION_KEY, None)
    summary = "Authenticator app replaced" if was_replacing else "Authenticator app set up"
    audit_record(actor=user, action=AuditEvent.Action.OTP_ENROL, obj=user, summary=summary)
    notify_factor_change(user, FactorChange.REPLACED if was_replacing else FactorChange.ENROLLED)
    return device, _backup_codes_replace(user=user)


def qr_code_data_uri(device: AuthenticatorDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (allowed by the CSP's img-src data:)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def manual_key(device: AuthenticatorDevice) -> str:
    """The shared secret in base32 groups of four, for typing into an app without a camera."""
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


# --- Enrolment codes ---------------------------------------------------------------------------------------------


@transaction.atomic
def enrolment_code_issue(*, actor: User | None, user: User) -> tuple[str, datetime]:
    """A new one-time enrolment code for ``user`` (earlier unused ones stop working); returns the plain code, to be
    shown once and given to the user out of band, and when it expires. Only its hash is stored."""
    EnrolmentCode.objects.filter(user=user, used_at__isnull=True).delete()
    code = _random_code(_ENROLMENT_CODE_LENGTH, group=4)
    expires = timezone.now() + timedelta(hours=settings.PORTAL_ENROLMENT_CODE_HOURS)
    row = EnrolmentCode(
        user=user,
        code_hash=make_password(_normalise(code)),
        issued_by=actor if actor is not None and actor.is_authenticated else None,
        expires_at=expires,
    )
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.ENROL_CODE_ISSUED,
        obj=user,
        summary="Enrolment code issued" + ("" if actor is not None else " (management command)"),
        changes={"expires": expires.isoformat(timespec="minutes")},
    )
    notify_factor_change(user, FactorChange.ENROLMENT_CODE)
    return code, expires


@transaction.atomic
def enrolment_code_redeem(*, user: User, code: str) -> bool:
    """Spend ``user``'s unexpired, unused enrolment code if ``code`` matches it; audited either way. After
    ``PORTAL_ENROLMENT_CODE_ATTEMPTS`` wrong codes in a row the user's code stops working (audited): guessing is
    hopeless at 59 bits, but each guess costs a password hash, and a run of them means someone is trying."""
    plain = _normalise(code)
    now = timezone.now()
    rows = list(EnrolmentCode.objects.select_for_update().filter(user=user, used_at__isnull=True, expires_at__gt=now))
    if len(plain) == _ENROLMENT_CODE_LENGTH:
        for row in rows:
            if check_password(plain, row.code_hash):
                row.used_at = now
                row.save(update_fields=["used_at"])
                audit_record(
                    actor=user, action=AuditEvent.Action.ENROL_CODE_USED, obj=user, summary="Enrolment code used"
                )
                return True
    audit_record(actor=user, action=AuditEvent.Action.OTP_FAILED, obj=user, summary="Wrong or expired enrolment code")
    for row in rows:
        row.failed_attempts += 1
        if row.failed_attempts >= settings.PORTAL_ENROLMENT_CODE_ATTEMPTS:
            row.delete()
            audit_record(
                actor=user,
                action=AuditEvent.Action.OTP_FAILED,
                obj=user,
                summary=f"Enrolment code withdrawn after {row.failed_attempts} wrong codes",
            )
        else:
            row.save(update_fields=["failed_attempts"])
    return False


@transaction.atomic
def second_factor_reset(*, actor: User, user: User) -> None:
    """Remove ``user``'s authenticators and backup codes (an administrator's action); audited and emailed."""
    AuthenticatorDevice.objects.filter(user=user).delete()
    BackupCode.objects.filter(user=user).delete()
    audit_record(
        actor=actor,
        action=AuditEvent.Action.OTP_RESET,
        obj=user,
        summary="Two-step log-in reset in admin",
        changes={"second_factor": {"from": "(set up)", "to": "(removed)"}},
    )
    notify_factor_change(user, FactorChange.RESET_BY_ADMIN)


# --- Backup codes ------------------------------------------------------------------------------------------------


def _backup_codes_replace(*, user: User) -> list[str]:
    """Replace the user's backup codes with new ones; the plain codes are returned once and never stored."""
    BackupCode.objects.filter(user=user).delete()
    codes = [_random_code(_CODE_LENGTH, group=5) for _ in range(settings.PORTAL_BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(BackupCode(user=user, code_hash=make_password(_normalise(c))) for c in codes)
    return codes


@transaction.atomic
def backup_codes_regenerate(*, user: User) -> list[str]:
    """New backup codes instead of the old ones; call only after ``factor_change_authorise``. Audited, emailed."""
    codes = _backup_codes_replace(user=user)
    audit_record(actor=user, action=AuditEvent.Action.BACKUP_CODES, obj=user, summary="Backup codes replaced")
    notify_factor_change(user, FactorChange.BACKUP_CODES)
    return codes


@transaction.atomic
def backup_code_use(*, user: User, code: str) -> bool:
    """Spend one unused backup code matching ``code``; False if none matches."""
    plain = _normalise(code)
    if len(plain) != _CODE_LENGTH:
        return False
    for row in BackupCode.objects.select_for_update().filter(user=user, used_at__isnull=True):
        if check_password(plain, row.code_hash):
            row.used_at = timezone.now()
            row.save(update_fields=["used_at"])
            return True
    return False


def unused_backup_code_count(user: User) -> int:
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()


# --- Checking codes ----------------------------------------------------------------------------------------------


class Verification(enum.Enum):
    """What the second step made of a code."""

    APP_CODE = "app_code"
    BACKUP_CODE = "backup_code"
    WRONG = "wrong"
    THROTTLED = "throttled"


def _locked_device(user: User, device_id: int, *, confirmed: bool) -> AuthenticatorDevice:
    """The device row, locked until the transaction ends.

    Two requests with the same code must not both pass: a code is accepted only for a time step after ``last_t``,
    and ``verify_token`` updates ``last_t`` (and the throttle counters) on the instance it was given. Read without a
    lock, concurrent requests all see the old ``last_t`` and all accept. Locking the row makes the second
    request wait for the first to commit, then read the new ``last_t`` and refuse. (SQLite has no row locks;
    there the IMMEDIATE transactions of ATOMIC_REQUESTS serialise the requests instead.)
    """
    return AuthenticatorDevice.objects.select_for_update().get(pk=device_id, user=user, confirmed=confirmed)


@transaction.atomic
def second_factor_verify(*, user: User, device_id: int, token: str) -> Verification:
    """Check a code from the app, or a backup code, against the user's confirmed device; audited.

    The device row is locked first, so each app code is accepted once however many requests carry it.
    Wrong codes of either kind count towards the device's throttle.
    """
    device = _locked_device(user, device_id, confirmed=True)
    allowed, _info = device.verify_is_allowed()
    if not allowed:
        return Verification.THROTTLED
    if token.isdigit():
        result = Verification.APP_CODE if device.verify_token(token) else Verification.WRONG  # throttles itself
    elif backup_code_use(user=user, code=token):
        result = Verification.BACKUP_CODE
    else:
        device.throttle_increment()
        result = Verification.WRONG
    if result is Verification.WRONG:
        audit_record(actor=user, action=AuditEvent.Action.OTP_FAILED, obj=user, summary="Wrong second-factor code")
    else:
        audit_record(actor=user, action=AuditEvent.Action.OTP_VERIFIED, obj=user, summary="Second factor passed")
    return result


class Authorisation(enum.Enum):
    """What ``factor_change_authorise`` made of the password and code."""

    OK = "ok"
    WRONG_PASSWORD = "wrong_password"  # noqa: S105  (an outcome name, not a password)
    WRONG_CODE = "wrong_code"
    THROTTLED = "throttled"
    NO_DEVICE = "no_device"


def factor_change_authorise(*, user: User, password: str, token: str) -> Authorisation:
    """Replacing the app or the backup codes needs the password and a current code (or a backup code) together.

    The password is checked first; a wrong one spends no code but counts towards the device's throttle, like a
    wrong code, so the form cannot be used to guess the password of a session someone left open. The code goes
    through ``second_factor_verify`` (row lock, once per time step, throttled, audited). Not atomic itself, so a
    wrong try's throttle and audit rows stay even though the change is refused.
    """
    device = confirmed_device(user)
    if device is None:
        return Authorisation.NO_DEVICE
    with transaction.atomic():
        locked = _locked_device(user, device.pk, confirmed=True)
        allowed, _info = locked.verify_is_allowed()
        if not allowed:
            return Authorisation.THROTTLED
        if not user.check_password(password):
            locked.throttle_increment()
            audit_record(
                actor=user, action=AuditEvent.Action.OTP_FAILED, obj=user, summary="Wrong password at a two-step change"
            )
            return Authorisation.WRONG_PASSWORD
    result = second_factor_verify(user=user, device_id=device.pk, token=token)
    if result is Verification.THROTTLED:
        return Authorisation.THROTTLED
    if result is Verification.WRONG:
        return Authorisation.WRONG_CODE
    return Authorisation.OK


@transaction.atomic
def totp_keys_rotate() -> int:
    """Re-encrypt every stored secret with the first PORTAL_TOTP_KEY; returns how many rows were rewritten."""
    from portal.security import secretbox

    count = 0
    for device in AuthenticatorDevice.objects.select_for_update().order_by("pk"):
        device.encrypted_key = secretbox.rotate(device.encrypted_key)
        device.save(update_fields=["encrypted_key"])
        count += 1
    return count
