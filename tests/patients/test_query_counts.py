"""Query counts of the patient pages: constant as the record grows."""

from django.db import connection
from django.test.utils import CaptureQueriesContext

from monitoring.models import SymptomCheck
from patients import services
from tests.factories import record_result
from tests.patients.conftest import day, timeline_url
from therapy.models import CourseEvent, TreatmentCourse


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx)


def test_the_timeline_page_reads_in_a_fixed_number_of_queries(client_as, derm, nurse, record):
    client = client_as(derm)
    # The first request after a catalogue change builds the cached lab catalogue (drugs.selectors.lab_catalogue):
    # count from the second.
    client.get(timeline_url(record))
    few = _queries(client, timeline_url(record))
    course = TreatmentCourse.objects.get(patient=record)
    for n in range(15):
        record_result(nurse, record, "platelets", "45" if n % 2 else "250", on=day(60 + n))
        SymptomCheck.objects.create(patient=record, checked_on=day(60 + n), symptoms=["fever"], recorded_by=nurse)
        services.assessment_record(actor=derm, patient=record, assessed_on=day(60 + n), data={"viga": 2})
        CourseEvent.objects.create(course=course, kind=CourseEvent.Kind.RESUMPTION, on=day(60 + n), created_by=derm)
    assert _queries(client, timeline_url(record)) == few
    assert _queries(client, timeline_url(record, page=2)) == few


def test_the_patient_pages_timeline_reads_six_queries(derm, record, django_assert_num_queries):
    """After the record part of the page (patients.selectors.patient_detail, which reads the assessments,
    screening and medicines the timeline shares): the course events, alerts, symptom checks, the newest lab
    results, the catalogue version (lab_catalogue, cached) and the risk-profile changes. The unit system comes
    with the patient's clinic (no query)."""
    from django.utils import timezone

    from patients import selectors, timeline
    from patients.models import Patient

    selectors.patient_timeline(Patient.objects.for_detail().get(pk=record.pk), derm, newest=21)  # caches the catalogue
    patient = Patient.objects.for_detail().get(pk=record.pk)
    derm = type(derm).objects.get(pk=derm.pk)  # nothing kept on the user
    selectors.patient_detail(patient, today=timezone.localdate(), with_history=True)
    with django_assert_num_queries(6):
        events = selectors.patient_timeline(patient, derm, newest=selectors.TIMELINE_ON_PAGE + 1)
    assert {e.kind for e in events} == set(timeline.KINDS)  # every source read
