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
