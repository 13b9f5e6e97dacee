"""The patients tests' shared fixtures: the catalogue, and a record with one clinical event of each kind."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Alert, SymptomCheck
from patients import services
from patients.models import RiskProfile
from tests.factories import TODAY, make_course, make_patient, record_result
from therapy.models import CourseEvent


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


def day(n: int) -> dt.date:
    return TODAY - dt.timedelta(days=n)


def course_events(course, derm):
    for n, kind, before, after, reason, note in [
        (40, CourseEvent.Kind.START, None, "200", "", ""),
        (30, CourseEvent.Kind.DOSE_CHANGE, "200", "100", "decrease", "Nausea"),
        (20, CourseEvent.Kind.INTERRUPTION, None, None, "platelets", "Platelets low"),
        (15, CourseEvent.Kind.RESUMPTION, None, None, "", "Platelets recovered"),
        (5, CourseEvent.Kind.STOP, None, None, "adverse_event", "Shingles"),
    ]:
        CourseEvent.objects.create(
            course=course,
            kind=kind,
            on=day(n),
            dose_before=Decimal(before) if before else None,
            dose_after=Decimal(after) if after else None,
            reason=reason,
            note=note,
            created_by=derm,
        )


@pytest.fixture
def record(clinic, derm, nurse, catalogue):
    """A patient with one event of each kind."""
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="TL-001")
    patient.created_at = timezone.now() - dt.timedelta(days=400)  # registered before everything else
    patient.save(update_fields=["created_at"])
    course = make_course(patient, derm)
    course_events(course, derm)
    record_result(nurse, patient, "platelets", "45", on=day(21))  # low, at an action level: an alert too
    alert = Alert.objects.get(patient=patient)
    Alert.objects.filter(pk=alert.pk).update(
        status=Alert.Status.ACKNOWLEDGED,
        acknowledged_at=timezone.now(),
        acknowledged_by=derm,
        action=Alert.Action.INTERRUPT,
        comment="Paused until the recount",
    )
    SymptomCheck.objects.create(patient=patient, checked_on=day(6), symptoms=["fever", "cough"], recorded_by=nurse)
    SymptomCheck.objects.create(patient=patient, checked_on=day(3), none_reported=True, recorded_by=nurse)
    services.screening_result_record(
        actor=derm, patient=patient, item="hbsag", performed_on=day(50), result="negative", note="Before starting"
    )
    services.assessment_record(actor=derm, patient=patient, assessed_on=day(45), data={"viga": 3, "itch_nrs": 7})
    entry = services.medicine_add(
        actor=derm, patient=patient, medicine=None, name="Ibuprofen", dose_text="400 mg", started_on=day(44)
    )
    services.medicine_stop(actor=derm, entry=entry, stopped_on=day(10))
    profile = RiskProfile.objects.get(patient=patient)
    services.risk_profile_update(
        actor=derm, patient=patient, data={"tb_status": "negative", "diabetes": True}, row_version=profile.row_version
    )
    return patient


def timeline_url(patient, page=None):
    url = reverse("patients:timeline", args=[patient.public_id])
    return f"{url}?page={page}" if page else url
