"""Whom an alert is for (issue 18, F2): only people of the patient's clinic, when raised and when read."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command

from monitoring import recipients
from monitoring import selectors as sel
from monitoring import services as svc
from monitoring.models import Alert
from portal import roles
from tests.factories import TODAY, make_clinic, make_course, make_patient, make_user, record_result

MOVED_RECORD = "MOVE-001"


@pytest.fixture
def other_clinic(db):
    return make_clinic("Other Dermatology Clinic")


@pytest.fixture
def prescriber(clinic):
    return make_user(role=roles.DERMATOLOGIST, clinic=clinic, email="prescriber@example.invalid")


@pytest.fixture
def treating(clinic):
    return make_user(role=roles.DERMATOLOGIST, clinic=clinic, email="treating@example.invalid")


@pytest.fixture
def course(clinic, prescriber, treating, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=treating, record_number=MOVED_RECORD)
    return make_course(patient, prescriber)


def _move(user, clinic):
    user.clinic = clinic
    user.save()


def _urgent_alert(nurse, course):
    return Alert.objects.get(lab_result=record_result(nurse, course.patient, "platelets", "45"))


def _home(client_as, user):
    return client_as(user).get("/").content.decode()


def test_new_alert_of_a_moved_prescriber_goes_to_the_treating_dermatologist(
    nurse, course, prescriber, treating, other_clinic
):
    _move(prescriber, other_clinic)
    assert _urgent_alert(nurse, course).recipient == treating


def test_new_alert_with_nobody_at_the_clinic_is_for_the_whole_clinic(nurse, course, prescriber, treating, other_clinic):
    _move(prescriber, other_clinic)
    _move(treating, other_clinic)
    alert = _urgent_alert(nurse, course)
    assert alert.recipient is None


def test_symptom_alert_of_a_moved_prescriber_goes_to_the_treating_dermatologist(
    nurse, course, prescriber, treating, other_clinic
):
    _move(prescriber, other_clinic)
    patient = type(course.patient).objects.for_detail().get(pk=course.patient.pk)
    _check, alert = svc.symptom_check_record(
        actor=nurse, patient=patient, checked_on=TODAY, symptoms=["chest_pain"], none_reported=False
    )
    assert alert is not None
    assert alert.recipient == treating


def test_existing_alert_no_longer_shows_to_a_prescriber_who_moved(
    client_as, nurse, course, prescriber, treating, other_clinic
):
    alert = _urgent_alert(nurse, course)
    assert alert.recipient == prescriber
    _move(prescriber, other_clinic)  # after the alert was raised: the stored recipient is now wrong
    home = _home(client_as, prescriber)
    assert MOVED_RECORD not in home
    assert alert.get_absolute_url() not in home
    assert not sel.alert_inbox(user=prescriber).rows
    # ... and it falls to the treating dermatologist of the patient's clinic, on the home page and in the inbox.
    assert alert.get_absolute_url() in _home(client_as, treating)
    assert [a.pk for a in sel.alert_inbox(user=treating).rows] == [alert.pk]


def test_existing_alert_with_nobody_left_shows_to_everyone_at_the_clinic(
    client_as, clinic, nurse, course, prescriber, treating, other_clinic
):
    alert = _urgent_alert(nurse, course)
    _move(prescriber, other_clinic)
    treating.is_active = False
    treating.save()
    colleague = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    home = _home(client_as, colleague)
    assert alert.get_absolute_url() in home
    assert "no active dermatologist on this patient" in home
    clinic_list = sel.alert_inbox(user=colleague, scope="clinic").rows
    assert [a.pk for a in clinic_list] == [alert.pk]
    assert clinic_list[0].for_user is None  # not "for" the prescriber who moved away
    assert alert.get_absolute_url() not in _home(client_as, prescriber)


def test_escalation_email_goes_to_the_clinic_not_to_a_prescriber_who_moved(nurse, course, prescriber, other_clinic):
    alert = _urgent_alert(nurse, course)
    Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))
    _move(prescriber, other_clinic)
    call_command("send_reminders", stdout=io.StringIO())
    urgent = [m for m in mail.outbox if "URGENT" in m.subject]
    assert len(urgent) == 1
    assert urgent[0].to == ["treating@example.invalid"]


def test_escalation_with_nobody_for_it_goes_to_the_clinics_dermatologists(
    clinic, nurse, course, prescriber, treating, other_clinic
):
    alert = _urgent_alert(nurse, course)
    Alert.objects.filter(pk=alert.pk).update(created_at=alert.created_at - dt.timedelta(hours=6))
    _move(prescriber, other_clinic)
    _move(treating, other_clinic)
    colleague = make_user(role=roles.DERMATOLOGIST, clinic=clinic, email="colleague@example.invalid")
    call_command("send_reminders", stdout=io.StringIO())
    urgent = [m for m in mail.outbox if "URGENT" in m.subject]
    assert [m.to for m in urgent] == [[colleague.email]]


@pytest.mark.parametrize("prescriber_state", ["here", "moved", "inactive", "none"])
@pytest.mark.parametrize("treating_state", ["here", "moved", "inactive", "none"])
def test_the_sql_and_python_rules_agree(
    prescriber_state, treating_state, nurse, course, prescriber, treating, other_clinic
):
    alert = _urgent_alert(nurse, course)

    def apply(user, state):
        if state == "moved":
            _move(user, other_clinic)
        elif state == "inactive":
            user.is_active = False
            user.save()

    apply(prescriber, prescriber_state)
    apply(treating, treating_state)
    if prescriber_state == "none":
        Alert.objects.filter(pk=alert.pk).update(recipient=None)
    if treating_state == "none":
        type(course.patient).objects.filter(pk=course.patient.pk).update(dermatologist=None)
    stored = Alert.objects.select_related("patient__dermatologist", "recipient").get(pk=alert.pk)
    annotated = recipients.with_recipient(Alert.objects.filter(pk=alert.pk)).get()
    current = recipients.current_recipient(stored)
    assert annotated.for_user_id == (current.pk if current else None)
