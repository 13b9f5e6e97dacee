"""Second factor: TOTP devices (django-otp) and hashed one-time backup codes.

django-otp's own static tokens are stored in plain text, so backup codes live in ``BackupCode`` with only a
Django password hash (Argon2 in production). Codes are shown once, at enrolment, and each works once.
"""

from __future__ import annotations

import base64
import enum
import io
import secrets

import qrcode
import qrcode.image.svg
from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.db import transaction
from django.utils import timezone
from django_otp import devices_for_user
from django_otp.plugins.otp_totp.models import TOTPDevice

from portal.audit import audit_record
from portal.models import AuditEvent, BackupCode, User

# No look-alike characters (0/o, 1/l/i): codes are read off paper.
_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_CODE_LENGTH = 10  # 10 characters from 31 = 49.5 bits, hashed like a password


def has_confirmed_device(user: User) -> bool:
    return any(True for _ in devices_for_user(user, confirmed=True))


def is_exempt(user: User) -> bool:
    """Demo accounts skip the second factor, and only while PORTAL_DEMO is on."""
    from portal.demo import is_demo_username

    return bool(settings.PORTAL_DEMO) and is_demo_username(user.get_username())


def needs_second_step(user: User) -> bool:
    """Whether a password log-in of ``user`` still has the second step (code or enrolment) ahead of it."""
    return has_confirmed_device(user) or (bool(settings.PORTAL_REQUIRE_2FA) and not is_exempt(user))


def pending_totp_device(user: User) -> TOTPDevice:
    """The user's unconfirmed authenticator being set up (one at a time), created on first use."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=False)
    return device


def qr_code_data_uri(device: TOTPDevice) -> str:
    """The otpauth:// URL as an SVG QR code in a data: URI (allowed by the CSP's img-src data:)."""
    image = qrcode.make(device.config_url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def manual_key(device: TOTPDevice) -> str:
    """The shared secret in base32 groups of four, for typing into an app without a camera."""
    key = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(key[i : i + 4] for i in range(0, len(key), 4))


def _normalise(code: str) -> str:
    return "".join(ch for ch in code.lower() if ch.isalnum())


def _new_code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(_CODE_LENGTH))
    return f"{raw[:5]}-{raw[5:]}"


@transaction.atomic
def backup_codes_replace(*, user: User) -> list[str]:
    """Replace the user's backup codes with new ones; the plain codes are returned once and never stored."""
    BackupCode.objects.filter(user=user).delete()
    codes = [_new_code() for _ in range(settings.PORTAL_BACKUP_CODE_COUNT)]
    BackupCode.objects.bulk_create(BackupCode(user=user, code_hash=make_password(_normalise(c))) for c in codes)
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


class Verification(enum.Enum):
    """What the second step made of a code."""

    APP_CODE = "app_code"
    BACKUP_CODE = "backup_code"
    WRONG = "wrong"
    THROTTLED = "throttled"


def _locked_device(user: User, device_id: int, *, confirmed: bool) -> TOTPDevice:
    """The device row, locked until the transaction ends.

    Two requests with the same code must not both pass: django-otp accepts a code only for a time step after
    ``last_t`` and updates ``last_t`` (and the throttle counters) on the instance it was given. Read without a
    lock, concurrent requests all see the old ``last_t`` and all accept. Locking the row makes the second
    request wait for the first to commit, then read the new ``last_t`` and refuse. (SQLite has no row locks;
    there the IMMEDIATE transactions of ATOMIC_REQUESTS serialise the requests instead.)
    """
    return TOTPDevice.objects.select_for_update().get(pk=device_id, user=user, confirmed=confirmed)


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


@transaction.atomic
def totp_enrol_confirm(*, user: User, device: TOTPDevice, token: str) -> list[str] | None:
    """Confirm a pending authenticator with a code from it; returns fresh backup codes, or None if wrong.

    ``device`` is re-read under a row lock (see ``_locked_device``) so one code confirms it once.
    """
    device = _locked_device(user, device.pk, confirmed=False)
    if not device.verify_token(token):
        return None
    TOTPDevice.objects.filter(user=user, confirmed=True).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    audit_record(actor=user, action=AuditEvent.Action.OTP_ENROL, obj=user, summary="Authenticator app set up")
    return backup_codes_replace(user=user)


def unused_backup_code_count(user: User) -> int:
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()
