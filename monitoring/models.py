"""Watching patients on therapy: symptom checks at visits and the alerts results and symptoms raise."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class SymptomCheck(models.Model):
    """An infection and warning-sign check at a visit: the symptoms the patient reports (codes, see interpret)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="symptom_checks")
    checked_on = models.DateField(_("checked on"))
    symptoms = models.JSONField(_("symptoms reported"), default=list, blank=True)
    none_reported = models.BooleanField(_("none of these"), default=False)
    note = models.TextField(_("note"), blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-checked_on", "-id"]
        verbose_name = _("symptom check")

    def __str__(self) -> str:
        return f"Symptom check on {self.checked_on}"


class Alert(models.Model):
    """A result or symptom that needs the prescribing dermatologist's action, until acknowledged with a comment."""

    class Kind(models.TextChoices):
        LAB_ACTION = "lab_action", _("Lab result at an action level")
        SYMPTOM = "symptom", _("Warning sign reported")

    class Severity(models.IntegerChoices):
        URGENT = 1, _("Urgent")
        SAME_DAY = 2, _("Same day")
        ROUTINE = 3, _("Routine")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        ACKNOWLEDGED = "acknowledged", _("Acknowledged")

    class Action(models.TextChoices):
        """What the dermatologist did to the course when acknowledging (empty: acknowledged with a comment only)."""

        STOP = "stop", _("Course stopped")
        INTERRUPT = "interrupt", _("Course interrupted")
        RESUME = "resume", _("Course resumed")
        DOSE = "dose", _("Dose changed")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="alerts")
    course = models.ForeignKey(
        "therapy.TreatmentCourse", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    lab_result = models.ForeignKey(
        "patients.LabResult", null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    symptom_check = models.ForeignKey(
        SymptomCheck, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind)
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    title = models.CharField(_("title"), max_length=200)
    reason = models.TextField(_("why"))
    advice = models.TextField(_("what to do"))
    rule = models.TextField(_("rule"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    catalogue_version = models.PositiveIntegerField(_("catalogue version"), null=True, blank=True)
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.OPEN)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    action = models.CharField(_("action taken"), max_length=12, choices=Action, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["severity", "created_at", "id"]
        verbose_name = _("alert")
        indexes = [
            models.Index(fields=["recipient", "status", "severity", "created_at"], name="monitoring_alert_inbox"),
            models.Index(fields=["status", "severity", "created_at"], name="monitoring_alert_open"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["lab_result", "course"],
                condition=Q(lab_result__isnull=False),
                name="monitoring_alert_one_per_result_course",
            ),
            models.UniqueConstraint(
                fields=["symptom_check"],
                condition=Q(symptom_check__isnull=False),
                name="monitoring_alert_one_per_symptom_check",
            ),
            models.CheckConstraint(
                condition=Q(status="open") | Q(acknowledged_at__isnull=False), name="monitoring_alert_ack_has_time"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("monitoring:alert", args=[self.public_id])


class RecallContact(models.Model):
    """One contact about a due or overdue check: the patient recalled (phoned, messaged) or a letter sent.

    A history, not a flag: each contact is its own row with who recorded it and when, so the worklist can show the
    latest and the audit trail each one. Written only by ``services.recall_contacts_record``."""

    class Kind(models.TextChoices):
        RECALLED = "recalled", _("Recalled")
        LETTER = "letter", _("Letter sent")

    item = models.ForeignKey("therapy.ScheduledItem", on_delete=models.CASCADE, related_name="recall_contacts")
    kind = models.CharField(_("contact"), max_length=10, choices=Kind)
    contacted_on = models.DateField(_("date"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-contacted_on", "-id"]
        verbose_name = _("recall contact")
        indexes = [models.Index(fields=["item", "kind", "contacted_on"], name="monitoring_recall_item_kind")]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=["recalled", "letter"]), name="monitoring_recall_kind_valid")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.contacted_on}"
