import datetime as dt

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from drugs.models import Drug
from tests.factories import make_clinic, make_patient, make_user
from therapy.models import ScheduledItem, TreatmentCourse

TODAY = timezone.localdate()


def regimen_value(slug="abrocitinib", dose=100):
    return f"{Drug.objects.get(slug=slug).pk}:{dose}"


def start_url(patient):
    return reverse("therapy:start", args=[patient.public_id])


def check(client, patient, **extra):
    data = {"regimen": regimen_value(), "start_date": TODAY.isoformat(), "action": "check", **extra}
    return client.post(start_url(patient), data)


def test_dermatologist_checks_then_starts_with_acknowledgements(client_as, derm, smoker):
    client = client_as(derm)
    response = check(client, smoker)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Safety check for Abrocitinib 100 mg" in body
    assert "Reason for going ahead" in body
    assert "{#" not in body
    assert "{% comment" not in body
    ack_names = sorted({part.split('"')[0] for part in body.split('name="ack-')[1:]})
    shown = body.split('name="shown_codes" value="')[1].split('"')[0]
    data = {"regimen": regimen_value(), "start_date": TODAY.isoformat(), "action": "start", "shown_codes": shown}
    refused = client.post(start_url(smoker), data)
    assert "Acknowledge each warning" in refused.content.decode()
    assert not TreatmentCourse.objects.exists()
    data.update({f"ack-{name}": "Discussed risks; no alternative" for name in ack_names})
    started = client.post(start_url(smoker), data)
    assert started.status_code == 302
    course = TreatmentCourse.objects.get()
    page = client.get(started["Location"]).content.decode()
    assert "Monitoring schedule" in page
    assert (TODAY + dt.timedelta(weeks=4)).strftime("%-d %b %Y") in page
    assert "Discussed risks; no alternative" in page
    assert course.get_absolute_url() == started["Location"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"regimen": "999999:100"}, "cannot be chosen for this patient"),
        ({"regimen": "x1"}, "cannot be chosen for this patient"),
        ({"regimen": "1:150"}, "cannot be chosen for this patient"),
        ({"regimen": "1:1e9"}, "cannot be chosen for this patient"),
        ({"regimen": "1:sNaN"}, "cannot be chosen for this patient"),
        ({"start_date": "1901-01-01"}, "before the patient&#x27;s date of birth"),
        ({"start_date": "not a date"}, "Enter a valid date"),
    ],
)
def test_bad_start_input_is_explained_and_saves_nothing(client_as, derm, smoker, data, message):
    response = check(client_as(derm), smoker, **data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not TreatmentCourse.objects.exists()


def test_empty_override_reason_is_refused(client_as, derm, smoker):
    from drugs.models import Medicine
    from patients.models import ConcomitantMedicine

    ConcomitantMedicine.objects.create(patient=smoker, medicine=Medicine.objects.get(name="clopidogrel"))
    client = client_as(derm)
    body = check(client, smoker).content.decode()
    assert "Override and start therapy" in body
    shown = body.split('name="shown_codes" value="')[1].split('"')[0]
    acks = {f"ack-{n.split(chr(34))[0]}": "ok" for n in body.split('name="ack-')[1:]}
    data = {"regimen": regimen_value(), "start_date": TODAY.isoformat(), "action": "start", "shown_codes": shown}
    response = client.post(start_url(smoker), {**data, **acks, "override_reason": "   "})
    assert "Record an override reason" in response.content.decode()
    assert not TreatmentCourse.objects.exists()


@pytest.mark.parametrize("fixture", ["nurse", "catalogue_admin"])
def test_only_dermatologists_start_therapy(client_as, request, smoker, fixture):
    client = client_as(request.getfixturevalue(fixture))
    assert client.get(start_url(smoker)).status_code == 403


def test_patient_of_another_clinic_is_404(client_as, catalogue):
    other = make_patient(clinic=make_clinic("Elsewhere"))
    derm = make_user(role="Dermatologist", clinic=make_clinic("Here"))
    assert client_as(derm).get(start_url(other)).status_code == 404


@pytest.fixture
def course(smoker, derm):
    from tests.therapy.test_services import acks_for, plan
    from therapy import services

    findings, _ = services.safety_preview(patient=smoker, plan=plan())
    return services.course_start(actor=derm, patient=smoker, plan=plan(), acknowledgements=acks_for(findings))


def test_nurse_reads_the_course_but_cannot_change_it(client_as, nurse, course):
    client = client_as(nurse)
    page = client.get(course.get_absolute_url())
    assert page.status_code == 200
    assert b"Stop the course" not in page.content
    assert client.post(reverse("therapy:stop", args=[course.public_id]), {}).status_code == 403


def test_stop_from_the_page_updates_the_schedule(client_as, derm, course):
    client = client_as(derm)
    data = {"on": TODAY.isoformat(), "reason": "adverse_event", "note": "", "row_version": course.row_version}
    assert client.post(reverse("therapy:stop", args=[course.public_id]), data).status_code == 302
    course.refresh_from_db()
    assert course.status == "stopped"
    assert not ScheduledItem.objects.filter(course=course, status="open").exists()


def test_stop_without_a_reason_keeps_the_form(client_as, derm, course):
    client = client_as(derm)
    data = {"on": TODAY.isoformat(), "reason": "", "note": "typed note", "row_version": course.row_version}
    response = client.post(reverse("therapy:stop", args=[course.public_id]), data)
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    assert "typed note" in response.content.decode()
    course.refresh_from_db()
    assert course.status == "active"


def test_stale_course_change_is_refused(client_as, derm, course):
    client = client_as(derm)
    TreatmentCourse.objects.filter(pk=course.pk).update(row_version=course.row_version + 1)
    data = {"on": TODAY.isoformat(), "reason": "patient_choice", "note": "", "row_version": course.row_version}
    response = client.post(reverse("therapy:stop", args=[course.public_id]), data)
    assert "Someone else changed this course" in response.content.decode()


def test_patient_page_shows_the_course_and_entry_point(client_as, derm, course):
    body = client_as(derm).get(reverse("patients:detail", args=[course.patient.public_id])).content.decode()
    assert "Start therapy" in body
    assert "Abrocitinib 100 mg" in body


def test_course_page_query_count_does_not_grow(client_as, derm, course):
    client = client_as(derm)
    url = course.get_absolute_url()
    client.get(url)  # builds and caches the drug label, once per catalogue version
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for week in range(60, 90):
        ScheduledItem.objects.create(
            course=course,
            patient=course.patient,
            check_type="cbc",
            due_date=TODAY + dt.timedelta(weeks=week),
            earliest=TODAY,
            latest=TODAY + dt.timedelta(weeks=week),
            reason="extra",
            catalogue_version=1,
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


def test_start_form_shows_today_in_the_date_picker(client_as, derm, smoker):
    body = client_as(derm).get(start_url(smoker)).content.decode()
    assert f'type="date" name="start_date" value="{TODAY.isoformat()}"' in body


def test_patient_list_filters_by_drug_and_shows_therapy(client_as, derm, course, clinic):
    other = make_patient(clinic=clinic, family_name="Nocourse")
    client = client_as(derm)
    body = client.get(reverse("patients:list"), {"drug": "abrocitinib"}).content.decode()
    assert course.patient.family_name in body
    assert "Abrocitinib 100 mg" in body
    assert other.family_name not in body
    assert other.family_name not in client.get(reverse("patients:list"), {"drug": "upadacitinib"}).content.decode()


def test_patient_list_query_count_with_courses_does_not_grow(client_as, derm, course, clinic):
    from tests.therapy.test_services import acks_for, plan
    from therapy import services

    client = client_as(derm)
    url = reverse("patients:list")
    with CaptureQueriesContext(connection) as before:
        client.get(url)
    for i in range(5):
        patient = make_patient(clinic=clinic, risk={"tb_status": "negative"})
        findings, _ = services.safety_preview(patient=patient, plan=plan(slug="upadacitinib", dose="15"))
        services.course_start(
            actor=derm,
            patient=patient,
            plan=plan(slug="upadacitinib", dose="15"),
            acknowledgements=acks_for(findings),
            override_reason=f"test {i}",
        )
    with CaptureQueriesContext(connection) as after:
        client.get(url)
    assert len(after) == len(before)


def test_patient_page_gives_a_stopped_course_its_dates(client_as, derm, course):

    course.status = TreatmentCourse.Status.STOPPED
    course.stopped_on = course.start_date + dt.timedelta(days=30)
    course.save()
    page = client_as(derm).get(course.patient.get_absolute_url()).content.decode()
    assert f"{course.start_date:%-d %b %Y} to {course.stopped_on:%-d %b %Y}" in page


@pytest.mark.parametrize("jurisdiction", ["US", "EU"])
@pytest.mark.parametrize(("age", "weight"), [(40, "70"), (14, "45"), (9, "20")])
def test_the_start_page_never_offers_a_choice_its_check_refuses(
    clinic, derm, catalogue, settings, jurisdiction, age, weight
):
    """Every drug and dose the start page lists, for an adult, an adolescent and a child, in both jurisdictions."""
    from decimal import Decimal

    from therapy import services
    from therapy.forms import StartTherapyForm

    settings.PORTAL_JURISDICTION = jurisdiction
    born = TODAY.replace(year=TODAY.year - age) - dt.timedelta(days=30)
    patient = make_patient(clinic=clinic, dermatologist=derm, date_of_birth=born, weight_kg=Decimal(weight))
    choices = [value for value, _label in StartTherapyForm(patient=patient).fields["regimen"].widget.choices if value]
    assert len(choices) >= 5
    for value in choices:
        form = StartTherapyForm({"regimen": value, "start_date": TODAY.isoformat()}, patient=patient)
        assert form.is_valid(), (value, form.errors)
        findings, _ = services.safety_preview(patient=patient, plan=form.plan())
        refused = {f.code for f in findings} & {"dose.not_in_catalogue", "dose.band"}
        assert not refused, (jurisdiction, age, value, refused)


LABEL_TABLES = ("drugs_regimen", "drugs_boxedwarning", "drugs_contraindication", "drugs_labthreshold", "drugs_labunit")


def test_second_course_page_reads_the_drug_label_from_the_cache(client_as, derm, course):
    """The label is built once per catalogue version: the second request reads none of the catalogue's label rows."""
    client = client_as(derm)
    cache.clear()  # starting the course cached the label already
    with CaptureQueriesContext(connection) as first:
        client.get(course.get_absolute_url())
    with CaptureQueriesContext(connection) as second:
        assert client.get(course.get_absolute_url()).status_code == 200
    label_reads = [q["sql"] for q in second.captured_queries if any(f'FROM "{t}"' in q["sql"] for t in LABEL_TABLES)]
    assert label_reads == []
    # 13 fewer: the label's 12 relations and the drug row, for one query naming the catalogue version
    assert len(second) == len(first) - 13


def test_course_page_reads_the_version_once_and_the_patient_with_the_course(client_as, derm, course):
    """One query names the catalogue version (the label and the dose options share it), and the patient comes with
    the course (its clinic checked in the same query): no query of its own."""
    client = client_as(derm)
    client.get(course.get_absolute_url())
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(course.get_absolute_url()).status_code == 200
    selects = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("SELECT")]
    assert sum('FROM "drugs_catalogueversion"' in sql for sql in selects) == 1
    assert not [sql for sql in selects if sql.startswith('SELECT "patients_patient"."id", "patients_patient"."public')]
    assert not [sql for sql in selects if 'FROM "drugs_drug"' in sql]


def test_course_page_forms_are_rendered_once_and_shown_each_time(client_as, derm, course, monkeypatch):
    from therapy import render

    render._kept.clear()
    calls = []
    crispy = render.as_crispy_form
    monkeypatch.setattr(render, "as_crispy_form", lambda form: calls.append(type(form).__name__) or crispy(form))
    client = client_as(derm)
    pages = [client.get(course.get_absolute_url()).content.decode() for _ in range(2)]
    assert sorted(calls) == ["DoseChangeForm", "InterruptForm", "StopForm"]  # an active course: no resume form
    for page in pages:
        assert 'name="reason" class="select form-select" required id="id_reason"' in page  # the stop form
        assert "Check and change the dose" in page
        assert 'name="action" value="check"' in page
    assert pages[0].count('name="row_version"') == pages[1].count('name="row_version"') == 3
