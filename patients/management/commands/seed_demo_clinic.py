"""Create the synthetic demo clinic: clearly fictional patients across the risk profiles (PORTAL_DEMO only).

Idempotent: when the demo clinic already holds at least ``--count`` patients nothing is added; otherwise only the
missing ones are. Names are invented ("Fictional", "Demoson", ...); no real person is represented.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from drugs.models import Medicine
from patients.models import Assessment, ConcomitantMedicine, Patient, RiskProfile, ScreeningResult
from patients.selectors import PATIENT_OBJECT_TYPE
from portal.audit import audit_record
from portal.demo import demo_accounts_ensure
from portal.models import AuditEvent

GIVEN = ("Ada", "Ben", "Cleo", "Dev", "Esme", "Finn", "Gita", "Hal", "Iris", "Jon", "Kira", "Leo", "Mina", "Noor")
FAMILY = ("Fictional", "Demoson", "Testperson", "Samplewood", "Mockley", "Exampleton", "Placeholder", "Synthby")

# Archetypes: (label, years old, sex, risk-profile fields, weight kg, medicines [(name, dose)])
Archetype = tuple[str, int, str, dict[str, Any], int, list[tuple[str, str]]]
ARCHETYPES: tuple[Archetype, ...] = (
    (
        "smoker 58 with hypertension",
        58,
        "male",
        {"smoking_status": "current", "pack_years": Decimal(30), "hypertension": True},
        84,
        [],
    ),
    ("pregnant", 29, "female", {"pregnant": True, "smoking_status": "never"}, 64, []),
    ("latent TB untreated", 41, "male", {"tb_status": "latent_untreated", "smoking_status": "never"}, 77, []),
    (
        "eGFR 45",
        71,
        "female",
        {"egfr": Decimal(45), "smoking_status": "never", "diabetes": True},
        70,
        [("metformin", "500 mg twice daily")],
    ),
    (
        "on clopidogrel",
        63,
        "male",
        {
            "coronary_disease": True,
            "dyslipidaemia": True,
            "smoking_status": "former",
            "smoking_quit_year": 2010,
            "pack_years": Decimal(12),
        },
        90,
        [("clopidogrel", "75 mg once daily"), ("aspirin", "75 mg once daily")],
    ),
    ("past cancer", 67, "female", {"cancer_status": "past", "smoking_status": "never"}, 61, []),
    (
        "clot history on HRT",
        52,
        "female",
        {"dvt_history": True, "hormonal_therapy": True, "smoking_status": "never"},
        96,
        [],
    ),
    (
        "young, no risk",
        24,
        "female",
        {
            "smoking_status": "never",
            "tb_status": "negative",
            "hepatitis_b": "negative",
            "hepatitis_c": "negative",
            "zoster_vaccinated": True,
        },
        58,
        [("combined oral contraceptive", "1 tablet daily")],
    ),
    (
        "hepatitis B",
        45,
        "male",
        {"hepatitis_b": "positive", "smoking_status": "former", "smoking_quit_year": 2015, "pack_years": Decimal(4)},
        80,
        [],
    ),
    (
        "CYP2C19 poor metaboliser",
        35,
        "male",
        {"cyp2c19_poor_metaboliser": "yes", "smoking_status": "never"},
        73,
        [("fluconazole", "150 mg weekly")],
    ),
    (
        "shingles and recurrent infections",
        55,
        "female",
        {"herpes_zoster_history": True, "recurrent_serious_infections": True},
        66,
        [],
    ),
    ("adolescent", 15, "male", {"smoking_status": "never"}, 55, []),
)


def _birth(today: dt.date, years: int, rng: random.Random) -> dt.date:
    return today - dt.timedelta(days=years * 365 + years // 4 + rng.randint(1, 300))


class Command(BaseCommand):
    help = "Create the synthetic demo clinic's patients (PORTAL_DEMO only; idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--count", type=int, default=60, help="How many demo patients the clinic should hold.")

    def handle(self, *args, count: int, **options):
        if not settings.PORTAL_DEMO:
            raise CommandError("seed_demo_clinic only runs with PORTAL_DEMO on (synthetic demo data).")
        if count < 1:
            raise CommandError("--count must be at least 1.")
        users = demo_accounts_ensure()
        derm = next(u for u in users if u.username == "demo-derm")
        nurse = next(u for u in users if u.username == "demo-nurse")
        clinic = derm.clinic
        existing = Patient.objects.filter(clinic=clinic).count()
        if existing >= count:
            self.stdout.write(f"Demo clinic already has {existing} patients; nothing to add.")
            return
        with transaction.atomic():
            created = self._seed(clinic=clinic, derm=derm, nurse=nurse, start=existing, total=count)
            audit_record(
                actor=None,
                action=AuditEvent.Action.CREATE,
                object_type="portal.clinic",
                object_id=str(derm.clinic_id),
                summary=f"Demo clinic seeded with {created} synthetic patients",
            )
        self.stdout.write(self.style.SUCCESS(f"Demo clinic ready: {existing + created} synthetic patients."))

    def _seed(self, *, clinic, derm, nurse, start: int, total: int) -> int:
        rng = random.Random(2026 + start)  # noqa: S311  (synthetic data, not security)
        today = timezone.localdate()
        now = timezone.now()
        catalogue = {m.name.lower(): m for m in Medicine.objects.filter(Q(name__in=self._medicine_names()))}
        step = max(1, (total - start) // 10)
        done = 0
        for chunk_start in range(start, total, step):
            numbers = range(chunk_start, min(chunk_start + step, total))
            patients, plans = [], []
            for i in numbers:
                label, years, sex, fields, weight, meds = ARCHETYPES[i % len(ARCHETYPES)]
                years += (i // len(ARCHETYPES)) % 3  # vary ages a little between rounds
                patients.append(
                    Patient(
                        clinic=clinic,
                        record_number=f"DEMO-{i + 1:05d}",
                        given_name=GIVEN[i % len(GIVEN)],
                        family_name=f"{FAMILY[i % len(FAMILY)]}-{i + 1}",
                        date_of_birth=_birth(today, years, rng),
                        sex_at_birth=sex,
                        weight_kg=Decimal(weight + rng.randint(-4, 4)),
                        height_cm=Decimal(rng.randint(158, 188)) if years >= 18 else Decimal(165),
                        dermatologist=derm,
                        diagnosis_date=today - dt.timedelta(days=rng.randint(400, 8000)),
                        bsa_percent=Decimal(rng.randint(10, 60)),
                        prior_systemic_treatments=rng.choice(["", "ciclosporin", "methotrexate", "dupilumab"]),
                        prior_topical_treatments="topical corticosteroids; emollients",
                        created_by=derm,
                        updated_by=derm,
                        created_at=now,
                        updated_at=now,
                    )
                )
                plans.append((fields, meds, i))
            Patient.objects.bulk_create(patients)
            self._children(patients, plans, derm=derm, nurse=nurse, today=today, now=now, rng=rng, catalogue=catalogue)
            done += len(patients)
            percent = round(100 * (start + done) / total)
            self.stdout.write(f"Seeded {start + done}/{total} demo patients ({percent}%)")
        return done

    @staticmethod
    def _medicine_names() -> list[str]:
        return sorted({name for archetype in ARCHETYPES for name, _dose in archetype[5]})

    def _children(self, patients, plans, *, derm, nurse, today, now, rng, catalogue) -> None:
        profiles, medicines, results, assessments, events = [], [], [], [], []
        for patient, (fields, meds, i) in zip(patients, plans, strict=True):
            meta = {name: {"at": now.isoformat(), "by": derm.username, "by_name": str(derm)} for name in fields}
            profiles.append(RiskProfile(patient=patient, updated_by=derm, updated_at=now, item_meta=meta, **fields))
            for name, dose in meds:
                medicine = catalogue.get(name)
                medicines.append(
                    ConcomitantMedicine(
                        patient=patient,
                        medicine=medicine,
                        name="" if medicine else name,
                        dose_text=dose,
                        started_on=today - dt.timedelta(days=rng.randint(60, 900)),
                        created_by=derm,
                    )
                )
            # Most patients have part of their screening done; every third has all core tests.
            items = ["tb", "hbsag", "hbcab", "hcv", "cbc", "lipids", "liver", "kidney"]
            for item in items[: 8 if i % 3 == 0 else rng.randint(0, 5)]:
                outcome = "normal" if item in ("cbc", "lipids", "liver", "kidney") else "negative"
                if item == "tb" and fields.get("tb_status") == "latent_untreated":
                    outcome = "positive"
                if item == "hbsag" and fields.get("hepatitis_b") == "positive":
                    outcome = "positive"
                results.append(
                    ScreeningResult(
                        patient=patient,
                        item=item,
                        performed_on=today - dt.timedelta(days=rng.randint(3, 40)),
                        result=outcome,
                        recorded_by=nurse,
                    )
                )
            baseline_easi = Decimal(rng.randint(160, 400)) / 10
            for weeks_ago, factor in ((16, Decimal(1)), (0, Decimal(rng.choice([20, 35, 60, 90])) / 100)):
                if weeks_ago == 0 and i % 2:
                    continue  # half the patients have only a baseline assessment
                assessments.append(
                    Assessment(
                        patient=patient,
                        assessed_on=today - dt.timedelta(weeks=weeks_ago),
                        easi=(baseline_easi * factor).quantize(Decimal("0.1")),
                        viga=4 if weeks_ago else (1 if factor < Decimal("0.3") else 3),
                        itch_nrs=8 if weeks_ago else (3 if factor < Decimal("0.5") else 7),
                        poem=20 if weeks_ago else 9,
                        dlqi=15 if weeks_ago else 6,
                        recorded_by=derm,
                    )
                )
            events.append(
                AuditEvent(
                    actor=derm,
                    actor_username=derm.username,
                    action=AuditEvent.Action.CREATE,
                    object_type=PATIENT_OBJECT_TYPE,
                    object_id=str(patient.pk),
                    summary="Patient registered (synthetic demo data)",
                )
            )
        RiskProfile.objects.bulk_create(profiles)
        ConcomitantMedicine.objects.bulk_create(medicines)
        ScreeningResult.objects.bulk_create(results)
        Assessment.objects.bulk_create(assessments)
        AuditEvent.objects.bulk_create(events)
