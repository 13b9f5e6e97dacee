"""Create the synthetic demo clinic: clearly fictional patients across the risk profiles (PORTAL_DEMO only).

Idempotent: when the demo clinic already holds at least ``--count`` patients nothing is added; otherwise only the
missing ones are. Names are invented ("Fictional", "Demoson", ...); no real person is represented.

Each patient's record is one consistent story, dated relative to today and the same on every run of the same day
(its random choices come from the patient's number, not from how many were seeded before). A given name of the
patient's sex; registered first, then screened (the results the risk profile's infection statuses, eGFR and
vaccinations were recorded from, with the blood values behind each normal panel), then assessed. Patients from
``KEEP_WITHOUT_THERAPY`` on who are not pregnant are the ones ``seed_demo_therapy`` treats: their screening is
complete in the weeks before the day their course is to start, which is their baseline assessment, and their
follow-up assessments come after it. The others are being worked up: registered recently, partly screened.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.management import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from drugs import units
from drugs.models import LabTest, Medicine
from drugs.services import current_catalogue_version
from patients import risk, screening
from patients.management.demo import KEEP_WITHOUT_THERAPY, normal_panel, stamp
from patients.models import Assessment, ConcomitantMedicine, LabResult, Patient, RiskProfile, ScreeningResult
from patients.selectors import PATIENT_OBJECT_TYPE
from portal.audit import audit_record
from portal.demo import demo_accounts_ensure
from portal.models import AuditEvent

FEMALE_GIVEN = ("Ada", "Cleo", "Esme", "Gita", "Iris", "Kira", "Mina", "Noor")
MALE_GIVEN = ("Ben", "Dev", "Finn", "Hal", "Jon", "Leo", "Omar", "Theo")
GIVEN_BY_SEX = {"female": FEMALE_GIVEN, "male": MALE_GIVEN}
FAMILY = ("Fictional", "Demoson", "Testperson", "Samplewood", "Mockley", "Exampleton", "Placeholder", "Synthby")


@dataclass(frozen=True)
class YearsAgo:
    """A year given relative to the seeding day (a quit year stays as long ago whenever the demo is seeded)."""

    years: int


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
            "smoking_quit_year": YearsAgo(16),
            "pack_years": Decimal(12),
        },
        90,
        [("clopidogrel", "75 mg once daily"), ("aspirin", "75 mg once daily")],
    ),
    ("past cancer", 67, "female", {"cancer_status": "past", "smoking_status": "never"}, 61, []),
    (
        "clot history on HRT, after the menopause",
        52,
        "female",
        {"dvt_history": True, "hormonal_therapy": True, "no_childbearing_potential": True, "smoking_status": "never"},
        96,
        [("estradiol patch (HRT)", "50 micrograms/24 h, changed twice weekly")],
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
        # Progestogen-only contraception: no combined hormonal contraceptive, so no clot risk factor to record.
        [("desogestrel (progestogen-only pill)", "75 micrograms once daily")],
    ),
    (
        "hepatitis B",
        45,
        "male",
        {
            "hepatitis_b": "positive",
            "smoking_status": "former",
            "smoking_quit_year": YearsAgo(11),
            "pack_years": Decimal(4),
        },
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
        "shingles and recurrent infections, after the menopause",
        55,
        "female",
        {"herpes_zoster_history": True, "recurrent_serious_infections": True, "no_childbearing_potential": True},
        66,
        [],
    ),
    ("adolescent", 15, "male", {"smoking_status": "never"}, 55, []),
)

# Screening, in checklist order. "hbv" stands for the pair of hepatitis B tests, always done together.
CORE_ITEMS = ("tb", "hbv", "hcv", "cbc", "lipids", "liver", "kidney")
ALL_ITEMS = (*CORE_ITEMS, "vaccinations", "pregnancy")
LAB_PANELS = ("cbc", "lipids", "liver", "kidney")  # screening items whose normal result stands on lab values
TB_POSITIVE = ("latent_untreated", "latent_treated", "active")
FOLLOW_UP_WEEKS = (8, 16, 52)  # visits after the start; week 8 is also ruxolitinib cream's efficacy review
MILD_SHARE = 0.2  # mild-to-moderate eczema (a small area: the patients a cream can treat)
MILD_MAX_BSA = 15  # % of the body; moderate-to-severe eczema covers more than 20 %
ADULT_YEARS = 18


@dataclass
class Story:
    """One patient's dated record before it becomes rows."""

    registered: dt.date
    start: dt.date | None  # the day seed_demo_therapy starts the course (the baseline assessment); None: no course
    screening: list[tuple[str, dt.date, str]] = field(default_factory=list)  # (item, done on, outcome)
    visits: list[tuple[dt.date, Decimal]] = field(default_factory=list)  # (assessed on, EASI as a share of baseline)


