"""Issue 15, the nurse–doctor loop: after a save that raises an alert the nurse is told whom it went to, how
urgent it is and what to do; nurses read their clinic's alerts and whether the dermatologist has acted."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from monitoring import services as svc
from monitoring.models import Alert
from portal import roles
from tests.factories import TODAY, make_course, make_patient, make_user, record_result


@pytest.fixture
def on_abro(clinic, derm, catalogue):
    return make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="LOOP-001"), derm)


def _messages(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def _chest_pain(client, patient):
    url = reverse("monitoring:symptom_check", args=[patient.public_id])
    return client.post(url, {"checked_on": TODAY.isoformat(), "symptoms": ["chest_pain"]}, follow=True)


def test_chest_pain_tells_the_nurse_who_was_alerted_and_to_call_the_clinic_emergency_number(
    client_as, nurse, derm, clinic, on_abro
):
    clinic.emergency_number = "999"
    clinic.save()
    texts = _messages(_chest_pain(client_as(nurse), on_abro.patient))
    urgent = next(t for t in texts if "alert sent to" in t)
    assert urgent.startswith("EMERGENCY: call 999 now; the patient must seek emergency care.")
    assert f"Urgent alert sent to {derm}: Emergency warning signs reported" in urgent
    assert "Do not give the next dose" in urgent  # the alert's advice


def test_without_a_clinic_emergency_number_the_nurse_is_told_the_emergency_number(client_as, nurse, on_abro):
    texts = _messages(_chest_pain(client_as(nurse), on_abro.patient))
    assert any(t.startswith("EMERGENCY: call the emergency number now") for t in texts)


def test_infection_signs_tell_the_nurse_same_day_without_emergency_advice(client_as, nurse, derm, on_abro):
    url = reverse("monitoring:symptom_check", args=[on_abro.patient.public_id])
    response = client_as(nurse).post(url, {"checked_on": TODAY.isoformat(), "symptoms": ["fever"]}, follow=True)
    (notice,) = [t for t in _messages(response) if "alert sent to" in t]
    assert notice.startswith(f"Same day alert sent to {derm}: Warning signs reported: infection.")
    assert "Possible infection" in notice
    assert "EMERGENCY" not in notice


def test_lab_entry_tells_the_nurse_the_severity_recipient_and_advice(client_as, nurse, derm, on_abro):
    url = reverse("monitoring:lab_entry", args=[on_abro.patient.public_id]) + "?panel=cbc"
    data = {"collected_on": TODAY.isoformat(), "v_platelets": "45", "u_platelets": "10*3/uL"}
    response = client_as(nurse).post(url, data, follow=True)
    texts = _messages(response)
    alert = Alert.objects.get(patient=on_abro.patient)
    assert f"Urgent alert sent to {derm}: {alert.title}. {alert.advice}" in texts
    assert not any(t.startswith("EMERGENCY") for t in texts)  # a low count is urgent, not an emergency call
    assert f"Alert: Urgent · sent to {derm} · " in response.content.decode()  # the saved-results page


def test_csv_upload_tells_the_nurse_each_alert(client_as, nurse, derm, on_abro):
    body = f"record_number,loinc,value,unit,collected_on\nLOOP-001,777-3,45000,/mm3,{TODAY}\n"
    upload = SimpleUploadedFile("results.csv", body.encode(), content_type="text/csv")
    response = client_as(nurse).post(reverse("monitoring:lab_upload"), {"file": upload}, follow=True)
    assert any(t.startswith(f"Urgent alert sent to {derm}:") for t in _messages(response))


def test_urgent_alert_without_an_active_dermatologist_goes_to_every_dermatologist_of_the_clinic(
    client_as, nurse, derm, clinic, on_abro
):
    colleague = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    derm.is_active = False
    derm.save()  # the prescriber and treating dermatologist left
    texts = _messages(_chest_pain(client_as(nurse), on_abro.patient))
    assert any("Urgent alert sent to every dermatologist of the clinic" in t for t in texts)
    alert = Alert.objects.get(patient=on_abro.patient)
    assert alert.recipient is None
    home = client_as(colleague).get("/").content.decode()
    assert f"URGENT · LOOP-001: {alert.title} (no active dermatologist on this patient)" in home
    inbox = client_as(colleague).get(reverse("monitoring:alerts"), {"scope": "clinic"})
    assert alert.pk in [a.pk for a in inbox.context["page"].rows]


def test_patient_page_shows_the_nurse_open_then_acknowledged_with_comment_and_by_whom(client_as, nurse, derm, on_abro):
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    page_url = on_abro.patient.get_absolute_url()
    page = client_as(nurse).get(page_url).content.decode()
    assert alert.title in page
    assert f"sent to {derm}" in page
    assert "<strong>Open</strong>: not acknowledged yet" in page
    svc.alert_acknowledge(actor=derm, alert=alert, comment="Repeat the count tomorrow")
    page = client_as(nurse).get(page_url).content.decode()
    assert f"<strong>Acknowledged</strong> by {derm}" in page
    assert "“Repeat the count tomorrow”" in page


def test_patient_page_and_alert_show_the_action_the_dermatologist_took(client_as, nurse, derm, on_abro):
    alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))
    act = reverse("monitoring:alert_act", args=[alert.public_id, "stop"])
    data = {
        "stop-on": TODAY.isoformat(),
        "stop-reason": "lab_action_level",
        "stop-comment": "Stopped: platelets 45",
        "stop-row_version": on_abro.row_version,
    }
    assert client_as(derm).post(act, data).status_code == 302
    alert.refresh_from_db()
    assert alert.action == Alert.Action.STOP
    page = client_as(nurse).get(on_abro.patient.get_absolute_url()).content.decode()
    assert f"<strong>Acted: course stopped</strong> by {derm}" in page
    detail = client_as(nurse).get(alert.get_absolute_url()).content.decode()
    assert "Acted: course stopped" in detail


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx)


def _more_alerts(nurse, derm, clinic, n):
    for i in range(n):
        course = make_course(make_patient(clinic=clinic, dermatologist=derm), derm)
        alert = Alert.objects.get(lab_result=record_result(nurse, course.patient, "platelets", "45"))
        if i % 2:
            svc.alert_acknowledge(actor=derm, alert=alert, comment="Seen")


@pytest.mark.parametrize("status", ["open", "acknowledged"])
def test_nurse_alert_inbox_query_count_does_not_grow(client_as, nurse, derm, clinic, catalogue, status):
    client = client_as(nurse)
    url = reverse("monitoring:alerts") + f"?status={status}"
    _more_alerts(nurse, derm, clinic, 2)
    few = _queries(client, url)
    _more_alerts(nurse, derm, clinic, 10)
    assert _queries(client, url) == few


def test_nurse_alert_and_patient_pages_query_count_does_not_grow(client_as, nurse, derm, on_abro):
    client = client_as(nurse)
    first = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "45"))

    def grow(n):
        for i in range(n):
            on = TODAY - dt.timedelta(days=n + i + 1)
            alert = Alert.objects.get(lab_result=record_result(nurse, on_abro.patient, "platelets", "40", on=on))
            svc.alert_acknowledge(actor=derm, alert=alert, comment="Seen")

    grow(2)
    urls = [first.get_absolute_url(), on_abro.patient.get_absolute_url()]
    # The first patient page after a catalogue change builds the cached lab catalogue: count from the second.
    client.get(urls[1])
    few = [_queries(client, u) for u in urls]
    grow(10)
    assert [_queries(client, u) for u in urls] == few


def test_csv_upload_with_more_alerts_than_told_counts_the_rest(client_as, nurse, derm, clinic, on_abro, monkeypatch):
    from monitoring import selectors

    monkeypatch.setattr(selectors, "NOTICES_SHOWN", 1)
    make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="LOOP-002"), derm)
    rows = [f"LOOP-00{n},777-3,45000,/mm3,{TODAY}" for n in (1, 2)]
    body = "record_number,loinc,value,unit,collected_on\n" + "\n".join(rows) + "\n"
    upload = SimpleUploadedFile("results.csv", body.encode(), content_type="text/csv")
    texts = _messages(client_as(nurse).post(reverse("monitoring:lab_upload"), {"file": upload}, follow=True))
    assert sum(t.startswith("Urgent alert sent to") for t in texts) == 1
    assert "1 more alert(s) raised: see the clinic's alerts." in texts


def test_nurse_home_links_to_the_clinic_alerts_instead_of_alerts_waiting_for_them(client_as, nurse, derm, on_abro):
    record_result(nurse, on_abro.patient, "platelets", "45")
    home = client_as(nurse).get("/").content.decode()
    assert "Alerts of your clinic" in home
    assert "Urgent alerts waiting for you" not in home
    assert "Urgent alerts waiting for you" in client_as(derm).get("/").content.decode()
