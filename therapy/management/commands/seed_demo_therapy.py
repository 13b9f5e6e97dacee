"""Give the demo clinic treatment courses across the drugs, started at different dates (PORTAL_DEMO only).

Courses go through the real services: the safety check runs, warnings are acknowledged and blocking findings
overridden with a demo reason, and the schedule is generated from the catalogue. Each course starts on the
patient's baseline assessment, after the screening ``seed_demo_clinic`` recorded, and everything the start writes
(the course, its findings' acknowledgements, its schedule, the audit event) is dated that morning. Checks that fell
due before today are marked done for most patients and left open for some, so the worklist has overdue items;
``seed_demo_monitoring`` then records the results and symptom checks those checks stand on.

The drug fits the patient: a cream for a small affected area, a tablet for moderate-to-severe eczema; for a child
only a drug licensed at their age and weight; a dose the label offers them; and never a drug the safety check
finds contraindicated (the next drug in the rotation is tried). Pregnant, breastfeeding or pregnancy-planning
patients get no course. Idempotent: patients who already have a course are left alone. The first patients are
kept without therapy so a start can be tried.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from decimal import Decimal

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from drugs.models import Drug, Regimen
from drugs.selectors import drug_label
from patients import risk
from patients.management.demo import KEEP_WITHOUT_THERAPY, backdated, stamp
from patients.models import Patient, RiskProfile
from portal.demo import demo_accounts_ensure
from portal.models import AuditEvent
from therapy import services
from therapy.models import CourseEvent, SafetyFinding, ScheduledItem, TreatmentCourse
from therapy.safety import Severity

# (drug slug, dose) in rotation; baricitinib and tofacitinib appear rarely, as in clinics. Tablets and creams
# rotate separately: which of the two a patient gets follows the affected area.
ROTATION = (
    ("abrocitinib", "100"),
    ("upadacitinib", "15"),
    ("ruxolitinib-cream", None),
    ("abrocitinib", "200"),
    ("upadacitinib", "30"),
    ("delgocitinib", None),
    ("baricitinib", "4"),
    ("abrocitinib", "100"),
    ("upadacitinib", "15"),
    ("tofacitinib", "5"),
)
TOPICAL_MAX_BSA = Decimal(20)  # the affected area a JAK-inhibitor cream may cover (ruxolitinib cream's label)
ADULT_YEARS = 18
DEMO_ACK = "Demo: discussed with the patient; benefits judged to outweigh the risk."
DEMO_OVERRIDE = "Demo: override recorded for illustration only."
NO_COURSE_FLAGS = ("pregnant", "breastfeeding", "planning_pregnancy")
# What a course start writes with the time of writing; the seed dates it on the start day instead.
START_TIMESTAMPS = {
    TreatmentCourse: ("created_at", "updated_at"),
    CourseEvent: ("created_at",),
    SafetyFinding: ("acknowledged_at",),
    ScheduledItem: ("created_at",),
    AuditEvent: ("at",),
}


class Command(BaseCommand):
    help = "Start demo treatment courses for most demo patients (PORTAL_DEMO only; idempotent)."

    def handle(self, *args, **options):
        if not settings.PORTAL_DEMO:
            raise CommandError("seed_demo_therapy only runs with PORTAL_DEMO on (synthetic demo data).")
        users = demo_accounts_ensure()
        derm = next(u for u in users if u.username == "demo-derm")
        nurse = next(u for u in users if u.username == "demo-nurse")
        patients = list(
            Patient.objects.filter(clinic=derm.clinic, courses__isnull=True)
            .select_related("risk_profile")
            .order_by("record_number")
        )[KEEP_WITHOUT_THERAPY:]
        if Patient.objects.filter(clinic=derm.clinic, courses__isnull=False).exists():
            patients = []
        today = timezone.localdate()
        drugs = {d.slug: d for d in Drug.objects.filter(slug__in={slug for slug, _dose in ROTATION})}
        turns = {"oral": 0, "topical": 0}
        started = 0
        for index, patient in enumerate(patients):
            start = self._start_day(patient, today)
            if start is None:
                continue
            route = "topical" if patient.bsa_percent is not None and patient.bsa_percent <= TOPICAL_MAX_BSA else "oral"
            choice = self._choose(patient, start, drugs, route, turns[route])
            if choice is None:
                continue
            plan, findings = choice
            turns[route] += 1
            acks = {f.code: DEMO_ACK for f in findings if f.severity == Severity.WARNING}
            with transaction.atomic():
                with backdated(stamp(start, 120), START_TIMESTAMPS):
                    course = services.course_start(
                        actor=derm, patient=patient, plan=plan, acknowledgements=acks, override_reason=DEMO_OVERRIDE
                    )
                leave_overdue = index % 4 == 0
                for item in course.schedule.filter(due_date__lt=today).order_by("due_date"):
                    if leave_overdue and item.due_date >= today - dt.timedelta(days=45):
                        continue
                    ScheduledItem.objects.filter(pk=item.pk).update(
                        status=ScheduledItem.Status.DONE, completed_on=item.due_date, completed_by=nurse
                    )
            started += 1
            if options["verbosity"] and (started % 10 == 0 or index == len(patients) - 1):
                self.stdout.write(f"Started {started}/{len(patients)} demo courses")
        self.stdout.write(self.style.SUCCESS(f"Demo therapy ready: {started} courses started."))

    @staticmethod
    def _start_day(patient: Patient, today: dt.date) -> dt.date | None:
        """The baseline assessment's day, for a patient a JAK inhibitor may be started on; None for the others."""
        try:
            profile = patient.risk_profile
        except RiskProfile.DoesNotExist:
            profile = None
        if profile is not None and any(getattr(profile, flag) for flag in NO_COURSE_FLAGS):
            return None
        baseline = patient.assessments.order_by("assessed_on").values_list("assessed_on", flat=True).first()
        return baseline if baseline is not None and baseline <= today else None

    @staticmethod
    def _licensed_for_child(drug: Drug, age: int, weight: Decimal | None) -> bool:
        status = drug_label(drug).status(services.jurisdiction())
        return (
            status is not None
            and status.status == "approved"
            and (status.min_age_years is None or age >= status.min_age_years)
            and (status.min_weight_kg is None or (weight is not None and weight >= status.min_weight_kg))
        )

    def _choose(self, patient: Patient, start: dt.date, drugs: dict[str, Drug], route: str, turn: int):
        """The rotation's next drug of ``route`` that fits the patient on ``start``: (plan, findings), or None."""
        options = [(slug, dose) for slug, dose in ROTATION if slug in drugs and drugs[slug].route == route]
        age = risk.age_on(patient.date_of_birth, start) or 0
        for step in range(len(options)):
            slug, dose = options[(turn + step) % len(options)]
            drug = drugs[slug]
            if age < ADULT_YEARS and not self._licensed_for_child(drug, age, patient.weight_kg):
                continue
            if dose:
                regimen = Regimen.objects.filter(drug=drug, dose=dose).first()
            else:
                regimen = Regimen.objects.filter(drug=drug, kind="start", dose__isnull=True).first()
            if dose and regimen is None:
                continue
            plan = services.Plan(
                drug=drug,
                dose=regimen.dose if regimen and dose else None,
                frequency=regimen.frequency if regimen else "as directed",
                start_date=start,
                topical_bsa_percent=patient.bsa_percent if route == "topical" else None,
            )
            if plan.dose is not None and not self._offered(patient, plan, age):
                continue
            findings, _version = services.safety_preview(patient=patient, plan=plan)
            advised = sorted({f.recommended_dose for f in findings if f.recommended_dose is not None})
            if plan.dose is not None and advised and plan.dose > advised[0]:
                # The label advises a lower dose for this patient (kidneys, age, an interacting medicine): use it.
                option = self._offered(patient, replace(plan, dose=advised[0], frequency=""), age)
                if option is None:
                    continue
                plan = replace(plan, dose=option.dose, frequency=option.frequency)
                findings, _version = services.safety_preview(patient=patient, plan=plan)
            if any(f.severity == Severity.CONTRAINDICATED for f in findings):
                continue
            return plan, findings
        return None

    @staticmethod
    def _offered(patient: Patient, plan: services.Plan, age: int):
        """The label's dose option for the plan's dose (and frequency, when given) on the start day, or None; for a
        child never an off-label one."""
        return next(
            (
                o
                for o in services.dose_options(patient, plan.drug, on=plan.start_date)
                if o.dose == plan.dose
                and plan.frequency in ("", o.frequency)
                and (age >= ADULT_YEARS or not o.off_label)
            ),
            None,
        )
