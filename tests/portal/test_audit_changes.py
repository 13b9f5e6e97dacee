"""How audit changes read on the patient page and the audit trail: the models' labels and choices, no ids."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from patients import services
from patients.models import RiskProfile
from portal.audit import audit_record, describe_changes
from portal.models import AuditEvent
from tests.factories import make_patient


@pytest.mark.parametrize(
    ("changes", "lines"),
    [
        ({"tb_status": ["never_tested", "negative"]}, ["Tuberculosis: Never tested → Negative"]),
        ({"hepatitis_b": ["", "negative"]}, ["Hepatitis B: Negative"]),
        ({"hypertension": [False, True]}, ["High blood pressure: No → Yes"]),
        ({"egfr_measured_on": [None, "2026-01-02"]}, ["eGFR measured on: 02/01/2026"]),
        ({"hbsag": [None, "negative on 2026-01-02"]}, ["Hepatitis B surface antigen: Negative on 02/01/2026"]),
        ({"sex_at_birth": ["female", "male"]}, ["Sex at birth: Female → Male"]),
        ({"phone": [None, "0123"]}, ["Phone: 0123"]),
        ({"tests": "Hb, Platelets", "alerts": 1}, ["Tests: Hb, Platelets", "Alerts: 1"]),
        ({}, []),
        (None, []),
    ],
)
def test_describe_changes_of_the_patient_record(changes, lines):
    assert describe_changes(changes, "patients.patient") == lines


def test_describe_changes_of_a_course_leaves_out_ids():
    changes = {"dose": ["100", "200"], "event": 4, "override": False}
    assert describe_changes(changes, "therapy.treatmentcourse") == ["Dose: 100 → 200", "Override: No"]


def _risk_change(derm, patient):
    profile = RiskProfile.objects.get(patient=patient)
    services.risk_profile_update(
        actor=derm, patient=patient, data={"tb_status": "negative"}, row_version=profile.row_version
    )


def test_the_audit_trail_shows_changes_in_words_and_records_by_number(client_as, clinic, derm, superuser):
    patient = make_patient(clinic=clinic, dermatologist=derm, record_number="AU-0001")
    _risk_change(derm, patient)
    body = client_as(superuser).get(reverse("portal:audit")).content.decode()
    assert "Tuberculosis: Never tested → Negative" in body
    assert "Patient, record AU-0001" in body
    assert "never_tested" not in body
    assert "patients.patient" not in body
    assert f"<code>{patient.pk}</code>" not in body


def test_the_audit_trail_reads_in_a_fixed_number_of_queries(client_as, clinic, derm, superuser):
    client = client_as(superuser)
    _risk_change(derm, make_patient(clinic=clinic, dermatologist=derm))
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("portal:audit"))
    for _ in range(10):
        _risk_change(derm, make_patient(clinic=clinic, dermatologist=derm))
    with CaptureQueriesContext(connection) as more:
        client.get(reverse("portal:audit"))
    assert len(more) == len(few)


def test_the_admin_audit_page_shows_the_changes_in_words(client_as, clinic, derm, superuser):
    patient = make_patient(clinic=clinic, dermatologist=derm)
    _risk_change(derm, patient)
    event = AuditEvent.objects.get(summary="Risk profile changed")
    body = client_as(superuser).get(reverse("admin:portal_auditevent_change", args=[event.pk])).content.decode()
    assert "Tuberculosis: Never tested → Negative" in body


def test_the_audit_trail_names_a_record_without_a_patient_by_its_name(client_as, superuser):
    audit_record(actor=superuser, action="change", obj=superuser, summary="Account changed")
    body = client_as(superuser).get(reverse("portal:audit")).content.decode()
    assert f"<td>Staff user, {superuser}</td>" in body
