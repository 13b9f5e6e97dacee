"""Synthetic test data only: no real people."""

from __future__ import annotations

import datetime as dt
import itertools
from decimal import Decimal

from django.contrib.auth.models import Group
from django.utils import timezone

from drugs.models import Drug, LabTest
from drugs.services import current_catalogue_version
from monitoring import services as svc
from patients.models import Patient, RiskProfile
from portal.models import Clinic, User
from therapy.models import ScheduledItem, TreatmentCourse

_counter = itertools.count(1)
TEST_PASSWORD = "correct-horse-battery-staple-42"


def make_user(*, role: str | None = None, username: str | None = None, **fields) -> User:
    n = next(_counter)
    user = User.objects.create_user(
        username=username or f"staff{n}",
        password=TEST_PASSWORD,
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", f"Staff{n}"),
        **fields,
    )
    if role:  # flush re-emits post_migrate, so the role groups exist after a transactional test too
        user.groups.add(Group.objects.get(name=role))
    return user


def make_clinic(name: str | None = None):
    return Clinic.objects.create(name=name or f"Test Clinic {next(_counter)}")


def make_patient(*, clinic, dermatologist=None, risk: dict | None = None, **fields):
    """A synthetic patient (fictional name) with a risk profile; ``risk`` sets risk-profile fields."""
    n = next(_counter)
    patient = Patient.objects.create(
        clinic=clinic,
        dermatologist=dermatologist,
        record_number=fields.pop("record_number", f"TEST-{n:05d}"),
        given_name=fields.pop("given_name", "Testa"),
        family_name=fields.pop("family_name", f"Fictional{n}"),
        date_of_birth=fields.pop("date_of_birth", dt.date(1980, 1, 1)),
        **fields,
    )
    RiskProfile.objects.create(patient=patient, **(risk or {}))
    return patient


# Canary: a recognisable fictional name for patients created in tests. After the whole run, tests/conftest.py
# scans every log record emitted during the session and fails the run if this value appears: patient data never
# goes into logs. Use it in given/family names (e.g. f"{CANARY}Given") of patients your tests create.
CANARY = "Zzcanary"


# --- Courses, scheduled checks and results (stored directly; the start rules are tested in tests/therapy) ---

TODAY = timezone.localdate()


def make_course(patient, prescriber, slug="abrocitinib", dose="100", jurisdiction="US", status="active"):
    """An open course stored directly (the start rules are tested elsewhere)."""
    return TreatmentCourse.objects.create(
        patient=patient,
        drug=Drug.objects.get(slug=slug),
        dose=Decimal(dose) if dose else None,
        start_date=TODAY - dt.timedelta(days=40),
        status=status,
        prescriber=prescriber,
        jurisdiction=jurisdiction,
        catalogue_version=current_catalogue_version(),
    )


def make_scheduled_item(course, check_type="cbc", due=TODAY, window=7, kind="follow_up"):
    return ScheduledItem.objects.create(
        course=course,
        patient=course.patient,
        check_type=check_type,
        kind=kind,
        due_date=due,
        earliest=due - dt.timedelta(days=window),
        latest=due + dt.timedelta(days=window),
        reason="test",
        catalogue_version=course.catalogue_version,
    )


def record_result(actor, patient, analyte, value, on=TODAY):
    test = LabTest.objects.get(analyte=analyte)
    row = svc.ResultRow(
        patient=patient,
        lab_test=test,
        collected_on=on,
        value=Decimal(str(value)),
        coded_value="",
        entered_value=str(value),
        entered_unit=test.canonical_unit,
    )
    return svc.lab_results_record(actor=actor, rows=[row]).results[0]
