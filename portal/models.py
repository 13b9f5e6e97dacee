from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device, ThrottlingMixin, TimestampMixin

from portal import roles

PHONE_VALIDATOR = RegexValidator(
    r"^\+?[0-9][0-9 ()./-]{4,28}[0-9]$",
    _("Enter a phone number: digits, spaces and + ( ) - . / only, for example +44 20 7946 0000."),
)
EMERGENCY_VALIDATOR = RegexValidator(
    r"^[0-9]{2,6}$", _("Enter the emergency number as digits only, for example 999, 112 or 911.")
)


class Clinic(models.Model):
    """A clinic (or department). Staff see only the patients of their own clinic."""

    class UnitSystem(models.TextChoices):
        # The codes are drugs.units.US / SI (portal sits below drugs, so it cannot import them).
        US = "US", _("US conventional (g/dL, mg/dL, ×10³/µL)")
        SI = "SI", _("SI (g/L, mmol/L, µmol/L, ×10⁹/L)")

    name = models.CharField(_("name"), max_length=200, unique=True)
    unit_system = models.CharField(
        _("lab units shown"),
        max_length=2,
        choices=UnitSystem,
        default=UnitSystem.US,
        help_text=_(
            "How lab results, trend charts and new alerts show values. Staff can enter results in any accepted "
            "unit either way; results are stored in one unit, so switching changes only how they are shown."
        ),
    )
    # What patient handouts and letters to GPs print as the clinic's contact. No default emergency number: it
    # differs by country (999, 112, 911, 000), and a handout without one says "ask your clinic" instead.
    phone = models.CharField(
        _("clinic phone"),
        max_length=30,
        blank=True,
        validators=[PHONE_VALIDATOR],
        help_text=_("The number patients and GPs call with questions, e.g. +44 20 7946 0000."),
    )
    emergency_number = models.CharField(
        _("emergency number"),
        max_length=6,
        blank=True,
        validators=[EMERGENCY_VALIDATOR],
        help_text=_(
            "The emergency services number where your patients live (999 in the UK, 112 in the EU, 911 in the US). "
            "Needed to print a patient handout."
        ),
    )
    address = models.TextField(
        _("clinic address"),
        max_length=400,  # TextField: the form enforces it, the validator the service's full_clean
        blank=True,
        validators=[MaxLengthValidator(400)],
        help_text=_("Street, town and postcode: printed under the clinic's name on GP letters and handouts."),
    )
    row_version = models.PositiveIntegerField(default=1, editable=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("clinic")
        verbose_name_plural = _("clinics")

    def __str__(self) -> str:
        return self.name


@functools.cache
def _dermatologists(model: type[User], db: str | None) -> models.QuerySet[User]:
    """Every clinic's dermatologists by name, resolved once per process: each list page's filter asks for them, and
    building this query took a quarter of its 0.6 ms of CPU (bench/profile_page.py). Never evaluated itself; each
    caller filters it by clinic, which makes a copy."""
    return (
        model._default_manager.db_manager(db)
        .filter(groups__name=roles.DERMATOLOGIST)
        .distinct()
        .order_by("last_name", "first_name", "username")
    )


class StaffManager(UserManager["User"]):
    def dermatologists_of(self, clinic_id: int | None) -> models.QuerySet[User]:
        """The dermatologists of a clinic, by name (the choices of the "dermatologist" filters); none without one."""
        if clinic_id is None:
            return self.none()
        return _dermatologists(self.model, self._db).filter(clinic_id=clinic_id)


# django-manager-missing: the reverse of AuthenticatorDevice.user, whose field comes from django-otp's untyped Device.
class User(AbstractUser):  # type: ignore[django-manager-missing]
    """A member of clinic staff. What they may do comes from their role groups."""

    clinic = models.ForeignKey(
        Clinic,
        verbose_name=_("clinic"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="staff",
        help_text=_("Staff see only the patients of their own clinic."),
    )

    objects: ClassVar[StaffManager] = StaffManager()

    class Meta:  # AbstractUser.Meta sets only verbose names (replaced here) and abstract
        swappable = "AUTH_USER_MODEL"
        ordering = ["last_name", "first_name", "username"]
        verbose_name = _("staff user")
        verbose_name_plural = _("staff users")

    def __str__(self) -> str:
        return staff_name(self.first_name, self.last_name, self.username)

    @property
    def role_names(self) -> list[str]:
        """Names of this user's roles (cached on the instance for the request)."""
        if not hasattr(self, "_role_names"):
            self.remember_groups(self.groups.values_list("name", flat=True))
        return self._role_names

    def remember_groups(self, names: Iterable[str]) -> None:
        """Keep the names of the user's groups for the request (the permission backend reads them with the
        permissions, in the same query)."""
        found = set(names)
        self._role_names = [role for role in roles.ROLES if role in found]

    def has_role(self, role: str) -> bool:
        return role in self.role_names


class AuditEvent(models.Model):
    """Append-only record of who did what to which record. Never holds passwords or secrets."""

    class Action(models.TextChoices):
        VIEW = "view", _("Viewed")
        CREATE = "create", _("Created")
        CHANGE = "change", _("Changed")
        DELETE = "delete", _("Deleted")
        LOGIN = "login", _("Logged in")
        LOGOUT = "logout", _("Logged out")
        LOGIN_FAILED = "login_failed", _("Failed login")
        LOCKED_OUT = "locked_out", _("Locked out")
        UNLOCK = "unlock", _("Unlocked")
        OTP_ENROL = "otp_enrol", _("Second factor set up")
        OTP_VERIFIED = "otp_verified", _("Second factor passed")
        OTP_FAILED = "otp_failed", _("Second factor failed")
        OTP_RESET = "otp_reset", _("Second factor reset")
        BACKUP_CODES = "backup_codes", _("Backup codes replaced")
        ENROL_CODE_ISSUED = "enrol_code_issued", _("Enrolment code issued")
        ENROL_CODE_USED = "enrol_code_used", _("Enrolment code used")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("who"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="audit_events",
    )
    actor_username = models.CharField(_("username"), max_length=150, blank=True)
    action = models.CharField(_("action"), max_length=20, choices=Action)
    object_type = models.CharField(_("record type"), max_length=100, blank=True)
    object_id = models.CharField(_("record id"), max_length=64, blank=True)
    summary = models.CharField(_("summary"), max_length=300, blank=True)
    changes = models.JSONField(_("what changed"), default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["object_type", "object_id", "-at"], name="portal_audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_username or '-'} {self.action} {self.object_type}"


class BackupCode(models.Model):
    """A one-time recovery code for the second factor. Only a password hash is stored, never the code."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="backup_codes"
    )
    code_hash = models.CharField(_("code hash"), max_length=256)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    used_at = models.DateTimeField(_("used"), null=True, blank=True)

    class Meta:
        ordering = ["user", "id"]
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")

    def __str__(self) -> str:
        return f"Backup code of {self.user_id} ({'used' if self.used_at else 'unused'})"


class AuthenticatorDevice(TimestampMixin, ThrottlingMixin, Device):
    """A TOTP authenticator app (RFC 6238) whose shared secret is stored only encrypted (PORTAL_TOTP_KEY).

    Replaces django-otp's TOTPDevice, which keeps the secret as plain hex. Verification is django-otp's TOTP with
    the same replay protection (a code is accepted only for a time step after ``last_t``) and throttling. An
    unconfirmed device is one enrolment attempt: ``session_key_hash`` ties it to the session that was shown its
    secret, and only that session can confirm it.
    """

    encrypted_key: models.TextField[str, str] = models.TextField(_("secret (encrypted)"), editable=False)
    step: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(_("time step (s)"), default=30)
    t0: models.BigIntegerField[int, int] = models.BigIntegerField(_("start time"), default=0)
    digits: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        _("digits"), choices=[(6, 6), (8, 8)], default=6
    )
    tolerance: models.PositiveSmallIntegerField[int, int] = models.PositiveSmallIntegerField(
        _("tolerance (steps)"), default=1
    )
    drift: models.SmallIntegerField[int, int] = models.SmallIntegerField(_("drift (steps)"), default=0)
    last_t: models.BigIntegerField[int, int] = models.BigIntegerField(_("last accepted time step"), default=-1)
    session_key_hash: models.CharField[str, str] = models.CharField(
        _("enrolling session"), max_length=64, blank=True, editable=False
    )

    class Meta(Device.Meta):
        verbose_name = _("authenticator app")
        verbose_name_plural = _("authenticator apps")

    @property
    def bin_key(self) -> bytes:
        from portal.security import secretbox

        return secretbox.decrypt(self.encrypted_key)

    def set_secret(self, secret: bytes) -> None:
        from portal.security import secretbox

        self.encrypted_key = secretbox.encrypt(secret)

    def get_throttle_factor(self) -> int:
        return getattr(settings, "OTP_TOTP_THROTTLE_FACTOR", 1)

    def verify_token(self, token) -> bool:
        """django-otp's TOTP check; call it on a row locked with select_for_update (see portal.security.twofactor)."""
        import time

        from django_otp.oath import TOTP

        allowed, _info = self.verify_is_allowed()
        if not allowed:
            return False
        try:
            value = int(token)
        except (TypeError, ValueError):
            verified = False
        else:
            totp = TOTP(self.bin_key, self.step, self.t0, self.digits, self.drift)
            totp.time = time.time()
            verified = totp.verify(value, self.tolerance, self.last_t + 1)
            if verified:
                self.last_t = totp.t()
                self.drift = totp.drift
                self.throttle_reset(commit=False)
                self.set_last_used_timestamp(commit=False)
                self.save()
        if not verified:
            self.throttle_increment(commit=True)
        return verified

    @property
    def config_url(self) -> str:
        """The otpauth:// URL an authenticator app reads from the QR code."""
        from base64 import b32encode
        from urllib.parse import quote, urlencode

        issuer = str(getattr(settings, "OTP_TOTP_ISSUER", "") or "").replace(":", "")
        label = f"{issuer}:{self.user.get_username()}" if issuer else self.user.get_username()
        params = {"secret": b32encode(self.bin_key), "algorithm": "SHA1", "digits": self.digits, "period": self.step}
        url = f"otpauth://totp/{quote(label)}?{urlencode(params)}"
        return url + (f"&issuer={quote(issuer)}" if issuer else "")


class OidcIdentity(Device):
    """The account at an OpenID Connect identity provider that signs a user in: the issuer and its ``sub``.

    Users are found by (issuer, subject), never by email: an email address can be changed at the identity provider
    (or reused), and matching on it would let an IdP account take over a local account with the same address.

    It is also a django-otp device, and that is how the identity provider's MFA counts as the portal's second
    factor: when the ID token asserts MFA (amr/acr), the sign-in stores this row in the session as the verifying
    device (``django_otp.login``), so ``user.is_verified()`` is true exactly as after a TOTP code, for the
    second-factor middleware and every other check. Without that assertion it is not stored, and the session goes
    through the portal's own TOTP step like a password log-in. It accepts no codes itself (``verify_token`` is
    django-otp's default, False).
    """

    issuer: models.CharField[str, str] = models.CharField(_("issuer"), max_length=255)
    subject: models.CharField[str, str] = models.CharField(_("subject (sub)"), max_length=255)
    created_at: models.DateTimeField = models.DateTimeField(_("linked"), default=timezone.now)
    last_login_at: models.DateTimeField = models.DateTimeField(_("last single sign-on"), null=True, blank=True)

    class Meta(Device.Meta):
        verbose_name = _("single sign-on identity")
        verbose_name_plural = _("single sign-on identities")
        constraints = [models.UniqueConstraint(fields=["issuer", "subject"], name="portal_oidc_identity_unique")]

    def __str__(self) -> str:
        return f"{self.issuer} {self.subject}"


class EnrolmentCode(models.Model):
    """A one-time code, issued by an administrator, without which an account with no authenticator cannot set one
    up. Only a password hash is stored; the code is shown once, expires, and works once."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="enrolment_codes"
    )
    code_hash = models.CharField(_("code hash"), max_length=256)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("issued by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    expires_at = models.DateTimeField(_("expires"))
    used_at = models.DateTimeField(_("used"), null=True, blank=True)
    failed_attempts = models.PositiveSmallIntegerField(_("wrong codes typed"), default=0, editable=False)

    class Meta:
        ordering = ["user", "-created_at"]
        verbose_name = _("enrolment code")
        verbose_name_plural = _("enrolment codes")

    def __str__(self) -> str:
        return f"Enrolment code of {self.user_id} ({'used' if self.used_at else 'unused'})"


class IdempotencyKey(models.Model):
    """One row per submitted form token: a second submission of the same form finds it and writes nothing."""

    key = models.UUIDField(_("key"), unique=True)
    scope = models.CharField(_("form"), max_length=100)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    result_url = models.CharField(_("result"), max_length=300, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("form submission token")
        verbose_name_plural = _("form submission tokens")

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class OutboundEmail(models.Model):
    """An email waiting to be sent, sent, or given up on: the transactional outbox (portal/outbox.py).

    A row is written in the same transaction as the change it reports, and its ``dedupe_key`` is unique, so an
    email is queued once however many processes try. ``outbox_deliver`` sends due rows and retries failures with
    backoff. ``last_error`` holds the exception class only (never a message that could carry patient data).
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent")
        FAILED = "failed", _("Failed (gave up)")

    dedupe_key = models.CharField(_("key"), max_length=200, unique=True)
    recipients = models.JSONField(_("to"), default=list)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("body"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_at = models.DateTimeField(_("claimed"), null=True, blank=True)
    last_error = models.CharField(_("last error"), max_length=100, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    created_at = models.DateTimeField(_("queued"), default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("outbound email")
        verbose_name_plural = _("outbound emails")
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="portal_outbox_due_idx")]

    def __str__(self) -> str:
        return f"{self.dedupe_key} ({self.status})"


class PeriodicJobRun(models.Model):
    """That a periodic job was enqueued for one period (portal/jobs.py). The unique (job, period start) makes the
    enqueue happen once per period however many workers' schedulers try at the same moment: the row and the task
    are inserted in one transaction, and the second insert of a key fails and enqueues nothing."""

    job = models.CharField(_("job"), max_length=100)
    period_start = models.DateTimeField(_("period start"))
    enqueued_at = models.DateTimeField(_("enqueued"), default=timezone.now)
    task_id = models.CharField(_("task result id"), max_length=64, blank=True)

    class Meta:
        ordering = ["-period_start", "job"]
        verbose_name = _("periodic job run")
        verbose_name_plural = _("periodic job runs")
        constraints = [
            models.UniqueConstraint(fields=["job", "period_start"], name="portal_periodic_job_once_per_period")
        ]

    def __str__(self) -> str:
        return f"{self.job} {self.period_start.isoformat()}"


def staff_name(first_name: str, last_name: str, username: str) -> str:
    """How a staff user is named (``str(user)``: ``get_full_name()``, else the username). For lists that read the
    user with ``values()`` instead of loading it."""
    return f"{first_name} {last_name}".strip() or username


def dermatologist_choices(clinic_id: int | None) -> list[tuple[int, str]]:
    """``User.objects.dermatologists_of`` as (pk, name as ``str(user)`` names them) pairs, read with ``values_list``
    (the filter forms' choices, without loading the users)."""
    rows = User.objects.dermatologists_of(clinic_id).values_list("pk", "first_name", "last_name", "username")
    return [(pk, staff_name(first, last, username)) for pk, first, last, username in rows]
