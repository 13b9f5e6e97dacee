"""The interface inbox: lab messages for an unknown patient, assigned to a patient or rejected by the clinic's staff."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from interfaces.models import InboxMessage
from monitoring.models import Alert
from patients.models import LabResult
from portal.models import AuditEvent
from tests.factories import make_clinic, make_patient, make_user
from tests.interfaces.hl7_helpers import fixture, post

pytestmark = pytest.mark.django_db
INBOX = reverse("hl7v2:inbox")
KEY = re.compile(r'name="idempotency_key" value="([^"]+)"')


def _held(secret, name="oru_unknown_patient.hl7", **replace) -> InboxMessage:
    body = fixture(name)
    for old, new in replace.items():
        body = body.replace(old, new)
    post(secret, body)
    return InboxMessage.objects.latest("id")


def _form_key(client, held) -> str:
    return KEY.search(client.get(held.get_absolute_url()).content.decode()).group(1)


def test_the_inbox_lists_the_clinics_open_messages(client_as, nurse, lab_token, catalogue):
    held = _held(lab_token[1])
    page = client_as(nurse).get(INBOX).content.decode()
    assert held.message_id in page
    assert "NOT-ON-FILE-77" in page
    assert "Unknown patient" in page
    assert client_as(nurse).get(INBOX, {"status": "rejected"}).content.decode().count(held.message_id) == 0


def test_the_inbox_list_takes_the_same_queries_for_one_message_or_many(client_as, nurse, lab_token, catalogue):
    client = client_as(nurse)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(INBOX).status_code == 200
        return len(ctx)

    _held(lab_token[1])
    one = count()
    for n in range(5):
        _held(lab_token[1], **{"CL-111500000201": f"CL-9{n}", "NOT-ON-FILE-77": f"NOT-ON-FILE-{n}"})
    assert InboxMessage.objects.count() == 6
    assert count() == one


def test_the_detail_page_takes_the_same_queries_however_many_patients(client_as, nurse, clinic, lab_token, catalogue):
    held = _held(lab_token[1])
    client = client_as(nurse)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(held.get_absolute_url()).status_code == 200
        return len(ctx)

    make_patient(clinic=clinic)
    one = count()
    for _ in range(5):
        make_patient(clinic=clinic)
    assert count() == one


def test_another_clinics_staff_do_not_see_the_message(client_as, lab_token, catalogue):
    held = _held(lab_token[1])
    other = make_user(role="Nurse", clinic=make_clinic("Elsewhere"))
    client = client_as(other)
    assert held.message_id not in client.get(INBOX).content.decode()
    assert client.get(held.get_absolute_url()).status_code == 404


def test_assigning_stores_the_results_like_a_matched_message_and_is_audited(
    client_as, nurse, clinic, derm, lab_token, on_abrocitinib
):
    held = _held(lab_token[1], **{"||238|": "||45|"})  # platelets at the discontinue level, for the course patient
    client = client_as(nurse)
    data = {"action": "assign", "patient": on_abrocitinib.patient.pk, "idempotency_key": _form_key(client, held)}
    response = client.post(held.get_absolute_url(), data, follow=True)
    said = [str(m) for m in response.context["messages"]]
    assert said[0] == "Assigned to HL7-0001: 2 result(s) stored."
    assert said[1].startswith("Urgent alert sent to")  # told as after typing the result
    held.refresh_from_db()
    assert held.status == InboxMessage.Status.ASSIGNED
    assert held.patient == on_abrocitinib.patient
    assert held.handled_by == nurse
    results = LabResult.objects.filter(patient=on_abrocitinib.patient)
    assert results.count() == 2
    assert {r.recorded_by for r in results} == {nurse}
    assert Alert.objects.get(patient=on_abrocitinib.patient).severity == Alert.Severity.URGENT
    event = AuditEvent.objects.get(object_type="interfaces.inboxmessage", summary__contains="assigned")
    assert event.actor == nurse
    assert "Assign and store" not in response.content.decode()  # no forms on a handled message


def test_assigning_twice_stores_once(client_as, nurse, lab_token, on_abrocitinib):
    held = _held(lab_token[1])
    client = client_as(nurse)
    data = {"action": "assign", "patient": on_abrocitinib.patient.pk, "idempotency_key": _form_key(client, held)}
    first = client.post(held.get_absolute_url(), data)
    second = client.post(held.get_absolute_url(), data)
    assert first.status_code == second.status_code == 302
    assert LabResult.objects.filter(patient=on_abrocitinib.patient).count() == 2
    assert AuditEvent.objects.filter(object_type="interfaces.inboxmessage", summary__contains="assigned").count() == 1


def test_a_second_tab_cannot_handle_an_already_handled_message(client_as, nurse, derm, lab_token, on_abrocitinib):
    held = _held(lab_token[1])
    nurse_client = client_as(nurse)
    key = _form_key(nurse_client, held)
    from django.test import Client

    derm_client = Client()
    derm_client.force_login(derm)
    derm_key = _form_key(derm_client, held)
    nurse_client.post(
        held.get_absolute_url(), {"action": "reject", "reason": "Not our patient", "idempotency_key": key}
    )
    response = derm_client.post(
        held.get_absolute_url(),
        {"action": "assign", "patient": on_abrocitinib.patient.pk, "idempotency_key": derm_key},
    )
    assert response.status_code == 200
    assert "already handled (rejected)" in response.content.decode()
    assert not LabResult.objects.exists()


def test_an_assignment_the_checks_refuse_stores_nothing_and_says_why(client_as, nurse, lab_token, on_abrocitinib):
    held = _held(lab_token[1], **{"||238|10*3/uL": "||238|K/uL"})
    client = client_as(nurse)
    data = {"action": "assign", "patient": on_abrocitinib.patient.pk, "idempotency_key": _form_key(client, held)}
    response = client.post(held.get_absolute_url(), data)
    assert response.status_code == 200
    assert "Nothing was stored: OBX 2 (777-3" in response.content.decode()
    assert "unit K/uL not accepted for Platelets" in response.content.decode()
    held.refresh_from_db()
    assert held.status == InboxMessage.Status.OPEN
    assert not LabResult.objects.exists()
    # Fixed (here: another patient chosen is no fix, the lab must resend); the message can still be rejected.
    data = {
        "action": "reject",
        "reason": "Unit error: asked the lab to resend",
        "idempotency_key": data["idempotency_key"],
    }
    assert client.post(held.get_absolute_url(), data).status_code == 302


def test_another_clinics_patient_cannot_be_chosen(client_as, nurse, lab_token, catalogue):
    held = _held(lab_token[1])
    stranger = make_patient(clinic=make_clinic("Elsewhere"))
    client = client_as(nurse)
    data = {"action": "assign", "patient": stranger.pk, "idempotency_key": _form_key(client, held)}
    response = client.post(held.get_absolute_url(), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert InboxMessage.objects.get().status == InboxMessage.Status.OPEN


def test_rejecting_needs_a_reason_and_is_audited_once(client_as, derm, lab_token, catalogue):
    held = _held(lab_token[1])
    client = client_as(derm)
    key = _form_key(client, held)
    empty = client.post(held.get_absolute_url(), {"action": "reject", "reason": " ", "idempotency_key": key})
    assert empty.status_code == 200
    assert InboxMessage.objects.get().status == InboxMessage.Status.OPEN
    data = {"action": "reject", "reason": "Not a patient of this clinic", "idempotency_key": key}
    assert client.post(held.get_absolute_url(), data).status_code == 302
    assert client.post(held.get_absolute_url(), data).status_code == 302
    held.refresh_from_db()
    assert (held.status, held.note, held.handled_by) == (InboxMessage.Status.REJECTED, data["reason"], derm)
    assert AuditEvent.objects.filter(object_type="interfaces.inboxmessage", summary__contains="rejected").count() == 1


def test_the_catalogue_admin_has_no_inbox(client_as, catalogue_admin, lab_token, catalogue):
    held = _held(lab_token[1])
    client = client_as(catalogue_admin)
    assert client.get(INBOX).status_code == 403
    assert client.post(held.get_absolute_url(), {"action": "reject", "reason": "x"}).status_code == 403


def test_the_inbox_is_in_the_navigation_of_nurses_and_dermatologists(client_as, nurse, derm, catalogue_admin):
    assert f'href="{INBOX}"' in client_as(derm).get("/").content.decode()
    assert f'href="{INBOX}"' in client_as(nurse).get("/").content.decode()
    assert f'href="{INBOX}"' not in client_as(catalogue_admin).get("/").content.decode()


def test_opening_an_assigned_message_is_audited_as_a_view_of_its_patient(client_as, nurse, lab_token, on_abrocitinib):
    held = _held(lab_token[1])
    client = client_as(nurse)
    data = {"action": "assign", "patient": on_abrocitinib.patient.pk, "idempotency_key": _form_key(client, held)}
    client.post(held.get_absolute_url(), data)
    views = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(on_abrocitinib.patient.pk))
    before = views.count()
    assert client.get(held.get_absolute_url()).status_code == 200
    assert views.count() == before + 1
