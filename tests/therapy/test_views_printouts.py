"""The course's printouts: the patient's own handout and the letter to their GP (content, access, audit, queries)."""

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat

from portal.models import AuditEvent, Clinic
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_scheduled_item, make_user, record_result
from therapy.models import ScheduledItem

PHONE = "+44 20 7946 0000"


@pytest.fixture
def course(clinic, derm, catalogue):
    Clinic.objects.filter(pk=clinic.pk).update(phone=PHONE, emergency_number="999", address="1 Test Street")
    patient = make_patient(clinic=clinic, dermatologist=derm, given_name="Handa", family_name="Printwell")
    course = make_course(patient, derm, dose="100")
    course.frequency = "once daily"
    course.save(update_fields=["frequency"])
    return course


def handout(course):
    return reverse("therapy:handout", args=[course.public_id])


def letter(course):
    return reverse("therapy:gp_letter", args=[course.public_id])


def printed(body):
    """The part of the page that is printed (the staff strip above it is not)."""
    return body[body.index("<article") : body.index("</article>")]


def long_date(day):
    return dateformat.format(day, "j F Y")


def test_the_handout_is_personal(client_as, nurse, course):
    first = make_scheduled_item(course, check_type="cbc", due=TODAY + dt.timedelta(days=14))
    make_scheduled_item(course, check_type="lipids", due=TODAY + dt.timedelta(days=14))
    later = make_scheduled_item(course, check_type="efficacy_review", due=TODAY + dt.timedelta(days=84))
    done = make_scheduled_item(course, check_type="liver", due=TODAY + dt.timedelta(days=50))
    ScheduledItem.objects.filter(pk=done.pk).update(status="done")
    body = client_as(nurse).get(handout(course)).content.decode()
    assert "Handa Printwell" in body
    assert "Abrocitinib 100 mg, once daily" in body
    assert long_date(first.due_date) in body
    assert "Blood test (blood count, cholesterol (blood fats))" in body  # one visit, both tests
    assert long_date(later.due_date) in body
    assert long_date(done.due_date) not in body  # done checks are not check-ups to come
    assert "Call 999 now" in body
    assert f"Call the clinic today on {PHONE}" in body
    assert "Slurred speech" in body  # the catalogue's plain warning signs


@pytest.mark.parametrize("page", [handout, letter])
def test_printouts_carry_no_clinician_markers(client_as, nurse, course, page):
    make_scheduled_item(course, check_type="cbc", due=TODAY + dt.timedelta(days=14))
    body = client_as(nurse).get(page(course)).content.decode()
    assert "print.css" in body
    assert "{#" not in body  # a template comment over two lines is printed by Django, not hidden
    body = printed(body)
    assert "unconfirmed" not in body.lower()
    assert "[S" not in body
    assert "[P" not in body
    assert "§9" not in body  # the clinical reference's sections mean nothing outside the portal


def test_the_generic_handout_carries_no_markers_either(client_as, nurse, catalogue):
    body = printed(client_as(nurse).get(reverse("drugs:handout", args=["abrocitinib"])).content.decode())
    assert "unconfirmed" not in body.lower()
    assert "[S" not in body


def test_without_an_emergency_number_the_handout_says_ask_the_clinic_and_warns_staff(client_as, nurse, clinic, course):
    Clinic.objects.filter(pk=clinic.pk).update(emergency_number="", phone="")
    body = client_as(nurse).get(handout(course)).content.decode()
    assert "ask your clinic for the number" in body
    assert "Before printing:" in body
    assert "no emergency number" in body
    assert "Call 999" not in body


def test_an_interrupted_course_tells_the_patient_not_to_take_it(client_as, nurse, course):
    course.status = "interrupted"
    course.save(update_fields=["status"])
    body = printed(client_as(nurse).get(handout(course)).content.decode())
    assert "Your treatment is on hold: do not take Abrocitinib" in body


def test_the_gp_letter_says_an_interrupted_course_is_on_hold(client_as, derm, course):
    active = printed(client_as(derm).get(letter(course)).content.decode())
    course.status = "interrupted"
    course.save(update_fields=["status"])
    body = printed(client_as(derm).get(letter(course)).content.decode())
    assert "the treatment is on hold at present" in body
    assert "should not take Abrocitinib until we say so" in body
    assert "on hold" not in active


def test_the_course_page_and_the_patient_page_link_to_both_printouts(client_as, derm, course):
    client = client_as(derm)
    for page in (course.get_absolute_url(), course.patient.get_absolute_url()):
        body = client.get(page).content.decode()
        assert handout(course) in body
        assert letter(course) in body


