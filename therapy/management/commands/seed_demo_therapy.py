"""Give the demo clinic treatment courses across the drugs, started at different dates (PORTAL_DEMO only).

Courses go through the real services: the safety check runs, warnings are acknowledged and blocking findings
overridden with a demo reason, and the schedule is generated from the catalogue. Checks that fell due before today
are marked done for most patients and left open for some, so the worklist has overdue items. Idempotent: patients
who already have a course are left alone. A few patients are kept without therapy so the start can be tried.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from drugs.models import Drug, Regimen
from patients.models import Patient
from portal.demo import demo_accounts_ensure
from therapy import services
from therapy.models import ScheduledItem
from therapy.safety import Severity

# (drug slug, dose) in rotation; baricitinib and tofacitinib appear rarely, as in clinics.
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
KEEP_WITHOUT_THERAPY = 8  # the first patients (the acceptance cases) stay free for trying a start
DEMO_ACK = "Demo: discussed with the patient; benefits judged to outweigh the risk."
DEMO_OVERRIDE = "Demo: override recorded for illustration only."


class Command(BaseCommand):
    help = "Start demo treatment courses for most demo patients (PORTAL_DEMO only; idempotent)."

    def handle(self, *args, **options):
        if not settings.PORTAL_DEMO:
            raise CommandError("seed_demo_therapy only runs with PORTAL_DEMO on (synthetic demo data).")
        users = demo_accounts_ensure()
        derm = next(u for u in users if u.username == "demo-derm")
        nurse = next(u for u in users if u.username == "demo-nurse")
        patients = list(Patient.objects.filter(clinic=derm.clinic, courses__isnull=True).order_by("record_number"))[
            KEEP_WITHOUT_THERAPY:
        ]
        if Patient.objects.filter(clinic=derm.clinic, courses__isnull=False).exists():
            patients = []
        rng = random.Random(7)  # noqa: S311  (synthetic data)
        today = timezone.localdate()
        started = 0
        for index, patient in enumerate(patients):
            slug, dose = ROTATION[index % len(ROTATION)]
            drug = Drug.objects.filter(slug=slug).first()
            if drug is None:
                continue
            regimen = Regimen.objects.filter(drug=drug, dose=dose).first() if dose else None
            start = today - dt.timedelta(days=rng.randint(-10, 400))
            start = max(start, patient.date_of_birth + dt.timedelta(days=365 * 12))
            plan = services.Plan(
                drug=drug,
                dose=regimen.dose if regimen else None,
                frequency=regimen.frequency if regimen else "as directed",
                start_date=start,
                topical_bsa_percent=Decimal(rng.choice([5, 10, 15])) if drug.route == "topical" else None,
            )
            with transaction.atomic():
                findings, _ = services.safety_preview(patient=patient, plan=plan)
                acks = {f.code: DEMO_ACK for f in findings if f.severity == Severity.WARNING}
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
