"""A realistic patient for the FHIR export tests: on abrocitinib with a dose change, safety findings, results (one
at the discontinue level, so an alert), a coded screening result and a monitoring schedule. Synthetic data only."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.management import call_command
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY

from interfaces import tokens
from portal.models import AuthenticatorDevice
from tests.factories import CANARY, TODAY, make_course, make_patient, make_scheduled_item, record_result
from therapy.models import CourseEvent, SafetyFinding


def load_catalogue() -> None:
    call_command("load_catalogue", verbosity=0)


def bearer(client: Client, clinic, name: str = "city-ehr") -> dict:
    secret = tokens.create_token(name=name, clinic=clinic).secret
    return {"HTTP_AUTHORIZATION": f"Bearer {secret}"}


def verified_client(user) -> Client:
    """A staff session that passed the second factor, as the portal's OTP step leaves it."""
    device = AuthenticatorDevice(user=user, name="app", confirmed=True)
    device.set_secret(b"0123456789abcdefghij")
    device.save()
    client = Client()
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    return client


def treated_patient(clinic, derm, *, extra_results: int = 0, record_number: str = "MRN-004711"):
    patient = make_patient(
        clinic=clinic,
        dermatologist=derm,
        given_name=f"{CANARY}Given",
        family_name=f"{CANARY}Family",
        record_number=record_number,
        sex_at_birth="female",
        date_of_birth=dt.date(1986, 3, 14),
    )
    course = make_course(patient, derm, slug="abrocitinib", dose="200")
    course.frequency = "once daily"
    course.save(update_fields=["frequency"])
    start = CourseEvent.objects.create(
        course=course, kind=CourseEvent.Kind.START, on=course.start_date, created_by=derm
    )
    CourseEvent.objects.create(
        course=course,
        kind=CourseEvent.Kind.DOSE_CHANGE,
        on=course.start_date + dt.timedelta(days=28),
        dose_before=Decimal("100"),
        dose_after=Decimal("200"),
        note="Inadequate response at week 4.",
        created_by=derm,
    )
    SafetyFinding.objects.create(
        course=course,
        event=start,
        severity=SafetyFinding.Severity.WARNING,
        code="boxed_warning.mace",
        message="Boxed warning: major adverse cardiovascular events.",
        rule="Age 50 or older with a cardiovascular risk factor",
        source="[S1]",
        catalogue_version=course.catalogue_version,
        acknowledgement="Discussed with the patient.",
        acknowledged_by=derm,
        acknowledged_at=course.created_at,
    )
    SafetyFinding.objects.create(
        course=course,
        event=start,
        severity=SafetyFinding.Severity.INFO,
        code="screening.complete",
        message="Baseline screening complete.",
        catalogue_version=course.catalogue_version,
    )
    record_result(derm, patient, "platelets", "45", on=TODAY - dt.timedelta(days=1))  # discontinue level: an alert
    record_result(derm, patient, "hb", "13.1", on=TODAY - dt.timedelta(days=1))
    for n in range(extra_results):
        record_result(derm, patient, "alt", str(20 + n), on=TODAY - dt.timedelta(days=2 + n))
    make_scheduled_item(course, check_type="cbc", due=TODAY + dt.timedelta(days=14))
    make_scheduled_item(course, check_type="efficacy_review", due=TODAY + dt.timedelta(days=60))
    return patient, course
