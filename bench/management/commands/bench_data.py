"""Build a large synthetic clinic for the benchmark (``make bench``): patients, courses, schedules, lab results.

Per patient: a risk profile, 4 treatment courses (3 stopped past courses and 1 open one) with their events,
10 scheduled checks and 100 lab results; the first patient (record number BENCH-000001) has 2,000 more results,
so the patient page can be measured on a heavy record. Every name is invented; nothing represents a real person.

Refuses to run unless the database name contains "bench" or PORTAL_DEMO is on. Idempotent: a finished build leaves
a marker (an audit event "Bench clinic built: N synthetic patients", written in the same transaction as the data);
when the marker names ``--patients`` and the clinic holds that many patients, the data is reused (pages the
benchmark saves add rows, so row counts alone would not do). Otherwise the bench clinic's rows are deleted
(TRUNCATE ... CASCADE on a database named *bench*) and rebuilt in one transaction, so a half-built clinic never
survives. Lab results go in with PostgreSQL COPY.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import BaseCommand, CommandError, call_command
from django.db import connection, transaction
from django.db.models import Field
from django.utils import timezone

from drugs import units
from drugs.models import Drug, LabTest, Regimen
from drugs.services import current_catalogue_version
from monitoring.models import Alert
from patients.models import LabResult, Patient, RiskProfile
from portal import roles
from portal.models import AuditEvent, Clinic, User
from therapy.models import CourseEvent, ScheduledItem, TreatmentCourse
from therapy.services import record_checks_sync

BENCH_CLINIC_NAME = "Bench Synthetic Clinic"
# Raise GENERATOR when what a build contains changes: a build made by another generator is rebuilt, not reused.
GENERATOR = 2  # 2: alerts, and result flags
MARKER = "Bench clinic built: {} synthetic patients (generator {})"
BATCH = 5_000
COURSES_PER_PATIENT = 4  # 3 stopped + 1 open
SCHEDULED_PER_PATIENT = 10
LABS_PER_PATIENT = 100
HEAVY_EXTRA_LABS = 1_900  # the first patient has 2,000 results
HEAVY_RECORD_NUMBER = "BENCH-000001"
ALERT_EVERY = 10  # one alert per 10 open courses
DERMATOLOGISTS = 10
NURSES = 5
SUPERUSER = "bench-superuser"
# Invented surnames; "Benchley" is by far the most common (the search the benchmark measures).
SURNAMES = (
    ("Benchley", 12),
    ("Synthby", 5),
    ("Mockley", 5),
    ("Fictional", 4),
    ("Demoson", 4),
    ("Samplewood", 4),
    ("Exampleton", 3),
    ("Placeholder", 3),
    ("Testperson", 3),
    ("Loadwright", 3),
    ("Stubbington", 2),
    ("Fakenham-Null", 2),
    ("Quasimoto", 2),
    ("Notreal", 2),
    ("Imaginary", 2),
    ("Pretendine", 1),
    ("Fabricato", 1),
    ("Inventio", 1),
    ("Dummett", 1),
    ("Simulatra", 1),
)
GIVEN = ("Ada", "Ben", "Cleo", "Dev", "Esme", "Finn", "Gita", "Hal", "Iris", "Jon", "Kira", "Leo", "Mina", "Noor")
CHECKS = ("cbc", "lipids", "liver", "kidney", "infection_check", "cbc", "liver", "efficacy_review", "cbc", "lipids")


@dataclass(frozen=True)
class Counts:
    patients: int
    courses: int
    scheduled: int
    labs: int


def expected_counts(patients: int) -> Counts:
    return Counts(
        patients=patients,
        courses=COURSES_PER_PATIENT * patients,
        scheduled=SCHEDULED_PER_PATIENT * patients,
        labs=LABS_PER_PATIENT * patients + (HEAVY_EXTRA_LABS if patients else 0),
    )


def current_counts(clinic: Clinic) -> Counts:
    return Counts(
        patients=Patient.objects.filter(clinic=clinic).count(),
        courses=TreatmentCourse.objects.filter(patient__clinic=clinic).count(),
        scheduled=ScheduledItem.objects.filter(patient__clinic=clinic).count(),
        labs=LabResult.objects.filter(patient__clinic=clinic).count(),
    )


def built_size(clinic: Clinic) -> int | None:
    """The size of the last completed build of the bench clinic by this generator, from its marker (None if never
    built, or built by an earlier generator)."""
    summary = (
        AuditEvent.objects.filter(
            object_type="portal.clinic", object_id=str(clinic.pk), summary__startswith="Bench clinic built: "
        )
        .order_by("-id")
        .values_list("summary", flat=True)
        .first()
    )
    if not summary or not summary.endswith(f"(generator {GENERATOR})"):
        return None
    try:
        return int(summary.split(": ", 1)[1].split()[0])
    except (IndexError, ValueError):
        return None


def bench_users() -> dict[str, User]:
    """The bench clinic's staff (created by ``bench_data``): first dermatologist, first nurse, the superuser."""
    return {
        "derm": User.objects.get(username="bench-derm-01"),
        "nurse": User.objects.get(username="bench-nurse-01"),
        "superuser": User.objects.get(username=SUPERUSER),
    }


