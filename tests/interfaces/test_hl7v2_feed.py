"""The HL7 v2 lab feed over HTTP (issue 19): a lab posts an ORU^R01 with its token and is answered with an ACK.

The done-when: a platelet count at abrocitinib's discontinue level is acknowledged AA, stored once (also when
posted twice) and raises the same urgent alert as the result typed in the lab form; an unknown patient lands in
the interface inbox; a malformed message gets AR and stores nothing.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from django.urls import reverse

from interfaces import tokens
from interfaces.models import InboxMessage, InterfaceRequest
from monitoring.models import Alert
from patients.models import LabResult
from portal.models import AuditEvent
from tests.factories import CANARY, TODAY, make_clinic, make_course, make_patient
from tests.interfaces.hl7_helpers import ack_of, fixture, post

pytestmark = pytest.mark.django_db
CBC = "oru_cbc_us_platelets_low.hl7"


def _replace_obx(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new)


def test_discontinue_level_platelets_are_acknowledged_stored_and_alerted(lab_token, on_abrocitinib):
    _, secret = lab_token
    response = post(secret, fixture(CBC))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("x-application/hl7-v2+er7")
    code, text = ack_of(response)
    assert code == "AA"
    assert text == "5 result(s) stored"
    assert "MSA|AA|CL-101502000123" in response.content.decode()
    patient = on_abrocitinib.patient
    platelets = LabResult.objects.get(patient=patient, lab_test__analyte="platelets")
    assert platelets.value == Decimal("45.0000")
    assert platelets.collected_on == TODAY
    assert platelets.flag == "low"
    assert platelets.action == "discontinue"
    assert LabResult.objects.filter(patient=patient).count() == 5
    (alert,) = Alert.objects.filter(patient=patient)
    assert alert.severity == Alert.Severity.URGENT
    assert alert.lab_result == platelets
    assert alert.recipient == on_abrocitinib.prescriber


def test_the_same_message_posted_twice_is_stored_once_and_acknowledged_both_times(lab_token, on_abrocitinib):
    _, secret = lab_token
    assert ack_of(post(secret, fixture(CBC)))[0] == "AA"
    code, text = ack_of(post(secret, fixture(CBC)))
    assert code == "AA"
    assert text == "5 already recorded, not stored again"
    assert LabResult.objects.filter(patient=on_abrocitinib.patient).count() == 5
    assert Alert.objects.filter(patient=on_abrocitinib.patient).count() == 1
    outcomes = list(InterfaceRequest.objects.order_by("at", "id").values_list("outcome", flat=True))
    assert outcomes == [InterfaceRequest.Outcome.ACCEPTED, InterfaceRequest.Outcome.DUPLICATE]


def test_the_alert_is_the_same_as_for_the_platelet_count_typed_in_the_lab_form(
    lab_token, on_abrocitinib, clinic, derm, nurse, client_as
):
    typed_course = make_course(make_patient(clinic=clinic, dermatologist=derm, record_number="TYPED-1"), derm)
    url = reverse("monitoring:lab_entry", args=[typed_course.patient.public_id]) + "?panel=cbc"
    form = {
        "collected_on": TODAY.isoformat(),
        "v_platelets": "45",
        "u_platelets": "10*3/uL",
        "panel": "cbc",
        "idempotency_key": str(uuid.uuid4()),
    }
    assert client_as(nurse).post(url, form).status_code == 302
    post(lab_token[1], fixture(CBC))
    fields = ("severity", "kind", "title", "reason", "advice", "rule", "source", "catalogue_version", "recipient_id")
    typed = Alert.objects.filter(patient=typed_course.patient).values(*fields).get()
    fed = Alert.objects.filter(patient=on_abrocitinib.patient).values(*fields).get()
    assert fed == typed
    typed_result = LabResult.objects.get(patient=typed_course.patient)
    fed_result = LabResult.objects.get(patient=on_abrocitinib.patient, lab_test__analyte="platelets")
    for name in ("value", "flag", "action", "action_rule", "action_source", "entered_unit"):
        assert getattr(fed_result, name) == getattr(typed_result, name), name


def test_results_are_attributed_to_the_interface_and_audited(lab_token, on_abrocitinib):
    post(lab_token[1], fixture(CBC))
    result = LabResult.objects.filter(patient=on_abrocitinib.patient).first()
    assert str(result.recorded_by) == "interface:city-lab"
    assert not result.recorded_by.is_active
    assert not result.recorded_by.has_usable_password()
    assert not result.recorded_by.groups.exists()
    event = AuditEvent.objects.get(object_type="patients.patient", summary__contains="lab result(s) recorded")
    assert event.actor_username == "interface:city-lab"
    assert event.summary == "5 lab result(s) recorded (HL7 v2)"


def test_si_units_and_a_local_code_with_the_loinc_alternate_are_converted_like_typed_values(
    lab_token, clinic, derm, catalogue
):
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="HL7-0002")
    code, text = ack_of(post(lab_token[1], fixture("oru_cbc_lipids_si.hl7")))
    assert (code, text) == ("AA", "7 result(s) stored")
    stored = {r.lab_test.analyte: r for r in LabResult.objects.filter(patient=patient).select_related("lab_test")}
    assert stored["hb"].value == Decimal("13.5000")  # 135 g/L
    assert (stored["hb"].entered_value, stored["hb"].entered_unit) == ("135", "g/L")
    assert stored["platelets"].value == Decimal("210.0000")  # PLT^Trombocyten^L^777-3^...^LN
    assert stored["total_cholesterol"].value == Decimal("239.7540")  # 6.2 mmol/L × 38.67
    assert stored["total_cholesterol"].flag == "high"


def test_a_correction_replaces_the_earlier_value_withdraws_its_alert_and_is_audited(lab_token, on_abrocitinib):
    _, secret = lab_token
    post(secret, fixture(CBC))
    code, text = ack_of(post(secret, fixture("oru_platelets_corrected.hl7")))
    assert (code, text) == ("AA", "1 result(s) stored")
    (platelets,) = LabResult.objects.filter(patient=on_abrocitinib.patient, lab_test__analyte="platelets")
    assert platelets.value == Decimal("145.0000")
    assert platelets.action == ""  # 145 is under the reference range, above every action level
    assert not Alert.objects.filter(patient=on_abrocitinib.patient).exists()
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, summary__startswith="Lab result corrected")
    assert event.actor_username == "interface:city-lab"
    assert event.changes["value"] == ["45", "145"]
    assert event.changes["alerts_withdrawn"] == 1
    # The same correction again: already recorded.
    assert ack_of(post(secret, fixture("oru_platelets_corrected.hl7")))[0] == "AA"
    assert LabResult.objects.filter(patient=on_abrocitinib.patient, lab_test__analyte="platelets").count() == 1


def test_a_correction_keeps_an_acknowledged_alert_with_the_correction_noted(lab_token, on_abrocitinib, derm, client_as):
    from monitoring.services import alert_acknowledge

    _, secret = lab_token
    post(secret, fixture(CBC))
    alert = Alert.objects.get(patient=on_abrocitinib.patient)
    alert_acknowledge(actor=derm, alert=alert, comment="Course interrupted, repeat count in a week.")
    assert ack_of(post(secret, fixture("oru_platelets_corrected.hl7")))[0] == "AA"
    kept = Alert.objects.get(pk=alert.pk)  # the decision and its comment stay in the record
    assert kept.status == Alert.Status.ACKNOWLEDGED
    assert kept.comment == "Course interrupted, repeat count in a week."
    assert kept.lab_result is None
    assert "The lab later corrected this result" in kept.reason
    assert "45 → 145" in kept.reason
    event = AuditEvent.objects.get(action=AuditEvent.Action.DELETE, summary__startswith="Lab result corrected")
    assert (event.changes["alerts_withdrawn"], event.changes["alerts_kept_acknowledged"]) == (0, 1)
    response = client_as(derm).get(reverse("monitoring:alert", args=[kept.public_id]))
    assert response.status_code == 200
    assert "The lab later corrected this result" in response.content.decode()


def test_preliminary_results_are_not_stored_and_the_ack_says_so(lab_token, on_abrocitinib):
    code, text = ack_of(post(lab_token[1], fixture("oru_preliminary.hl7")))
    assert code == "AA"
    assert "1 result(s) stored" in text
    assert "OBX 2 (1920-8" in text
    assert "preliminary (OBX-11 P), not stored" in text
    assert list(LabResult.objects.values_list("lab_test__analyte", flat=True)) == ["alt"]


def test_only_preliminary_results_are_answered_ae(lab_token, on_abrocitinib):
    body = fixture("oru_preliminary.hl7").replace("|N|||F|||", "|N|||P|||")
    code, text = ack_of(post(lab_token[1], body))
    assert code == "AE"
    assert text.startswith("No final or corrected result to store")
    assert not LabResult.objects.exists()


def test_an_unknown_patient_lands_in_the_inbox_and_is_answered_ae(lab_token, on_abrocitinib):
    response = post(lab_token[1], fixture("oru_unknown_patient.hl7"))
    code, text = ack_of(response)
    assert code == "AE"
    assert text.startswith("Unknown patient")
    assert "ERR||PID^1^3|204^Unknown key identifier^HL70357|E" in response.content.decode()
    held = InboxMessage.objects.get()
    assert held.status == InboxMessage.Status.OPEN
    assert held.identifiers == "NOT-ON-FILE-77, LAB990017"
    assert held.raw.startswith("MSH|^~\\&|CITYLAB LIS")
    assert not LabResult.objects.exists()
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.INBOX
    # A resend is the same inbox message, not a second one.
    assert ack_of(post(lab_token[1], fixture("oru_unknown_patient.hl7")))[0] == "AE"
    assert InboxMessage.objects.count() == 1


def test_another_clinics_record_number_is_not_matched(lab_token, catalogue, derm):
    other = make_clinic("Other Clinic")
    make_patient(clinic=other, record_number="HL7-0001")  # the fixture's number, in another clinic
    code, _ = ack_of(post(lab_token[1], fixture(CBC)))
    assert code == "AE"
    assert not LabResult.objects.exists()
    assert InboxMessage.objects.get().clinic == lab_token[0].clinic


@pytest.mark.parametrize("name", ["oru_malformed_truncated.hl7", "oru_malformed_encoding.hl7"])
def test_a_malformed_message_gets_ar_and_stores_nothing(lab_token, on_abrocitinib, name):
    response = post(lab_token[1], fixture(name))
    assert response.status_code == 200
    code, text = ack_of(response)
    assert code == "AR"
    assert "MSH" in text
    assert not LabResult.objects.exists()
    assert not InboxMessage.objects.exists()
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.REJECTED


@pytest.mark.parametrize(
    "body",
    [b"", b"hello", b"\xff\xfe\x00M\x00S\x00H", b"MSH|^~\\&|A|B|C|D|20261201||ADT^A01|X1|P|2.5.1\rPID|1||HL7-0001"],
)
def test_garbage_and_other_message_types_get_ar(lab_token, on_abrocitinib, body):
    code, text = ack_of(post(lab_token[1], body))
    assert code == "AR"
    assert text
    assert not LabResult.objects.exists()


@pytest.mark.parametrize(
    ("old", "new", "reason"),
    [
        ("||45|10*3/uL^thousand", "||45|K/uL^thousand", "unit K/uL not accepted for Platelets"),
        ("||45|10*3/uL^thousand", "||4500|10*3/uL^thousand", "is not a plausible Platelets"),
        ("777-3^Platelets", "26515-7^Platelets", "unknown test"),
        ("||45|10*3/uL^thousand", "||4x5|10*3/uL^thousand", "is not a number"),
        ("||45|10*3/uL^thousand", "||45|^thousand", "OBX-6 (unit) is empty"),
    ],
)
def test_one_bad_result_refuses_the_whole_message_with_the_reason(lab_token, on_abrocitinib, old, new, reason):
    body = _replace_obx(fixture(CBC), old, new)
    code, text = ack_of(post(lab_token[1], body))
    assert code == "AE"
    assert reason in text
    assert text.startswith("OBX 3 (")
    assert not LabResult.objects.exists()
    assert not Alert.objects.exists()
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.ERROR


def test_a_future_collection_date_is_refused(lab_token, on_abrocitinib):
    body = fixture(CBC, on=TODAY.replace(year=TODAY.year + 1))
    code, text = ack_of(post(lab_token[1], body))
    assert code == "AE"
    assert "future" in text
    assert not LabResult.objects.exists()


def test_a_revoked_token_is_refused_with_an_ar_ack_and_stores_nothing(lab_token, on_abrocitinib):
    tokens.revoke_token(name="city-lab")
    response = post(lab_token[1], fixture(CBC))
    assert response.status_code == 401
    assert ack_of(response)[0] == "AR"
    assert not LabResult.objects.exists()


def test_no_token_and_get_are_refused(client, on_abrocitinib):
    from tests.interfaces.hl7_helpers import ORU_URL

    assert client.post(ORU_URL, data=fixture(CBC), content_type="x-application/hl7-v2+er7").status_code == 401
    assert client.get(ORU_URL).status_code == 405
    assert not LabResult.objects.exists()


def test_the_request_log_holds_no_patient_data(lab_token, on_abrocitinib):
    post(lab_token[1], fixture(CBC))
    post(lab_token[1], fixture("oru_unknown_patient.hl7"))
    post(lab_token[1], _replace_obx(fixture(CBC), "||45|10*3/uL^thousand", "||4500|10*3/uL^thousand"))
    for row in InterfaceRequest.objects.values():
        text = str(row)
        assert CANARY not in text
        assert "HL7-0001" not in text
        assert "NOT-ON-FILE" not in text
        assert "4500" not in text
    assert set(InterfaceRequest.objects.values_list("message_id", flat=True)) == {
        "CL-101502000123",
        "CL-111500000201",
    }


HEPATITIS = (
    "MSH|^~\\&|CITYLAB LIS|CITY HOSPITAL LAB|JAK PORTAL|DERM|{day}101500-0500||ORU^R01^ORU_R01|CL-HEP-1|P|2.5.1\r"
    "PID|1||HL7-0001^^^JAKCLINIC^MR||Zzcanaryfamily^Zzcanarygiven||19800101|F\r"
    "OBR|1|ORD7|LAB7|24363-4^Acute hepatitis panel - Serum or Plasma^LN|||{day}083000-0500\r"
    "OBX|1|CWE|5196-1^Hepatitis B virus surface Ag [Presence] in Serum^LN||{hbsag}||Negative|N|||F|||{day}083000-0500\r"
    "OBX|2|CWE|16933-4^Hepatitis B virus core Ab [Presence] in Serum^LN||{hbc}||Negative|N|||F|||{day}083000-0500\r"
)


def _hepatitis(hbsag: str, hbc: str) -> str:
    return HEPATITIS.format(day=TODAY.strftime("%Y%m%d"), hbsag=hbsag, hbc=hbc)


def test_coded_screening_results_are_stored_as_the_lab_form_stores_them(lab_token, on_abrocitinib):
    body = _hepatitis("260385009^Negative^SCT", "NEG^Negative^L")
    assert ack_of(post(lab_token[1], body)) == ("AA", "2 result(s) stored")
    stored = dict(LabResult.objects.values_list("lab_test__analyte", "coded_value"))
    assert stored == {"hbsag": "negative", "anti_hbc": "negative"}


def test_a_coded_result_that_is_not_positive_negative_or_indeterminate_is_refused(lab_token, on_abrocitinib):
    code, text = ack_of(post(lab_token[1], _hepatitis("260385009^Negative^SCT", "Reactive (weak)")))
    assert code == "AE"
    assert "must be positive, negative or indeterminate" in text
    assert not LabResult.objects.exists()


def test_identifiers_naming_two_patients_are_refused_not_guessed(lab_token, on_abrocitinib, clinic):
    make_patient(clinic=clinic, record_number="LAB778812")  # the lab's own number, also a record number here
    code, text = ack_of(post(lab_token[1], fixture(CBC)))
    assert code == "AE"
    assert "more than one patient" in text
    assert not LabResult.objects.exists()
