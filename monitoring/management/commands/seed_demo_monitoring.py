"""Give the demo clinic lab results, symptom checks and open alerts (PORTAL_DEMO only; idempotent).

Results go through the real services, so they are interpreted and raise alerts as in use. Every check that
``seed_demo_therapy`` marked done gets what it stands on, on the day it was done: a blood count, lipid, liver or
kidney panel in the reference range (eGFR as the risk profile records it), a TB or hepatitis test with the result
the profile records, an infection check with nothing reported. Then the stories with action levels: a patient on
abrocitinib whose platelets fell over two months to 45 ×10³/µL yesterday (urgent discontinue alert), one with
ANC 0.9 yesterday (same-day interrupt alert), and today a symptom check with a clot sign (urgent) and one with
fever (same day). Each row, its audit event and its alert are dated when the result came in. Runs once: if the
clinic has any symptom check or alert, nothing is added.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from drugs.models import LabTest
from monitoring import services as svc
from monitoring.models import Alert, SymptomCheck
from patients.management.demo import backdated, normal_panel, stamp
from patients.models import LabResult, ScreeningResult
from portal.demo import demo_accounts_ensure
from portal.models import AuditEvent
from therapy.models import ScheduledItem, TreatmentCourse

PANEL_CHECKS = ("cbc", "lipids", "liver", "kidney")
# Screening checks: the coded lab tests that complete them, and the risk-profile status that says their result.
CODED_CHECKS = {
    "tb": (("tb_igra",), "tb_status", ("latent_untreated", "latent_treated", "active")),
    "hbv": (("hbsag", "anti_hbc"), "hepatitis_b", ("positive",)),
    "hcv": (("hcv_ab",), "hepatitis_c", ("positive",)),
    "pregnancy": (("hcg_urine",), "pregnant", (True,)),
}
RESULTS_IN = 90  # minutes after the demo day opens: results arrive before a course started that day (10:30)
# What recording a result or a symptom check writes with the time of writing; the seed dates it on the day.
RECORD_TIMESTAMPS = {
    LabResult: ("recorded_at",),
    ScreeningResult: ("recorded_at",),
    SymptomCheck: ("recorded_at",),
    Alert: ("created_at",),
    AuditEvent: ("at",),
}
# The falling platelet count: (days before today, ×10³/µL); a linear fall between the points.
PLATELET_FALL = ((60, Decimal(240)), (28, Decimal(120)), (1, Decimal(45)))


def _falling_platelets(days_ago: int) -> Decimal | None:
    """The count on the fall, or None before it began."""
    if days_ago > PLATELET_FALL[0][0]:
        return None
    for (far, far_value), (near, near_value) in zip(PLATELET_FALL, PLATELET_FALL[1:], strict=False):
        if near <= days_ago <= far:
            share = Decimal(far - days_ago) / Decimal(far - near)
            return (far_value + (near_value - far_value) * share).quantize(Decimal(1))
    return PLATELET_FALL[-1][1]


class Command(BaseCommand):
    help = "Add demo lab results, symptom checks and alerts to the demo clinic (PORTAL_DEMO only; idempotent)."

    def handle(self, *args, **options):
        if not settings.PORTAL_DEMO:
            raise CommandError("seed_demo_monitoring only runs with PORTAL_DEMO on (synthetic demo data).")
        users = demo_accounts_ensure()
        nurse = next(u for u in users if u.username == "demo-nurse")
        clinic_id = nurse.clinic_id
        if clinic_id is None:
            raise CommandError("The demo nurse has no clinic: run setup_demo.")
        if (
            SymptomCheck.objects.filter(patient__clinic_id=clinic_id).exists()
            or Alert.objects.filter(patient__clinic_id=clinic_id).exists()
        ):
            self.stdout.write("Demo monitoring data already present: nothing added.")
            return
        courses = list(
            TreatmentCourse.objects.filter(patient__clinic_id=clinic_id, status=TreatmentCourse.Status.ACTIVE)
            .select_related("drug", "patient", "patient__risk_profile")
            .order_by("patient__record_number")
        )
        oral = [c for c in courses if c.drug.route == "oral"]
        today = timezone.localdate()
        done_cbc: dict[int, list[dt.date]] = defaultdict(list)
        for course_id, completed_on in ScheduledItem.objects.filter(
            course__in=oral, check_type="cbc", status=ScheduledItem.Status.DONE, completed_on__isnull=False
        ).values_list("course_id", "completed_on"):
            if completed_on is not None:
                done_cbc[course_id].append(completed_on)

        def fits(course, started_days: int, quiet_days: int) -> bool:
            """Started at least ``started_days`` ago, with no blood count done in the last ``quiet_days``."""
            return course.start_date <= today - dt.timedelta(days=started_days) and not any(
                on > today - dt.timedelta(days=quiet_days) for on in done_cbc[course.pk]
            )

        falling = next((c for c in oral if c.drug.slug == "abrocitinib" and fits(c, 60, 30)), None)
        neutropenic = next((c for c in oral if c is not falling and fits(c, 30, 3)), None)
        if falling is None or neutropenic is None or len(oral) < 6:
            self.stdout.write("Run seed_demo_therapy first: not enough active oral courses for the demo.")
            return
        tests = {t.analyte: t for t in LabTest.objects.all()}
        with transaction.atomic():
            count = self._seed(nurse, clinic_id, tests, today, falling, neutropenic)
            for course, symptoms in zip(
                [c for c in oral if c not in (falling, neutropenic)][6:8],
                (["leg_pain_swelling"], ["fever", "cough"]),
                strict=False,
            ):
                with backdated(stamp(today, RESULTS_IN), RECORD_TIMESTAMPS):
                    svc.symptom_check_record(
                        actor=nurse, patient=course.patient, checked_on=today, symptoms=symptoms, none_reported=False
                    )
        self.stdout.write(self.style.SUCCESS(f"Demo monitoring ready: {count} lab results, symptom checks, alerts."))

    def _seed(self, nurse, clinic_id, tests, today, falling, neutropenic) -> int:
        # Per patient and day: the lab values to record and whether an infection check was done.
        values: dict[tuple[int, dt.date], dict[str, str]] = defaultdict(dict)
        checked: set[tuple[int, dt.date]] = set()
        patients = {}
        done = ScheduledItem.objects.filter(
            patient__clinic_id=clinic_id, status=ScheduledItem.Status.DONE, completed_on__isnull=False
        ).select_related("patient", "patient__risk_profile")
        for item in done.order_by("completed_on", "id"):
            patient, on = item.patient, item.completed_on
            if on is None:  # excluded by the filter; tells the type checker
                continue
            patients[patient.pk] = patient
            key = (patient.pk, on)
            rng = random.Random(f"demo-results-{patient.record_number}-{on}-{item.check_type}")  # noqa: S311  (synthetic data)
            if item.check_type in PANEL_CHECKS:
                egfr = getattr(getattr(patient, "risk_profile", None), "egfr", None)
                values[key].update(normal_panel(item.check_type, rng=rng, sex=patient.sex_at_birth, egfr=egfr))
            elif item.check_type in CODED_CHECKS:
                analytes, status_field, positive = CODED_CHECKS[item.check_type]
                status = getattr(getattr(patient, "risk_profile", None), status_field, None)
                for analyte in analytes:
                    values[key][analyte] = "positive" if status in positive else "negative"
            elif item.check_type == "infection_check":
                checked.add(key)
        # The stories with action levels: extra blood counts between the scheduled ones.
        for course, days_ago, change in (
            (falling, 28, {}),
            (falling, 1, {}),
            (neutropenic, 28, {}),
            (neutropenic, 1, {"anc": "0.9"}),  # interrupt level -> same-day alert
        ):
            patients[course.patient_id] = course.patient
            on = today - dt.timedelta(days=days_ago)
            rng = random.Random(f"demo-story-{course.patient.record_number}-{on}")  # noqa: S311  (synthetic data)
            values[(course.patient_id, on)].update(
                {**normal_panel("cbc", rng=rng, sex=course.patient.sex_at_birth), **change}
            )
        for (patient_id, on), row in values.items():
            if patient_id == falling.patient_id and "platelets" in row:
                platelets = _falling_platelets((today - on).days)
                if platelets is not None:
                    row["platelets"] = str(platelets)  # 45 yesterday: discontinue level -> urgent alert
        count = 0
        for patient_id, on in sorted({*values, *checked}, key=lambda key: (key[1], key[0])):
            patient = patients[patient_id]
            with backdated(stamp(on, RESULTS_IN), RECORD_TIMESTAMPS):
                rows = [
                    self._row(patient, tests[analyte], on, value)
                    for analyte, value in values.get((patient_id, on), {}).items()
                    if analyte in tests
                ]
                if rows:
                    count += len(svc.lab_results_record(actor=nurse, rows=rows, origin="demo").results)
                if (patient_id, on) in checked:
                    svc.symptom_check_record(
                        actor=nurse, patient=patient, checked_on=on, symptoms=[], none_reported=True
                    )
        return count

    @staticmethod
    def _row(patient, test: LabTest, on: dt.date, value: str) -> svc.ResultRow:
        if test.value_type == LabTest.ValueType.CODED:
            return svc.ResultRow(
                patient=patient, lab_test=test, collected_on=on, coded_value=value, entered_value=value
            )
        return svc.ResultRow(
            patient=patient,
            lab_test=test,
            collected_on=on,
            value=Decimal(value),
            entered_value=value,
            entered_unit=test.canonical_unit,
        )