def test_the_gp_letter_summarises_the_course(client_as, derm, nurse, course):
    item = make_scheduled_item(course, check_type="cbc", due=TODAY + dt.timedelta(days=14))
    record_result(nurse, course.patient, "platelets", "250", on=TODAY - dt.timedelta(days=3))
    record_result(nurse, course.patient, "platelets", "240", on=TODAY - dt.timedelta(days=1))
    body = client_as(derm).get(letter(course)).content.decode()
    assert "Atopic dermatitis" in body
    assert "Abrocitinib 100 mg, once daily" in body
    assert long_date(course.start_date) in body
    assert dateformat.format(item.due_date, "j M Y") in body
    assert "Dermatology clinic (blood test)" in body  # who does it
    assert "240" in printed(body)  # the latest platelet count, not the one before
    assert "250" not in printed(body)  # (the letter only: a page's ids may hold any digits)
    assert "Serious infections" in body  # the boxed-warning summary
    assert PHONE in body
    assert "1 Test Street" in body


def test_the_gp_letter_marks_a_check_past_its_window_as_overdue(client_as, derm, course):
    late = make_scheduled_item(course, check_type="skin_exam", due=TODAY - dt.timedelta(days=20), window=7)
    make_scheduled_item(course, check_type="cbc", due=TODAY - dt.timedelta(days=3), window=7)  # window still open
    body = printed(client_as(derm).get(letter(course)).content.decode())
    rows = re.findall(r"<tr>(.*?)</tr>", body[body.index('id="l-monitoring"') :], re.S)
    assert dateformat.format(late.due_date, "j M Y") in rows[1]
    assert "overdue" in rows[1]
    assert "overdue" not in rows[2]


def test_the_gp_letter_shows_results_in_the_clinics_units(client_as, derm, nurse, clinic, course):
    Clinic.objects.filter(pk=clinic.pk).update(unit_system="SI")
    record_result(nurse, course.patient, "hb", "13.5")
    body = client_as(derm).get(letter(course)).content.decode()
    assert "135 g/L" in body


@pytest.mark.parametrize("page", [handout, letter])
def test_opening_a_printout_is_audited_as_a_patient_view(client_as, nurse, course, page):
    client_as(nurse).get(page(course))
    event = AuditEvent.objects.get(action=AuditEvent.Action.VIEW)
    assert event.actor == nurse
    assert event.object_id == str(course.patient.pk)


@pytest.mark.parametrize("page", [handout, letter])
def test_another_clinics_staff_get_a_404(client_as, course, page):
    outsider = make_user(role="Nurse", clinic=make_clinic("Other Clinic"))
    assert client_as(outsider).get(page(course)).status_code == 404
    assert not AuditEvent.objects.filter(action=AuditEvent.Action.VIEW).exists()


def _queries(client, url):
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


@pytest.mark.parametrize("page", [handout, letter])
def test_printout_query_counts_do_not_grow_with_the_record(client_as, nurse, course, page):
    client = client_as(nurse)
    client.get(page(course))  # warm the session and permission caches
    counts = []
    day = 0  # each result on a day of its own: the same value twice on one day is one result
    for n in (1, 6):
        for i in range(n):
            day += 1
            on = TODAY - dt.timedelta(days=60 - day)
            record_result(nurse, course.patient, "platelets", "250", on=on)
            record_result(nurse, course.patient, "alt", "20", on=on)
            make_scheduled_item(course, check_type="lipids", due=TODAY + dt.timedelta(days=7 * i + 7), window=3)
            course.patient.medicines.create(name=f"Emollient {day}", dose_text="twice daily")
        counts.append(_queries(client, page(course)))
    assert counts[0] == counts[1], counts


def test_the_gp_letter_lists_the_current_medicines_and_flags_the_interacting_ones(client_as, derm, course):
    from drugs.models import Medicine
    from patients.models import ConcomitantMedicine

    patient = course.patient
    clopidogrel = Medicine.objects.get(name="clopidogrel")
    ConcomitantMedicine.objects.create(patient=patient, medicine=clopidogrel, dose_text="75 mg once daily")
    ConcomitantMedicine.objects.create(patient=patient, name="Cetirizine", dose_text="10 mg at night")
    ConcomitantMedicine.objects.create(patient=patient, name="Doxycycline", stopped_on=TODAY - dt.timedelta(days=30))
    body = printed(client_as(derm).get(letter(course)).content.decode())
    section = body[body.index('id="l-medicines"') :]
    section = section[: section.index("</section>")]
    assert "Cetirizine" in section
    assert "10 mg at night" in section
    assert "Doxycycline" not in section  # stopped
    clop = next(li for li in re.findall(r"<li>(.*?)</li>", section, re.S) if "lopidogrel" in li)
    assert "75 mg once daily" in clop
    assert "Antiplatelet" in clop  # the interaction listed in the letter