def _birth(today: dt.date, years: int, rng: random.Random) -> dt.date:
    return today - dt.timedelta(days=years * 365 + years // 4 + rng.randint(1, 300))


def _years_after(day: dt.date, years: int) -> dt.date:
    return day + dt.timedelta(days=years * 365 + years // 4 + 1)


def childbearing(sex: str, date_of_birth: dt.date, on: dt.date, fields: dict[str, Any]) -> bool:
    """Whether a pregnancy test applies to the patient on ``on``: the portal's own rule."""
    return screening.pregnancy_test_relevant(
        sex_at_birth=sex,
        age=risk.age_on(date_of_birth, on),
        no_childbearing_potential=bool(fields.get("no_childbearing_potential")),
    )


def _outcome(item: str, fields: dict[str, Any]) -> str:
    """The result a screening test had, given what the risk profile records (the profile was filled from it)."""
    if item == "tb":
        return "positive" if fields.get("tb_status") in TB_POSITIVE else "negative"
    if item == "hbv":
        return "positive" if fields.get("hepatitis_b") == "positive" else "negative"
    if item == "hcv":
        return "positive" if fields.get("hepatitis_c") == "positive" else "negative"
    if item == "kidney":
        return "abnormal" if fields.get("egfr") is not None and fields["egfr"] < 60 else "normal"
    if item == "pregnancy":
        return "positive" if fields.get("pregnant") else "negative"
    return "normal"  # cbc, lipids, liver, vaccinations up to date


def _declared_items(fields: dict[str, Any]) -> set[str]:
    """The screening a recorded status stands on: a TB or hepatitis status, an eGFR, a vaccination, a pregnancy."""
    items = set()
    if fields.get("tb_status", "never_tested") != "never_tested":
        items.add("tb")
    if fields.get("hepatitis_b"):
        items.add("hbv")
    if fields.get("hepatitis_c"):
        items.add("hcv")
    if fields.get("egfr") is not None:
        items.add("kidney")
    if fields.get("zoster_vaccinated"):
        items.add("vaccinations")
    if fields.get("pregnant"):
        items.add("pregnancy")
    return items


def _story(i: int, fields: dict[str, Any], sex: str, born: dt.date, today: dt.date, rng: random.Random) -> Story:
    treated = i >= KEEP_WITHOUT_THERAPY and not fields.get("pregnant")
    if treated:
        start = max(today - dt.timedelta(days=rng.randint(10, 400)), _years_after(born, 12))
        registered = start - dt.timedelta(days=rng.randint(21, 60))
        last_test = start - dt.timedelta(days=2)
        items = [*CORE_ITEMS, "vaccinations"]
        if childbearing(sex, born, start, fields):
            items.append("pregnancy")
    else:
        start = None
        # Being worked up, or pregnant (recorded at a registration within the pregnancy's months).
        registered = today - dt.timedelta(days=rng.randint(14, 90))
        last_test = today - dt.timedelta(days=1)
        items = list(CORE_ITEMS[: len(CORE_ITEMS) if i % 3 == 0 else rng.randint(0, 4)])
    wanted = set(items) | _declared_items(fields)
    story = Story(registered=registered, start=start)
    for item in ALL_ITEMS:
        if item not in wanted:
            continue
        if item == "pregnancy" and start is not None:
            done_on = start - dt.timedelta(days=rng.randint(1, 5))  # a recent negative test before the first dose
        else:
            done_on = registered + dt.timedelta(days=rng.randint(0, (last_test - registered).days))
        story.screening.append((item, done_on, _outcome(item, fields)))
    first_visit = start or registered
    story.visits.append((first_visit, Decimal(1)))
    if start is not None:
        response = Decimal(rng.choice([20, 35, 60, 90])) / 100  # the EASI share reached by week 16
        for weeks in FOLLOW_UP_WEEKS:
            on = start + dt.timedelta(weeks=weeks)
            if on > today:
                break
            share = 1 - (1 - response) * Decimal("0.7") if weeks < 16 else response
            story.visits.append((on, share))
    return story


def _viga(easi: Decimal) -> int:
    """The vIGA-AD that goes with an EASI (severity strata: clear, almost clear, mild, moderate, severe)."""
    for limit, viga in ((Decimal(0), 0), (Decimal(1), 1), (Decimal(7), 2), (Decimal(21), 3)):
        if easi <= limit:
            return viga
    return 4


def _scaled(value: int, share: Decimal, high: int) -> int:
    return max(0, min(high, round(value * (Decimal("0.3") + Decimal("0.7") * share))))


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
        today = timezone.localdate()
        catalogue = {m.name.lower(): m for m in Medicine.objects.filter(Q(name__in=self._medicine_names()))}
        tests = {t.analyte: t for t in LabTest.objects.all()}
        version = current_catalogue_version()
        step = max(1, (total - start) // 10)
        done = 0
        for chunk_start in range(start, total, step):
            numbers = range(chunk_start, min(chunk_start + step, total))
            patients, plans = [], []
            for i in numbers:
                rng = random.Random(f"demo-patient-{i}")  # noqa: S311  (synthetic data, not security)
                label, years, sex, fields, weight, meds = ARCHETYPES[i % len(ARCHETYPES)]
                years += (i // len(ARCHETYPES)) % 3  # vary ages a little between rounds
                fields = {
                    name: today.year - value.years if isinstance(value, YearsAgo) else value
                    for name, value in fields.items()
                }
                born = _birth(today, years, rng)
                story = _story(i, fields, sex, born, today, rng)
                mild = rng.random() < MILD_SHARE
                registered_at = stamp(story.registered)
                diagnosed = story.registered - dt.timedelta(days=rng.randint(400, 8000))
                diagnosed = min(max(diagnosed, born + dt.timedelta(days=180)), story.registered - dt.timedelta(days=30))
                if years >= ADULT_YEARS:
                    height = rng.randint(155, 178) if sex == "female" else rng.randint(166, 190)
                else:
                    height = rng.randint(158, 178)
                patients.append(
                    Patient(
                        clinic=clinic,
                        record_number=f"DEMO-{i + 1:05d}",
                        given_name=GIVEN_BY_SEX[sex][i % len(GIVEN_BY_SEX[sex])],
                        family_name=f"{FAMILY[i % len(FAMILY)]}-{i + 1}",
                        date_of_birth=born,
                        sex_at_birth=sex,
                        weight_kg=Decimal(weight + rng.randint(-4, 4)),
                        height_cm=Decimal(height),
                        dermatologist=derm,
                        diagnosis_date=diagnosed,
                        bsa_percent=Decimal(rng.randint(4, MILD_MAX_BSA) if mild else rng.randint(21, 60)),
                        prior_systemic_treatments=""
                        if mild
                        else rng.choice(["", "ciclosporin", "methotrexate", "dupilumab"]),
                        prior_topical_treatments="topical corticosteroids; emollients",
                        created_by=derm,
                        updated_by=derm,
                        created_at=registered_at,
                        updated_at=registered_at,
                    )
                )
                plans.append((fields, meds, story, rng))
            Patient.objects.bulk_create(patients)
            self._children(patients, plans, derm=derm, nurse=nurse, catalogue=catalogue, tests=tests, version=version)
            done += len(patients)
            percent = round(100 * (start + done) / total)
            self.stdout.write(f"Seeded {start + done}/{total} demo patients ({percent}%)")
        return done

    @staticmethod
    def _medicine_names() -> list[str]:
        return sorted({name for archetype in ARCHETYPES for name, _dose in archetype[5]})

    def _children(self, patients, plans, *, derm, nurse, catalogue, tests, version) -> None:
        profiles, medicines, assessments, events = [], [], [], []
        results: list[ScreeningResult] = []
        labs: list[LabResult] = []
        for patient, (fields, meds, story, rng) in zip(patients, plans, strict=True):
            registered_at = stamp(story.registered)
            profile_fields = dict(fields)
            recorded_at = dict.fromkeys(fields, registered_at)  # risk-profile item -> when it was recorded
            for name, dose in meds:
                medicine = catalogue.get(name)
                started = story.registered - dt.timedelta(days=rng.randint(60, 900))
                medicines.append(
                    ConcomitantMedicine(
                        patient=patient,
                        medicine=medicine,
                        name="" if medicine else name,
                        dose_text=dose,
                        started_on=max(started, _years_after(patient.date_of_birth, ADULT_YEARS)),
                        created_by=derm,
                        created_at=stamp(story.registered, 15),
                    )
                )
            for item, done_on, outcome in story.screening:
                at = stamp(done_on, 360)  # results back in the afternoon
                reduced = outcome == "abnormal" and item == "kidney"
                codes = ("hbsag", "hbcab") if item == "hbv" else (item,)
                results.extend(
                    ScreeningResult(
                        patient=patient,
                        item=code,
                        performed_on=done_on,
                        result=outcome,
                        recorded_by=nurse,
                        recorded_at=at,
                        note=f"eGFR {fields['egfr']} mL/min/1.73 m²" if reduced else "",
                    )
                    for code in codes
                )
                for name, value in self._profile_from_result(item, fields, done_on).items():
                    profile_fields[name] = value
                    recorded_at[name] = at
                if item in LAB_PANELS:
                    values = normal_panel(item, rng=rng, sex=patient.sex_at_birth, egfr=fields.get("egfr"))
                    labs.extend(
                        self._lab(patient, tests[analyte], done_on, value, nurse=nurse, at=at, version=version)
                        for analyte, value in values.items()
                        if analyte in tests
                    )
            meta = {
                name: {"at": at.isoformat(), "by": derm.username, "by_name": str(derm)}
                for name, at in recorded_at.items()
            }
            profiles.append(
                RiskProfile(
                    patient=patient,
                    updated_by=derm,
                    updated_at=max(recorded_at.values(), default=registered_at),
                    item_meta=meta,
                    **profile_fields,
                )
            )
            assessments.extend(self._assessments(patient, story, rng, recorded_by=derm))
            events.append(
                AuditEvent(
                    at=registered_at,
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
        LabResult.objects.bulk_create(labs)
        Assessment.objects.bulk_create(assessments)
        AuditEvent.objects.bulk_create(events)

    @staticmethod
    def _profile_from_result(item: str, fields: dict[str, Any], done_on: dt.date) -> dict[str, Any]:
        """The risk-profile items a screening result was recorded into, with the value it gave."""
        if item == "tb":
            return {"tb_status": fields.get("tb_status", "negative")}
        if item == "hbv":
            return {"hepatitis_b": fields.get("hepatitis_b", "negative")}
        if item == "hcv":
            return {"hepatitis_c": fields.get("hepatitis_c", "negative")}
        if item == "vaccinations":
            return {"zoster_vaccinated": True}
        if item == "kidney" and fields.get("egfr") is not None:
            return {"egfr": fields["egfr"], "egfr_measured_on": done_on}
        return {}

    @staticmethod
    def _lab(patient, test, on, value, *, nurse, at, version) -> LabResult:
        number = Decimal(value)
        return LabResult(
            patient=patient,
            lab_test=test,
            collected_on=on,
            value=number,
            entered_value=value,
            entered_unit=test.canonical_unit,
            recorded_by=nurse,
            recorded_at=at,
            flag=units.reference_flag(number, test.reference_low, test.reference_high).code,
            interpreted_version=version or None,
        )

    @staticmethod
    def _assessments(patient, story: Story, rng: random.Random, *, recorded_by) -> list[Assessment]:
        """The baseline and follow-up scores: EASI in keeping with the affected area, the others with the EASI."""
        bsa = patient.bsa_percent
        if bsa <= MILD_MAX_BSA:
            baseline = min(max(bsa * Decimal(rng.randint(60, 100)) / 100, Decimal(3)), Decimal(15))
            itch, poem, dlqi = rng.randint(4, 6), rng.randint(8, 16), rng.randint(4, 10)
        else:
            baseline = min(max(8 + bsa * Decimal(rng.randint(40, 60)) / 100, Decimal("16.1")), Decimal(60))
            itch, poem, dlqi = rng.randint(7, 9), rng.randint(17, 26), rng.randint(11, 22)
        rows = []
        for on, share in story.visits:
            easi = (baseline * share).quantize(Decimal("0.1"))
            rows.append(
                Assessment(
                    patient=patient,
                    assessed_on=on,
                    easi=easi,
                    viga=_viga(easi),
                    itch_nrs=_scaled(itch, share, 10),
                    poem=_scaled(poem, share, 28),
                    dlqi=_scaled(dlqi, share, 30),
                    recorded_by=recorded_by,
                    recorded_at=stamp(on, 60),
                )
            )
        return rows