def _lab_value(test: LabTest, rng: random.Random) -> Decimal:
    low, high = test.reference_low, test.reference_high
    if low is not None and high is not None:
        a, b = float(low) * 0.9, float(high) * 1.1
    elif high is not None:
        a, b = float(high) * 0.5, float(high) * 1.1
    elif low is not None:
        a, b = float(low) * 0.9, float(low) * 1.6
    else:
        a, b = 1.0, 10.0
    return Decimal(f"{rng.uniform(a, b):.2f}")


class Command(BaseCommand):
    help = "Build (or reuse) the synthetic benchmark clinic. Only on a database named *bench* or with PORTAL_DEMO."

    def add_arguments(self, parser):
        parser.add_argument("--patients", type=int, default=10_000, help="Number of patients (default 10,000).")
        parser.add_argument("--rebuild", action="store_true", help="Rebuild even when the sizes already match.")

    def handle(self, *args, patients: int, rebuild: bool, **options):
        name = str(connection.settings_dict.get("NAME") or "")
        if "bench" not in name.lower() and not settings.PORTAL_DEMO:
            raise CommandError(
                f'bench_data only runs on a database whose name contains "bench" or with PORTAL_DEMO on; got {name!r}.'
            )
        if patients < 1:
            raise CommandError("--patients must be at least 1.")
        self.verbosity = options["verbosity"]
        call_command("load_catalogue", verbosity=0)
        clinic, _created = Clinic.objects.get_or_create(name=BENCH_CLINIC_NAME)
        self._staff(clinic)
        want = expected_counts(patients)
        holding = Patient.objects.filter(clinic=clinic).count()
        if built_size(clinic) == patients and holding == patients and not rebuild:
            self.stdout.write(f"Bench clinic already built with {patients} synthetic patients; reusing it.")
            return
        started = time.monotonic()
        with transaction.atomic():
            if holding:
                self._say(f"Bench clinic holds {holding} patients; want {patients}: deleting and rebuilding.")
                self._wipe(clinic)
            self._build(clinic, patients)
            got = current_counts(clinic)
            if got != want:
                raise CommandError(f"Bench data incomplete: {got}, expected {want}.")
            AuditEvent.objects.create(
                action=AuditEvent.Action.CREATE,
                object_type="portal.clinic",
                object_id=str(clinic.pk),
                summary=MARKER.format(patients, GENERATOR),
            )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        self.stdout.write(
            self.style.SUCCESS(f"Bench clinic ready: {got} in {time.monotonic() - started:.0f} s (synthetic data).")
        )

    def _say(self, text: str) -> None:
        if self.verbosity:
            self.stdout.write(text)
            self.stdout.flush()

    # Staff -------------------------------------------------------------------------------------------------

    def _staff(self, clinic: Clinic) -> None:
        specs = [
            (f"bench-derm-{i:02d}", "Dermatologist", f"Benchderm{i:02d}", roles.DERMATOLOGIST)
            for i in range(1, DERMATOLOGISTS + 1)
        ]
        specs += [(f"bench-nurse-{i:02d}", "Nurse", f"Benchnurse{i:02d}", roles.NURSE) for i in range(1, NURSES + 1)]
        for username, first, last, role in specs:
            user, created = User.objects.get_or_create(
                username=username, defaults={"first_name": first, "last_name": last, "clinic": clinic}
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
                user.groups.set([Group.objects.get(name=role)])
        admin, created = User.objects.get_or_create(
            username=SUPERUSER,
            defaults={"first_name": "Bench", "last_name": "Superuser", "is_staff": True, "is_superuser": True},
        )
        if created:
            admin.set_unusable_password()
            admin.save(update_fields=["password"])

    # Delete ------------------------------------------------------------------------------------------------

    def _wipe(self, clinic: Clinic) -> None:
        if connection.vendor == "postgresql" and "bench" in str(connection.settings_dict["NAME"]).lower():
            # A dedicated bench database: everything hanging off patients goes, including rows of models
            # this command does not know about (alerts, symptom checks, ...).
            with connection.cursor() as cursor:
                cursor.execute(f"TRUNCATE {Patient._meta.db_table} CASCADE")
            return
        # A shared (demo or test) database: only the bench clinic's rows, through the ORM (cascades included).
        LabResult.objects.filter(patient__clinic=clinic).delete()
        TreatmentCourse.objects.filter(patient__clinic=clinic).delete()
        Patient.objects.filter(clinic=clinic).delete()

    # Build -------------------------------------------------------------------------------------------------

    def _build(self, clinic: Clinic, total: int) -> None:
        rng = random.Random(8)  # noqa: S311  (synthetic data, not security)
        today = timezone.localdate()
        now = timezone.now()
        derms = list(User.objects.filter(username__startswith="bench-derm-").order_by("username"))
        nurse = User.objects.get(username="bench-nurse-01")
        drugs = list(Drug.objects.order_by("generic_name"))
        if not drugs:
            raise CommandError("The catalogue is empty: run manage.py load_catalogue first.")
        doses: dict[int, tuple[Decimal | None, str]] = {}
        for regimen in Regimen.objects.filter(dose__isnull=False).order_by("dose", "id"):
            doses.setdefault(regimen.drug_id, (regimen.dose, regimen.frequency))
        version = current_catalogue_version()
        surnames = [name for name, _weight in SURNAMES]
        weights = [weight for _name, weight in SURNAMES]

        done = 0
        for start in range(0, total, BATCH):
            numbers = range(start, min(start + BATCH, total))
            batch = [
                Patient(
                    clinic=clinic,
                    record_number=f"BENCH-{i + 1:06d}",
                    given_name=GIVEN[i % len(GIVEN)],
                    family_name=rng.choices(surnames, weights)[0],
                    date_of_birth=dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 68 * 365)),
                    sex_at_birth=rng.choice(["female", "male"]),
                    weight_kg=Decimal(rng.randint(50, 110)),
                    height_cm=Decimal(rng.randint(155, 195)),
                    dermatologist=derms[i % len(derms)],
                    diagnosis_date=today - dt.timedelta(days=rng.randint(400, 8000)),
                    bsa_percent=Decimal(rng.randint(5, 60)),
                    created_by=derms[i % len(derms)],
                    updated_by=derms[i % len(derms)],
                    created_at=now,
                    updated_at=now,
                )
                for i in numbers
            ]
            Patient.objects.bulk_create(batch)
            RiskProfile.objects.bulk_create([self._profile(p, rng, now) for p in batch])
            courses = self._courses(batch, drugs, doses, version, today, now, rng)
            TreatmentCourse.objects.bulk_create(courses, batch_size=BATCH)
            CourseEvent.objects.bulk_create(self._events(courses, version), batch_size=BATCH)
            open_courses = [c for c in courses if c.status != TreatmentCourse.Status.STOPPED]
            ScheduledItem.objects.bulk_create(self._schedule(open_courses, version, today, nurse), batch_size=BATCH)
            Alert.objects.bulk_create(self._alerts(open_courses, version, now), batch_size=BATCH)
            done += len(batch)
            self._say(f"  patients, courses and schedules: {done}/{total} patients ({100 * done // total}%)")

        self._labs(clinic, nurse, today, now, rng, total)
        # the facts were bulk-written past the services: mark the baseline checks they satisfy as the services do
        record_checks_sync(actor=None, patient_ids=Patient.objects.filter(clinic=clinic).values_list("pk", flat=True))

    @staticmethod
    def _alerts(open_courses, version, now) -> list[Alert]:
        """Every 10th open course has an alert to its prescriber: urgent or same day, half already acknowledged."""
        alerts = []
        for n, course in enumerate(open_courses[::ALERT_EVERY]):
            urgent = n % 2 == 0
            acknowledged = n % 4 >= 2
            alerts.append(
                Alert(
                    patient_id=course.patient_id,
                    course=course,
                    recipient_id=course.prescriber_id,
                    kind=Alert.Kind.LAB_ACTION,
                    severity=Alert.Severity.URGENT if urgent else Alert.Severity.SAME_DAY,
                    title="Synthetic bench alert: platelets" if urgent else "Synthetic bench alert: neutrophils",
                    reason="Synthetic result at an action level (bench data).",
                    advice="Synthetic advice (bench data).",
                    catalogue_version=version,
                    status=Alert.Status.ACKNOWLEDGED if acknowledged else Alert.Status.OPEN,
                    acknowledged_by_id=course.prescriber_id if acknowledged else None,
                    acknowledged_at=now if acknowledged else None,
                    comment="Synthetic acknowledgement (bench data)." if acknowledged else "",
                    created_at=now - dt.timedelta(minutes=n),
                )
            )
        return alerts

    @staticmethod
    def _profile(patient: Patient, rng: random.Random, now) -> RiskProfile:
        smoking = rng.choice(["never", "never", "former", "current", ""])
        return RiskProfile(
            patient=patient,
            smoking_status=smoking,
            pack_years=Decimal(rng.randint(1, 40)) if smoking in ("former", "current") else None,
            hypertension=rng.random() < 0.25,
            diabetes=rng.random() < 0.1,
            dyslipidaemia=rng.random() < 0.15,
            dvt_history=rng.random() < 0.03,
            cancer_status=rng.choice(["none", "none", "none", "past", ""]),
            tb_status=rng.choice(["negative", "negative", "never_tested", "latent_treated"]),
            hepatitis_b=rng.choice(["negative", ""]),
            herpes_zoster_history=rng.random() < 0.1,
            updated_at=now,
        )

    @staticmethod
    def _courses(patients, drugs, doses, version, today, now, rng) -> list[TreatmentCourse]:
        courses = []
        for patient in patients:
            # Seeded per patient: a patient's courses are the same at every size (comparable query counts).
            rng = random.Random(patient.record_number)  # noqa: S311  (synthetic data)
            picks = rng.sample(drugs, k=min(COURSES_PER_PATIENT, len(drugs)))
            while len(picks) < COURSES_PER_PATIENT:
                picks.append(rng.choice(drugs))
            for k, drug in enumerate(picks):
                is_open = k == COURSES_PER_PATIENT - 1
                if is_open:
                    start = today - dt.timedelta(days=rng.randint(30, 360))
                    stopped = None
                else:
                    start = today - dt.timedelta(days=1800 - 420 * k + rng.randint(0, 60))
                    stopped = start + dt.timedelta(days=rng.randint(60, 300))
                dose, frequency = doses.get(drug.pk, (None, "as directed"))
                courses.append(
                    TreatmentCourse(
                        patient=patient,
                        drug=drug,
                        dose=dose,
                        dose_unit=drug.dose_unit,
                        frequency=frequency,
                        topical_bsa_percent=Decimal(10) if drug.route == "topical" else None,
                        start_date=start,
                        status=(
                            (
                                TreatmentCourse.Status.INTERRUPTED
                                if rng.random() < 0.05
                                else TreatmentCourse.Status.ACTIVE
                            )
                            if is_open
                            else TreatmentCourse.Status.STOPPED
                        ),
                        prescriber_id=patient.dermatologist_id,
                        jurisdiction="US",
                        catalogue_version=version,
                        stopped_on=stopped,
                        stop_reason=""
                        if is_open
                        else rng.choice(["inadequate_response", "patient_choice", "adverse_event"]),
                        created_at=now,
                        updated_at=now,
                    )
                )
        return courses

    @staticmethod
    def _events(courses, version) -> list[CourseEvent]:
        events = []
        for course in courses:
            events.append(
                CourseEvent(
                    course=course,
                    kind=CourseEvent.Kind.START,
                    on=course.start_date,
                    dose_after=course.dose,
                    catalogue_version=version,
                    created_by_id=course.prescriber_id,
                )
            )
            if course.stopped_on:
                events.append(
                    CourseEvent(
                        course=course,
                        kind=CourseEvent.Kind.STOP,
                        on=course.stopped_on,
                        dose_before=course.dose,
                        reason=course.stop_reason,
                        catalogue_version=version,
                        created_by_id=course.prescriber_id,
                    )
                )
        return events

    @staticmethod
    def _schedule(courses, version, today, nurse) -> list[ScheduledItem]:
        items = []
        for n, course in enumerate(courses):
            for k in range(SCHEDULED_PER_PATIENT):
                due = course.start_date + dt.timedelta(weeks=4 * k)
                past = due < today
                overdue = past and n % 5 == 0 and due >= today - dt.timedelta(days=60)
                items.append(
                    ScheduledItem(
                        course=course,
                        patient_id=course.patient_id,
                        check_type=CHECKS[k],
                        kind="baseline" if k == 0 else "follow_up",
                        due_date=due,
                        earliest=due - dt.timedelta(days=7),
                        latest=due + dt.timedelta(days=7),
                        reason=f"Week {4 * k} check (synthetic bench schedule)",
                        catalogue_version=version,
                        status=ScheduledItem.Status.DONE if past and not overdue else ScheduledItem.Status.OPEN,
                        completed_on=due if past and not overdue else None,
                        completed_by=nurse if past and not overdue else None,
                    )
                )
        return items

    def _labs(self, clinic, nurse, today, now, rng, total) -> None:
        tests = list(
            LabTest.objects.filter(value_type=LabTest.ValueType.QUANTITY).order_by("panel", "display_order", "id")
        )
        if not tests:
            raise CommandError("The catalogue has no numeric lab tests.")
        patient_ids = list(Patient.objects.filter(clinic=clinic).order_by("record_number").values_list("id", flat=True))
        expected = expected_counts(total).labs
        fields = (
            "patient_id",
            "lab_test_id",
            "collected_on",
            "value",
            "entered_value",
            "entered_unit",
            "recorded_by_id",
            "recorded_at",
            "flag",
            "action",
            "action_rule",
            "action_source",
        )

        def rows():
            for index, patient_id in enumerate(patient_ids):
                count = LABS_PER_PATIENT + (HEAVY_EXTRA_LABS if index == 0 else 0)
                for j in range(count):
                    test = tests[j % len(tests)]
                    value = _lab_value(test, rng)
                    collected = today - dt.timedelta(days=14 * (j // len(tests)) + index % 14)
                    flag = units.reference_flag(value, test.reference_low, test.reference_high).code
                    unit = test.canonical_unit
                    # The bench measures pages, not interpretation: results carry their flag, no action level.
                    yield (patient_id, test.pk, collected, value, str(value), unit, nurse.pk, now, flag, "", "", "")

        step = 100_000
        written = 0
        if connection.vendor == "postgresql":
            columns = ", ".join(
                cast("Field[Any, Any]", LabResult._meta.get_field(name.removesuffix("_id"))).column
                if name.endswith("_id")
                else name
                for name in fields
            )
            sql = f"COPY {LabResult._meta.db_table} ({columns}, coded_value) FROM STDIN"
            with connection.cursor() as cursor, cursor.copy(sql) as copy:
                for row in rows():
                    copy.write_row((*row, ""))
                    written += 1
                    if written % step == 0:
                        self._say(f"  lab results (COPY): {written}/{expected} ({100 * written // expected}%)")
        else:
            batch = []
            for row in rows():
                batch.append(LabResult(**dict(zip(fields, row, strict=True))))
                if len(batch) == BATCH:
                    LabResult.objects.bulk_create(batch)
                    written += len(batch)
                    batch = []
                    self._say(f"  lab results: {written}/{expected} ({100 * written // expected}%)")
            LabResult.objects.bulk_create(batch)
            written += len(batch)
        self._say(f"  lab results: {written}/{expected} (100%)")
