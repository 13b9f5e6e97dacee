"""Machine access to the portal: bearer tokens for labs and EHRs, and the log of every interface request."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class InterfaceToken(models.Model):
    """A bearer token for one connected system (a lab feed, an EHR). Belongs to one clinic: what it sends is matched
    to that clinic's patients only, and what it reads is that clinic's records only. Only a hash is stored; the token
    itself is shown once, when it is created."""

    name = models.CharField(_("name"), max_length=80, unique=True, help_text=_("Which system uses it, e.g. 'city-lab'"))
    clinic = models.ForeignKey("portal.Clinic", on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    prefix = models.CharField(_("starts with"), max_length=8, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked"), null=True, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("interface token")

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def actor_label(self) -> str:
        """How the audit trail names this system (there is no user behind it)."""
        return f"interface:{self.name}"


class InterfaceRequest(models.Model):
    """One request to an interface and what came of it. Holds no patient data: ids, outcome and a reason only."""

    class Interface(models.TextChoices):
        HL7V2 = "hl7v2", _("HL7 v2 lab feed")
        FHIR = "fhir", _("FHIR R4")
        CDS = "cds", _("CDS Hooks")

    class Outcome(models.TextChoices):
        ACCEPTED = "accepted", _("Accepted")
        DUPLICATE = "duplicate", _("Duplicate, acknowledged")
        INBOX = "inbox", _("Held in the interface inbox")
        ERROR = "error", _("Error")
        REJECTED = "rejected", _("Rejected")
        DENIED = "denied", _("Not authorised")

    at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    interface = models.CharField(_("interface"), max_length=10, choices=Interface)
    token = models.ForeignKey(InterfaceToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="requests")
    actor = models.ForeignKey(  # a signed-in staff member reading FHIR from the browser
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    message_id = models.CharField(_("message id"), max_length=100, blank=True)
    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome)
    reason = models.CharField(_("reason"), max_length=300, blank=True)
    size = models.PositiveIntegerField(_("bytes"), default=0)

    class Meta:
        ordering = ["-at"]
        verbose_name = _("interface request")

    def __str__(self) -> str:
        return f"{self.get_interface_display()} {self.message_id or self.pk}: {self.get_outcome_display()}"


class InboxMessage(models.Model):
    """A lab message that matched no patient of the token's clinic (an unknown PID-3), held for staff to assign to
    a patient or reject instead of being lost. Holds the message as received: it is patient data, shown only to
    the clinic's dermatologists and nurses (interfaces.hl7v2.views) and never logged."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ASSIGNED = "assigned", _("Assigned to a patient")
        REJECTED = "rejected", _("Rejected")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    clinic = models.ForeignKey("portal.Clinic", on_delete=models.PROTECT, related_name="+", verbose_name=_("clinic"))
    token = models.ForeignKey(InterfaceToken, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(_("sent by"), max_length=100)  # the token's actor label when it arrived
    message_id = models.CharField(_("message id"), max_length=100)
    digest = models.CharField(max_length=64, editable=False)  # SHA-256 of the message: a resend is the same row
    raw = models.TextField(_("message"))
    identifiers = models.CharField(_("patient identifiers (PID-3)"), max_length=200, blank=True)
    tests = models.CharField(_("tests"), max_length=300, blank=True)
    reason = models.CharField(_("why it is here"), max_length=300)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    patient = models.ForeignKey(
        "patients.Patient",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("patient"),
    )
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    handled_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(_("reason for rejecting"), max_length=300, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("interface inbox message")
        indexes = [models.Index(fields=["clinic", "status", "-received_at"], name="interfaces_inbox_open")]
        constraints = [
            models.UniqueConstraint(fields=["clinic", "digest"], name="interfaces_inbox_once_per_message"),
            models.CheckConstraint(
                condition=models.Q(status="open") | models.Q(handled_at__isnull=False),
                name="interfaces_inbox_handled_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.message_id} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("hl7v2:inbox_message", args=[self.public_id])
