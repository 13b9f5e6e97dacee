"""Treatment courses, their safety findings and events, the monitoring schedule, and lab results."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class TreatmentCourse(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", _("Planned")
        ACTIVE = "active", _("Active")
        INTERRUPTED = "interrupted", _("Interrupted")
        STOPPED = "stopped", _("Stopped")

    class StopReason(models.TextChoices):
        INADEQUATE_RESPONSE = "inadequate_response", _("Inadequate response")
        ADVERSE_EVENT = "adverse_event", _("Adverse event")
        PATIENT_CHOICE = "patient_choice", _("Patient choice")
        PREGNANCY = "pregnancy", _("Pregnancy")
        LAB_ACTION_LEVEL = "lab_action_level", _("Lab result at a discontinue level")
        OTHER = "other", _("Other")

    OPEN_STATUSES = (Status.PLANNED, Status.ACTIVE, Status.INTERRUPTED)

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="courses")
    drug = models.ForeignKey("drugs.Drug", on_delete=models.PROTECT, related_name="courses")
    dose = models.DecimalField(
        _("dose"), max_digits=7, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(0)]
    )
    dose_unit = models.CharField(_("dose unit"), max_length=20, default="mg")
    frequency = models.CharField(_("frequency"), max_length=60, blank=True)
    topical_bsa_percent = models.DecimalField(
        _("treated body surface area (%)"), max_digits=5, decimal_places=1, null=True, blank=True
    )
    topical_grams = models.DecimalField(_("grams per period"), max_digits=6, decimal_places=1, null=True, blank=True)
    topical_days = models.PositiveSmallIntegerField(_("period (days)"), null=True, blank=True)
    start_date = models.DateField(_("start date"))
    status = models.CharField(_("status"), max_length=12, choices=Status, default=Status.ACTIVE)
    prescriber = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    jurisdiction = models.CharField(_("label rules"), max_length=2)
    catalogue_version = models.PositiveIntegerField(_("catalogue version"))
    stopped_on = models.DateField(_("stopped on"), null=True, blank=True)
    stop_reason = models.CharField(_("stop reason"), max_length=20, choices=StopReason, blank=True)
    override_reason = models.TextField(_("override of a blocking finding"), blank=True)
    row_version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["-start_date", "-id"]
        verbose_name = _("treatment course")
        constraints = [
            models.UniqueConstraint(
                fields=["patient", "drug"],
                condition=Q(status__in=["planned", "active", "interrupted"]),
                name="monitoring_course_one_open_per_drug",
            ),
            models.CheckConstraint(
                condition=Q(stopped_on__isnull=True) | Q(stopped_on__gte=models.F("start_date")),
                name="monitoring_course_stop_after_start",
            ),
            models.CheckConstraint(
                condition=Q(dose__isnull=True) | Q(dose__gt=0), name="monitoring_course_dose_positive"
            ),
        ]

    def __str__(self) -> str:
        dose = f" {self.dose.normalize():f} {self.dose_unit}" if self.dose is not None else ""
        return f"{self.drug}{dose}"

    def get_absolute_url(self) -> str:
        return reverse("therapy:course", args=[self.public_id])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES


class CourseEvent(models.Model):
    class Kind(models.TextChoices):
        START = "start", _("Started")
        DOSE_CHANGE = "dose_change", _("Dose changed")
        INTERRUPTION = "interruption", _("Interrupted")
        RESUMPTION = "resumption", _("Resumed")
        STOP = "stop", _("Stopped")

    course = models.ForeignKey(TreatmentCourse, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(_("event"), max_length=15, choices=Kind)
    on = models.DateField(_("on"))
    dose_before = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    dose_after = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    reason = models.CharField(_("reason"), max_length=30, blank=True)
    note = models.TextField(_("note"), blank=True)
    catalogue_version = models.PositiveIntegerField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["on", "id"]
        verbose_name = _("course event")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.on}"


class SafetyFinding(models.Model):
    """One finding of the safety check, as shown to the prescriber, with their acknowledgement or override."""

    class Severity(models.IntegerChoices):
        INFO = 1, _("Information")
        DOSE_ADVICE = 2, _("Dose advice")
        WARNING = 3, _("Warning: needs acknowledgement")
        DO_NOT_START = 4, _("Do not start")
        CONTRAINDICATED = 5, _("Contraindicated")

    course = models.ForeignKey(TreatmentCourse, on_delete=models.CASCADE, related_name="findings")
    event = models.ForeignKey(CourseEvent, null=True, blank=True, on_delete=models.CASCADE, related_name="findings")
    severity = models.PositiveSmallIntegerField(_("severity"), choices=Severity)
    code = models.CharField(_("rule code"), max_length=120)
    message = models.TextField(_("finding"))
    rule = models.TextField(_("rule"), blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    unconfirmed = models.BooleanField(default=False)
    catalogue_version = models.PositiveIntegerField(_("catalogue version"))
    recommended_dose = models.DecimalField(max_digits=7, decimal_places=2, null=True, blank=True)
    acknowledgement = models.TextField(_("acknowledgement or override reason"), blank=True)
    overridden = models.BooleanField(_("blocking finding overridden"), default=False)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-severity", "id"]
        verbose_name = _("safety finding")

    def __str__(self) -> str:
        return self.message[:80]


class ScheduledItem(models.Model):
    """A check due for a patient on a course: a lab panel, an infection check or an efficacy review."""

    class Status(models.TextChoices):
        OPEN = "open", _("To do")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    course = models.ForeignKey(TreatmentCourse, on_delete=models.CASCADE, related_name="schedule")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="scheduled_items")
    check_type = models.CharField(_("check"), max_length=20)
    kind = models.CharField(_("kind"), max_length=20, blank=True)
    due_date = models.DateField(_("due"))
    earliest = models.DateField(_("window from"), null=True, blank=True, help_text=_("Empty: any time before"))
    latest = models.DateField(_("window to"))
    reason = models.CharField(_("why"), max_length=300)
    rule = models.CharField(_("rule"), max_length=300, blank=True)
    source = models.CharField(_("source"), max_length=200, blank=True)
    unconfirmed = models.BooleanField(default=False)
    catalogue_version = models.PositiveIntegerField(_("catalogue version"))
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.OPEN)
    completed_on = models.DateField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    cancel_reason = models.CharField(max_length=200, blank=True)
    completion_note = models.CharField(_("note"), max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        verbose_name = _("scheduled check")
        indexes = [
            models.Index(fields=["status", "due_date"], name="monitoring_sched_status_due"),
            models.Index(fields=["patient", "status", "check_type"], name="monitoring_sched_patient"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(earliest__isnull=True) | Q(earliest__lte=models.F("due_date")))
                & Q(latest__gte=models.F("due_date")),
                name="monitoring_sched_window_contains_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.check_type} due {self.due_date}"


class ResultFlag(models.TextChoices):
    LOW = "low", _("Low")
    HIGH = "high", _("High")
    NORMAL = "normal", _("Normal")
    NO_RANGE = "no_range", _("No reference range set")
    CODED = "coded", _("Coded result")


class LabResult(models.Model):
    """One lab value, stored in the lab test's canonical unit, with what was typed and who entered it."""

    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="lab_results")
    lab_test = models.ForeignKey("drugs.LabTest", on_delete=models.PROTECT, related_name="results")
    collected_on = models.DateField(_("collected on"))
    value = models.DecimalField(_("value"), max_digits=12, decimal_places=4, null=True, blank=True)
    coded_value = models.CharField(_("result"), max_length=20, blank=True)
    entered_value = models.CharField(_("value as entered"), max_length=40, blank=True)
    entered_unit = models.CharField(_("unit as entered"), max_length=30, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now, editable=False)
    # Filled by the server at save time (monitoring.interpret): the reference-range flag and the worst drug action
    # level reached across the patient's open courses, with its rule, source and catalogue version.
    flag = models.CharField(_("reference flag"), max_length=10, choices=ResultFlag, blank=True)
    action = models.CharField(_("action level reached"), max_length=15, blank=True)
    action_rule = models.TextField(_("action rule"), blank=True)
    action_source = models.CharField(_("action source"), max_length=200, blank=True)
    interpreted_version = models.PositiveIntegerField(_("catalogue version"), null=True, blank=True)

    class Meta:
        ordering = ["-collected_on", "-id"]
        verbose_name = _("lab result")
        indexes = [models.Index(fields=["patient", "lab_test", "-collected_on"], name="monitoring_result_latest")]

    def __str__(self) -> str:
        return f"{self.lab_test.short_name} on {self.collected_on}"


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

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="alerts")
    course = models.ForeignKey(TreatmentCourse, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="alerts"
    )
    lab_result = models.ForeignKey(LabResult, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
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
