"""Treatment courses, their safety findings and events, and the course schedule of checks.

The tables kept their
``monitoring_*`` names when the models moved here from ``monitoring`` (state-only migration)."""

from __future__ import annotations

import uuid
from decimal import Decimal

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

    # The state machine: what may be done to a course in each status (the services refuse anything else; pages
    # show only these). Keys match the action URLs and forms; the order is the order the forms are offered in.
    DOSE, INTERRUPT, RESUME, STOP = "dose", "interrupt", "resume", "stop"
    ACTIONS_BY_STATUS = {
        Status.PLANNED: (STOP, DOSE),
        Status.ACTIVE: (STOP, INTERRUPT, DOSE),
        Status.INTERRUPTED: (STOP, RESUME),
        Status.STOPPED: (),
    }

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
        db_table = "monitoring_treatmentcourse"
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
        return course_text(str(self.drug), self.dose, self.dose_unit)

    def get_absolute_url(self) -> str:
        return reverse("therapy:course", args=[self.public_id])

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

    @property
    def allowed_actions(self) -> tuple[str, ...]:
        """The actions this course's status allows (only its own fields: no query)."""
        return self.ACTIONS_BY_STATUS.get(self.Status(self.status), ())

    @property
    def can_change_dose(self) -> bool:
        return self.DOSE in self.allowed_actions

    @property
    def can_interrupt(self) -> bool:
        return self.INTERRUPT in self.allowed_actions

    @property
    def can_resume(self) -> bool:
        return self.RESUME in self.allowed_actions

    @property
    def can_stop(self) -> bool:
        return self.STOP in self.allowed_actions


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
        db_table = "monitoring_courseevent"
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
        db_table = "monitoring_safetyfinding"
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
    # An open baseline screening check the patient's record satisfies by now (a lab result, a screening record or a
    # risk-profile status, read by patients.selectors.screening_statuses). Kept by therapy.services.record_checks_sync
    # whenever one of those facts is written or corrected, so the clinic-wide lists (the worklist, its counts, the
    # reminders) leave such checks out in SQL instead of reading every patient's record per request.
    satisfied_by_record = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["due_date", "id"]
        db_table = "monitoring_scheduleditem"
        verbose_name = _("scheduled check")
        indexes = [
            models.Index(fields=["status", "due_date"], name="monitoring_sched_status_due"),
            models.Index(fields=["patient", "status", "check_type"], name="monitoring_sched_patient"),
            # The worklist's walk by due date and its overdue/today counts over the clinic's open checks: read from
            # the index alone (PostgreSQL index-only scan); the counts were a 3,500-check heap scan, 7 ms.
            models.Index(
                fields=["due_date"],
                include=["patient"],
                condition=Q(status="open", satisfied_by_record=False),
                name="monitoring_sched_open_due",
            ),
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


def course_text(drug: str, dose: Decimal | None, dose_unit: str) -> str:
    """How a course is named (``str(course)``): the drug and its dose, "Abrocitinib 100 mg". For lists that read
    the course with ``values()`` instead of loading it."""
    return f"{drug} {dose.normalize():f} {dose_unit}" if dose is not None else drug
