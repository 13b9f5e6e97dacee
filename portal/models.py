from __future__ import annotations

from typing import ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import MaxLengthValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

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


class StaffManager(UserManager["User"]):
    def dermatologists_of(self, clinic_id: int | None) -> models.QuerySet[User]:
        """The dermatologists of a clinic, by name (the choices of the "dermatologist" filters); none without one."""
        if clinic_id is None:
            return self.none()
        return (
            self.filter(clinic_id=clinic_id, groups__name=roles.DERMATOLOGIST)
            .distinct()
            .order_by("last_name", "first_name", "username")
        )


class User(AbstractUser):
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
        return self.get_full_name() or self.username

    @property
    def role_names(self) -> list[str]:
        """Names of this user's roles (cached on the instance for the request)."""
        if not hasattr(self, "_role_names"):
            names = set(self.groups.values_list("name", flat=True))
            self._role_names = [role for role in roles.ROLES if role in names]
        return self._role_names

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
