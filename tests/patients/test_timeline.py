"""The patient timeline: every kind of clinical event in words, newest first, one clinic's (the record is in
conftest.py)."""

import datetime as dt

from django.urls import reverse
from django.utils import timezone

from patients import selectors, services
from patients.models import Patient
from portal import roles
from portal.models import Clinic
from tests.factories import make_clinic, make_patient, make_user, record_result
from tests.patients.conftest import day, timeline_url

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


def test_the_timeline_page_pages(client_as, derm, record):
    for n in range(selectors.TIMELINE_PAGE_SIZE):
        services.assessment_record(actor=derm, patient=record, assessed_on=day(100 + n), data={"viga": 1})
    client = client_as(derm)
    first = client.get(timeline_url(record)).content.decode()
    assert "page=2" in first
    second = client.get(timeline_url(record, page=2)).content.decode()
    assert "Registered" in second
    assert "Registered" not in first


NORMAL_CBC = {"wbc": "6.1", "anc": "3.4", "alc": "1.9", "hb": "13.8", "platelets": "250"}


def _cbc_days(derm, patient, days):
    for n in days:
        for analyte, value in NORMAL_CBC.items():
            record_result(derm, patient, analyte, value, on=day(n))


def test_the_patient_page_timeline_is_the_full_timelines_newest(derm, record):
    """The patient page reads only the lab results that can be among its newest events; what it shows is the
    head of the full timeline, also when many results share the date and time of the last one shown."""
    newest = selectors.TIMELINE_ON_PAGE + 1
    patient = make_patient(clinic=record.clinic)
    Patient.objects.filter(pk=patient.pk).update(created_at=timezone.now() - dt.timedelta(days=60))  # "Registered"
    patient.refresh_from_db()  # is older than every result: the newest events are all results
    _cbc_days(derm, patient, [3])  # fewer results than the page shows: all of them
    assert selectors.patient_timeline(patient, derm, newest=newest) == selectors.patient_timeline(patient, derm)
    _cbc_days(derm, patient, [1, 2, 4, 5, 6])  # 30 results, 5 a day: the 21st newest is one of day 5's
    full = selectors.patient_timeline(patient, derm)
    assert len(full) > newest
    assert selectors.patient_timeline(patient, derm, newest=newest) == full[:newest]
    # Panels typed at once: each day's results recorded at the same instant (the timeline orders them by title)
    for n in range(1, 7):
        patient.lab_results.filter(collected_on=day(n)).update(recorded_at=timezone.now())
    full = selectors.patient_timeline(patient, derm)
    assert selectors.patient_timeline(patient, derm, newest=newest) == full[:newest]
    assert selectors.patient_timeline(record, derm, newest=newest) == selectors.patient_timeline(record, derm)[:newest]


def _timeline_list(body: str) -> str:
    return body.split('<ol class="list-unstyled timeline">')[1].split("</ol>")[0]


def test_the_patient_page_and_the_timeline_page_print_the_same_items(client_as, derm, record):
    """Both include templates/patients/_timeline.html with patients.render.timeline_rows: the page's newest events
    are the timeline page's first ones, item for item."""
    client = client_as(derm)
    on_page = _timeline_list(client.get(record.get_absolute_url()).content.decode())
    on_timeline = _timeline_list(client.get(timeline_url(record)).content.decode())
    assert on_page.count("<li") == min(selectors.TIMELINE_ON_PAGE, on_timeline.count("<li")) > 5
    assert on_timeline.startswith(on_page.rsplit("</li>", 1)[0])
    assert '<span class="badge text-bg-light border">Therapy</span>' in on_page


def test_events_link_their_course_alert_and_the_medicines_page(derm, record):
    """The links are built from one reverse per kind (portal.idurls): the same addresses as the objects' own."""
    from monitoring.models import Alert
    from therapy.models import TreatmentCourse

    urls = {e.url for e in selectors.patient_timeline(record, derm)}
    assert TreatmentCourse.objects.get(patient=record).get_absolute_url() in urls
    assert {a.get_absolute_url() for a in Alert.objects.filter(patient=record)} <= urls
    assert reverse("patients:medicines", args=[record.public_id]) in urls
