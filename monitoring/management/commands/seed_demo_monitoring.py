"""Give the demo clinic lab results, symptom checks and open alerts (PORTAL_DEMO only; idempotent).

Results go through the real services, so they are interpreted and raise alerts as in use: a patient on abrocitinib
whose platelets fell to 45 ×10³/µL (urgent discontinue alert), one with ANC 0.9 (same-day interrupt alert), a
symptom check with a clot sign (urgent) and one with fever (same day), plus normal blood counts for others so the
trend charts have lines. Runs once: if any demo lab result exists, nothing is added.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.utils import timezone

from drugs.models import LabTest
from monitoring import services as svc
from patients.models import LabResult
from portal.demo import demo_accounts_ensure
from therapy.models import TreatmentCourse

NORMAL_CBC = {"wbc": "6.4", "anc": "3.6", "alc": "1.9", "hb": "13.8", "platelets": "245"}


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
        if LabResult.objects.filter(patient__clinic_id=clinic_id).exists():
            self.stdout.write("Demo monitoring data already present: nothing added.")
            return
        courses = list(
            TreatmentCourse.objects.filter(patient__clinic_id=clinic_id, status=TreatmentCourse.Status.ACTIVE)
            .select_related("drug", "patient")
            .order_by("patient__record_number")
        )
        oral = [c for c in courses if c.drug.route == "oral"]
        abro = [c for c in oral if c.drug.slug == "abrocitinib"]
        if not abro or len(oral) < 6:
            self.stdout.write("Run seed_demo_therapy first: not enough active oral courses for the demo.")
            return
        tests = {t.analyte: t for t in LabTest.objects.all()}
        today = timezone.localdate()

        def rows(course, days_ago, values):
            on = max(today - dt.timedelta(days=days_ago), course.start_date)
            return [
                svc.ResultRow(
                    patient=course.patient,
                    lab_test=tests[a],
                    collected_on=on,
                    value=Decimal(v),
                    coded_value="",
                    entered_value=v,
                    entered_unit=tests[a].canonical_unit,
                )
                for a, v in values.items()
            ]

        falling, neutropenic = abro[0], next(c for c in oral if c.patient_id != abro[0].patient_id)
        batches = [
            rows(falling, 56, NORMAL_CBC),
            rows(falling, 28, {**NORMAL_CBC, "platelets": "120"}),
            rows(falling, 1, {**NORMAL_CBC, "platelets": "45"}),  # discontinue level -> urgent alert
            rows(neutropenic, 30, NORMAL_CBC),
            rows(neutropenic, 2, {**NORMAL_CBC, "anc": "0.9"}),  # interrupt level -> same-day alert
        ]
        others = [c for c in oral if c.patient_id not in (falling.patient_id, neutropenic.patient_id)][:6]
        for course in others:
            batches.append(rows(course, 60, NORMAL_CBC))
            batches.append(rows(course, 14, {**NORMAL_CBC, "platelets": "230", "hb": "13.1"}))
        count = 0
        for batch in batches:
            count += len(svc.lab_results_record(actor=nurse, rows=batch, origin="demo"))
        symptom_courses = [c for c in oral if c not in (falling, neutropenic)][6:8]
        for course, symptoms in zip(symptom_courses, (["leg_pain_swelling"], ["fever", "cough"]), strict=False):
            svc.symptom_check_record(
                actor=nurse, patient=course.patient, checked_on=today, symptoms=symptoms, none_reported=False
            )
        self.stdout.write(self.style.SUCCESS(f"Demo monitoring ready: {count} lab results, symptom checks, alerts."))
