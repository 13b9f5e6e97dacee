"""The worklist's bulk recall / letter actions (service and view) and its CSV export."""

import csv
import datetime as dt
import uuid

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from monitoring import services as svc
from monitoring.models import RecallContact
from portal.models import AuditEvent, Clinic
from tests.factories import CANARY, TODAY, make_clinic, make_course, make_patient, make_scheduled_item, make_user
from therapy.models import ScheduledItem

WORKLIST = reverse("monitoring:worklist")
CONTACTS = reverse("monitoring:worklist_contacts")
EXPORT = reverse("monitoring:worklist_export")


@pytest.fixture
def course(clinic, derm, catalogue):
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="WL-001", given_name=f"{CANARY}Ann")
    return make_course(patient, derm)


@pytest.fixture
def other_item(derm, catalogue):
    return make_scheduled_item(make_course(make_patient(clinic=make_clinic("Elsewhere")), derm))


def _key(client) -> str:
    import re

    return re.search(r'name="idempotency_key" value="([^"]+)"', client.get(WORKLIST).content.decode()).group(1)


def _texts(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# --- Service --------------------------------------------------------------------------------------------------------


def test_recall_records_one_contact_and_one_audit_row_per_check(nurse, course):
    items = [make_scheduled_item(course, check_type=c) for c in ("cbc", "lipids", "liver")]
    outcome = svc.recall_contacts_record(actor=nurse, item_ids=[i.public_id for i in items], kind="recalled")
    assert len(outcome.recorded) == 3
    assert outcome.ignored == 0
    contacts = RecallContact.objects.filter(kind="recalled", contacted_on=TODAY, recorded_by=nurse)
    assert contacts.count() == 3
    audit = AuditEvent.objects.filter(summary__startswith="Recalled:")
    assert audit.count() == 3
    assert {a.changes["item"] for a in audit} == {str(i.public_id) for i in items}
    assert all(CANARY not in a.summary for a in audit)


def test_letter_takes_a_date_and_keeps_the_history(nurse, course):
    item = make_scheduled_item(course)
    svc.recall_contacts_record(
        actor=nurse, item_ids=[item.public_id], kind="letter", contacted_on=TODAY - dt.timedelta(5)
    )
    svc.recall_contacts_record(actor=nurse, item_ids=[item.public_id], kind="letter")
    assert list(item.recall_contacts.values_list("contacted_on", flat=True)) == [TODAY, TODAY - dt.timedelta(5)]


def test_recall_leaves_out_other_clinics_and_closed_checks(nurse, course, other_item):
    done = make_scheduled_item(course)
    ScheduledItem.objects.filter(pk=done.pk).update(status=ScheduledItem.Status.DONE)
    mine = make_scheduled_item(course)
    ids = [mine.public_id, done.public_id, other_item.public_id, uuid.uuid4()]
    outcome = svc.recall_contacts_record(actor=nurse, item_ids=ids, kind="recalled")
    assert [c.item_id for c in outcome.recorded] == [mine.pk]
    assert outcome.ignored == 3
    assert not other_item.recall_contacts.exists()


@pytest.mark.parametrize(
    ("kind", "on", "field"),
    [
        ("called", None, "kind"),
        ("recalled", TODAY + dt.timedelta(1), "contacted_on"),
        ("letter", TODAY - dt.timedelta(400), "contacted_on"),
    ],
)
def test_recall_refuses_bad_kind_and_dates(nurse, course, kind, on, field):
    item = make_scheduled_item(course)
    with pytest.raises(svc.MonitoringError) as exc:
        svc.recall_contacts_record(actor=nurse, item_ids=[item.public_id], kind=kind, contacted_on=on)
    assert exc.value.field == field
    assert not RecallContact.objects.exists()


# --- View -----------------------------------------------------------------------------------------------------------


def test_nurse_marks_ticked_checks_recalled_and_sees_the_date(client_as, nurse, course):
    items = [make_scheduled_item(course, check_type=c) for c in ("cbc", "lipids", "liver")]
    client = client_as(nurse)
    data = {"kind": "recalled", "item": [str(i.public_id) for i in items], "idempotency_key": _key(client)}
    response = client.post(CONTACTS + "?window=&page=1", data)
    assert response.status_code == 302
    assert response["Location"] == WORKLIST + "?window=&page=1"
    assert "3 checks marked recalled." in _texts(response)
    rows = client.get(WORKLIST).context["page"].rows
    assert {r["last_recalled"] for r in rows} == {TODAY}
    assert "Recalled " + TODAY.strftime("%-d %b %Y") in client.get(WORKLIST).content.decode()


def test_a_ticked_patient_stands_for_their_checks_the_filters_list(client_as, derm, course):
    make_scheduled_item(course, check_type="cbc")
    make_scheduled_item(course, check_type="lipids")
    make_scheduled_item(course, check_type="liver", due=TODAY + dt.timedelta(days=60))  # not listed by default
    client = client_as(derm)
    data = {"kind": "letter", "patient": str(course.patient.public_id), "idempotency_key": _key(client)}
    response = client.post(CONTACTS + "?check=lipids", data)
    assert "1 check marked letter sent." in _texts(response)
    assert list(RecallContact.objects.values_list("item__check_type", flat=True)) == ["lipids"]


def test_resending_the_same_form_stores_once(client_as, nurse, course):
    item = make_scheduled_item(course)
    client = client_as(nurse)
    data = {"kind": "recalled", "item": str(item.public_id), "idempotency_key": _key(client)}
    client.post(CONTACTS, data)
    again = client.post(CONTACTS, data)
    assert again.status_code == 302
    assert RecallContact.objects.count() == 1
    assert AuditEvent.objects.filter(summary__startswith="Recalled:").count() == 1
    assert "This was already sent; the contacts were recorded once." in _texts(again)


def test_another_clinics_check_is_left_out_with_a_message(client_as, nurse, course, other_item):
    client = client_as(nurse)
    data = {"kind": "recalled", "item": str(other_item.public_id), "idempotency_key": _key(client)}
    response = client.post(CONTACTS, data)
    assert not RecallContact.objects.exists()
    assert "0 checks marked recalled." in _texts(response)
    assert any("left out" in t for t in _texts(response))


def test_nothing_ticked_or_a_future_date_is_told_and_stores_nothing(client_as, nurse, course):
    item = make_scheduled_item(course)
    client = client_as(nurse)
    response = client.post(CONTACTS, {"kind": "recalled", "idempotency_key": _key(client)})
    assert "Tick at least one check or patient first." in _texts(response)
    future = (TODAY + dt.timedelta(1)).isoformat()
    data = {"kind": "letter", "item": str(item.public_id), "contacted_on": future, "idempotency_key": _key(client)}
    assert "The date cannot be in the future." in _texts(client.post(CONTACTS, data))
    assert not RecallContact.objects.exists()


def test_catalogue_admin_cannot_record_contacts(client_as, catalogue_admin, course):
    item = make_scheduled_item(course)
    assert (
        client_as(catalogue_admin).post(CONTACTS, {"kind": "recalled", "item": str(item.public_id)}).status_code == 403
    )
    assert not RecallContact.objects.exists()


def test_worklist_shows_the_bulk_actions_only_to_roles_that_may_use_them(client_as, nurse, course):
    make_scheduled_item(course)
    page = client_as(nurse).get(WORKLIST).content.decode()
    assert "Mark recalled" in page
    assert "Letter sent" in page


# --- CSV export -----------------------------------------------------------------------------------------------------


def _csv(response) -> list[str]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return response.content.decode("utf-8-sig").splitlines()


def test_export_lists_every_page_with_the_columns(client_as, nurse, course, clinic, derm):
    make_scheduled_item(course, due=TODAY - dt.timedelta(days=9))
    for _ in range(30):  # more patients than one page holds
        make_scheduled_item(make_course(make_patient(clinic=clinic), derm), due=TODAY)
    svc.recall_contacts_record(actor=nurse, item_ids=[course.schedule.get().public_id], kind="letter")
    lines = _csv(client_as(nurse).get(EXPORT))
    assert lines[0] == "record_number,patient,check,due_date,days_overdue,risk_flags,last_recalled,last_letter_sent"
    assert len(lines) == 1 + 31
    first = next(csv.reader(lines[1:2]))
    assert first[0] == "WL-001"
    assert first[3:5] == [(TODAY - dt.timedelta(days=9)).isoformat(), "9"]
    assert first[-1] == TODAY.isoformat()


def test_export_follows_the_filters(client_as, nurse, course):
    make_scheduled_item(course, check_type="cbc")
    make_scheduled_item(course, check_type="lipids")
    lines = _csv(client_as(nurse).get(EXPORT, {"check": "lipids"}))
    assert len(lines) == 2
    assert "Lipid" in lines[1] or "lipid" in lines[1]


def test_export_defuses_formulas_in_cells(client_as, nurse, clinic, derm, catalogue):
    patient = make_patient(clinic=clinic, record_number="=HYPERLINK(1)", family_name="+Evil", given_name="-x")
    make_scheduled_item(make_course(patient, derm))
    row = _csv(client_as(nurse).get(EXPORT))[1]
    assert row.startswith("'=HYPERLINK(1),")
    assert ',"\'+Evil, -x",' in row


def test_export_uses_semicolons_for_an_si_clinic(client_as, nurse, course, clinic):
    Clinic.objects.filter(pk=clinic.pk).update(unit_system=Clinic.UnitSystem.SI)
    make_scheduled_item(course)
    lines = _csv(client_as(nurse).get(EXPORT))
    assert lines[0].startswith("record_number;patient;check;")


def test_export_is_audited_once_without_names(client_as, nurse, course):
    make_scheduled_item(course)
    make_scheduled_item(course, check_type="lipids")
    client_as(nurse).get(EXPORT, {"window": "30"})
    event = AuditEvent.objects.get(object_type="monitoring.worklist")
    assert event.actor == nurse
    assert event.changes == {"filters": {"window": "30"}, "rows": 2}
    assert "2 check(s)" in event.summary
    assert CANARY not in event.summary
    assert "WL-001" not in event.summary


def test_export_is_only_the_users_clinic(client_as, nurse, course, other_item):
    assert len(_csv(client_as(nurse).get(EXPORT))) == 1


def test_export_needs_the_worklist_permission(client_as, catalogue_admin):
    assert client_as(catalogue_admin).get(EXPORT).status_code == 403


def test_nurse_without_clinic_gets_an_empty_export(client_as, catalogue):
    from portal import roles

    assert len(_csv(client_as(make_user(role=roles.NURSE, clinic=None)).get(EXPORT))) == 1
