"""The patient timeline: every kind of clinical event in words, newest first, one clinic's, in fixed queries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from monitoring.models import Alert, SymptomCheck
from patients import selectors, services
from patients.models import RiskProfile
from portal import roles
from portal.models import Clinic
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_user, record_result
from therapy.models import CourseEvent, TreatmentCourse


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


EXPECTED = [
    "Abrocitinib started",
    "200 mg",
    "Abrocitinib dose changed",
    "200 → 100 mg. Nausea",
    "Abrocitinib paused",
    "Platelets low",
    "Abrocitinib resumed",
    "Abrocitinib stopped",
    "Adverse event. Shingles",
    "Alert raised:",
    "Alert acknowledged:",
    "Course interrupted. Paused until the recount",
    "Symptom check: Fever, Cough",
    "Symptom check: none of the warning signs",
    "Hepatitis B surface antigen: Negative",
    "Severity assessment",
    "vIGA-AD 3, itch NRS 7",
    "Medicine started: Ibuprofen",
    "Medicine stopped: Ibuprofen",
    "Risk profile changed",
    "Tuberculosis: Never tested → Negative",
    "Diabetes: No → Yes",
    "Registered",
]


def test_every_kind_of_event_is_on_the_timeline_page_in_words(client_as, derm, record):
    body = client_as(derm).get(timeline_url(record)).content.decode()
    for words in EXPECTED:
        assert words in body, words
    assert "(low)" in body
    assert "Action level reached" in body
    for code in ("never_tested", "adverse_event", "dose_change", "interruption", "hbsag"):
        assert code not in body.replace('href="', "")


def test_the_patient_page_shows_the_newest_events_and_links_the_full_timeline(client_as, derm, record):
    for n in range(selectors.TIMELINE_ON_PAGE):
        services.assessment_record(actor=derm, patient=record, assessed_on=day(100 + n), data={"viga": 1})
    body = client_as(derm).get(record.get_absolute_url()).content.decode()
    assert "Abrocitinib stopped" in body
    assert "Show the full timeline" in body  # more than TIMELINE_ON_PAGE events
    assert (
        "Registered" not in body.split('id="timeline-heading"')[1].split("</section>")[0]
    )  # the oldest: on the full page


def test_events_are_newest_first(derm, record):
    events = selectors.patient_timeline(record, derm)
    assert [e.on for e in events] == sorted((e.on for e in events), reverse=True)
    titles = [e.title for e in events]
    assert (
        titles.index("Abrocitinib stopped") < titles.index("Abrocitinib resumed") < titles.index("Abrocitinib started")
    )
    assert {e.kind for e in events} == {
        "record",
        "therapy",
        "lab",
        "alert",
        "symptoms",
        "screening",
        "assessment",
        "medicine",
        "risk",
    }


def test_results_show_in_the_clinic_display_unit(client_as, clinic, derm, nurse, record):
    record_result(nurse, record, "total_cholesterol", "200", on=day(2))
    assert "mg/dL" in client_as(derm).get(timeline_url(record)).content.decode()
    Clinic.objects.filter(pk=clinic.pk).update(unit_system="SI")
    si_derm = type(derm).objects.get(pk=derm.pk)
    body = client_as(si_derm).get(timeline_url(record)).content.decode()
    assert "mmol/L" in body
    assert "mg/dL" not in body


def test_another_patients_and_another_clinics_events_stay_out(client_as, clinic, derm, record):
    other = make_patient(clinic=clinic, dermatologist=derm, record_number="TL-002")
    services.screening_result_record(actor=derm, patient=other, item="hcv", performed_on=day(1), result="positive")
    assert "Hepatitis C antibody" not in client_as(derm).get(timeline_url(record)).content.decode()
    elsewhere = make_user(role=roles.DERMATOLOGIST, clinic=make_clinic("Elsewhere"))
    assert client_as(elsewhere).get(timeline_url(record)).status_code == 404


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_the_timeline_page_reads_in_a_fixed_number_of_queries(client_as, derm, nurse, record):
    client = client_as(derm)
    few = _queries(client, timeline_url(record))
    course = TreatmentCourse.objects.get(patient=record)
    for n in range(15):
        record_result(nurse, record, "platelets", "45" if n % 2 else "250", on=day(60 + n))
        SymptomCheck.objects.create(patient=record, checked_on=day(60 + n), symptoms=["fever"], recorded_by=nurse)
        services.assessment_record(actor=derm, patient=record, assessed_on=day(60 + n), data={"viga": 2})
        CourseEvent.objects.create(course=course, kind=CourseEvent.Kind.RESUMPTION, on=day(60 + n), created_by=derm)
    assert _queries(client, timeline_url(record)) == few
    assert _queries(client, timeline_url(record, page=2)) == few


def test_the_timeline_page_pages(client_as, derm, record):
    for n in range(selectors.TIMELINE_PAGE_SIZE):
        services.assessment_record(actor=derm, patient=record, assessed_on=day(100 + n), data={"viga": 1})
    client = client_as(derm)
    first = client.get(timeline_url(record)).content.decode()
    assert "page=2" in first
    second = client.get(timeline_url(record, page=2)).content.decode()
    assert "Registered" in second
    assert "Registered" not in first
