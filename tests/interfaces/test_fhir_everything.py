"""Patient/$everything: a Bundle that validates as FHIR R4B, coded in LOINC, UCUM, RxNorm and ATC, for a realistic
patient and for the demo clinic's treated patients, in a constant number of queries, audited without patient data."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle

from interfaces.fhir import mapping
from interfaces.models import InterfaceRequest
from patients.models import Patient
from portal.models import AuditEvent
from tests.factories import CANARY
from tests.interfaces.fhir_helpers import bearer, load_catalogue, treated_patient

pytestmark = pytest.mark.django_db

MEDICATION_SYSTEMS = {mapping.RXNORM, mapping.ATC}


def _everything(client, patient, headers):
    url = reverse("fhir:patient_everything", args=[patient.public_id])
    return client.get(url, **headers)


def _resources(bundle: Bundle, kind: str) -> list:
    return [e.resource for e in bundle.entry if e.resource.get_resource_type() == kind]


def assert_codes_as_stated(bundle: Bundle) -> None:
    """Every Observation is LOINC with UCUM quantities; every medication coding is RxNorm or ATC."""
    for obs in _resources(bundle, "Observation"):
        assert {c.system for c in obs.code.coding} == {mapping.LOINC}
        if obs.valueQuantity is not None:
            assert obs.valueQuantity.system == mapping.UCUM
            assert obs.valueQuantity.code
        for reference_range in obs.referenceRange or []:
            for end in (reference_range.low, reference_range.high):
                assert end is None or end.system == mapping.UCUM
    for request in _resources(bundle, "MedicationRequest"):
        concept = request.medicationCodeableConcept
        assert concept.text
        assert {c.system for c in concept.coding or []} <= MEDICATION_SYSTEMS


@pytest.fixture
def patient_and_course(clinic, derm):
    load_catalogue()
    return treated_patient(clinic, derm)


def test_everything_validates_and_says_what_the_record_says(client, clinic, patient_and_course, settings):
    settings.PORTAL_BASE_URL = "https://portal.example.org"
    patient, course = patient_and_course
    response = _everything(client, patient, bearer(client, clinic))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    bundle = Bundle.model_validate_json(response.content)
    assert bundle.type == "searchset"
    assert_codes_as_stated(bundle)

    fhir_patient = _resources(bundle, "Patient")[0]
    assert bundle.entry[0].resource is fhir_patient
    assert fhir_patient.id == str(patient.public_id)
    identifier = fhir_patient.identifier[0]
    assert identifier.value == "MRN-004711"
    assert identifier.system == f"https://portal.example.org/fhir/clinic/{clinic.pk}/record-number"
    assert fhir_patient.gender == "female"
    assert str(fhir_patient.birthDate) == "1986-03-14"

    # The dose change: two requests, the first stopped and replaced, the second the active one.
    first, second = _resources(bundle, "MedicationRequest")
    assert (first.status, second.status) == ("stopped", "active")
    assert second.priorPrescription.reference == f"urn:uuid:{first.id}"
    assert first.groupIdentifier.value == second.groupIdentifier.value == str(course.public_id)
    assert [d.doseAndRate[0].doseQuantity.value for d in (first.dosageInstruction[0], second.dosageInstruction[0])] == [
        100,
        200,
    ]
    assert second.dosageInstruction[0].timing.repeat.frequency == 1
    assert second.dosageInstruction[0].timing.repeat.periodUnit == "d"
    # Abrocitinib has no RxNorm code in the catalogue (none could be confirmed): ATC only, and the name.
    codings = second.medicationCodeableConcept.coding
    assert [(c.system, c.code) for c in codings] == [(mapping.ATC, "D11AH08")]
    assert second.medicationCodeableConcept.text == "Abrocitinib"

    platelets = next(o for o in _resources(bundle, "Observation") if o.code.coding[0].code == "777-3")
    assert platelets.valueQuantity.value == 45
    assert platelets.interpretation[0].coding[0].code == "L"
    assert platelets.referenceRange[0].low.value is not None
    assert "discontinue" in platelets.note[0].text.lower()

    issues = _resources(bundle, "DetectedIssue")
    assert sorted(i.severity for i in issues) == ["low", "moderate"]
    warning = next(i for i in issues if i.severity == "moderate")
    assert warning.code.coding[0].code == "boxed_warning.mace"
    assert warning.extension[0].valueInteger == course.catalogue_version
    assert warning.implicated[0].reference == f"urn:uuid:{second.id}"
    assert "Discussed" in warning.mitigation[0].action.text

    flags = _resources(bundle, "Flag")
    assert len(flags) == 1
    assert flags[0].status == "active"
    assert flags[0].category[0].coding[0].code == "lab"

    (plan,) = _resources(bundle, "CarePlan")
    cbc = next(a.detail for a in plan.activity if any(c.code == "cbc" for c in a.detail.code.coding))
    assert "777-3" in {c.code for c in cbc.code.coding}  # the blood count's tests, by LOINC
    assert cbc.status == "scheduled"
    assert cbc.scheduledPeriod.start is not None

    # Every reference points at an entry of the Bundle.
    full_urls = {e.fullUrl for e in bundle.entry}
    text = response.content.decode()
    for reference in set(_all_references(json.loads(text))):
        assert reference in full_urls, reference


def _all_references(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _all_references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _all_references(item)


def test_reading_is_audited_as_a_patient_view_and_logged_without_patient_data(client, clinic, patient_and_course):
    patient, _ = patient_and_course
    before = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(patient.pk)).count()
    _everything(client, patient, bearer(client, clinic, name="city-ehr"))
    views = AuditEvent.objects.filter(
        action=AuditEvent.Action.VIEW, object_type="patients.patient", object_id=str(patient.pk)
    )
    assert views.count() == before + 1
    assert "interface:city-ehr" in views.first().summary
    logged = InterfaceRequest.objects.get(interface="fhir", outcome="accepted")
    row = json.dumps(list(InterfaceRequest.objects.values()), default=str) + json.dumps(
        list(AuditEvent.objects.values("summary", "changes")), default=str
    )
    assert logged.token.name == "city-ehr"
    assert CANARY not in row
    assert "MRN-004711" not in row


def test_query_count_does_not_grow_with_the_record(client, clinic, derm):
    load_catalogue()
    small, _ = treated_patient(clinic, derm)
    from portal import roles
    from tests.factories import make_user

    other = make_user(role=roles.DERMATOLOGIST, clinic=clinic)
    large, _ = treated_patient(clinic, other, extra_results=25, record_number="MRN-LARGE")
    headers = bearer(client, clinic)
    _everything(client, small, headers)  # the token's first use also marks it used: one more query, once a minute
    counts = []
    for patient in (small, large):
        with CaptureQueriesContext(connection) as queries:
            response = _everything(client, patient, headers)
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[1] <= 16
    assert len(_resources(Bundle.model_validate_json(response.content), "Observation")) == 27


def test_every_demo_patient_exports_a_valid_bundle(client, settings):
    """The patients `make run` seeds (setup_demo's commands, on a smaller clinic): each $everything validates and
    all its codes are LOINC / RxNorm / ATC / UCUM."""
    settings.PORTAL_DEMO = True
    call_command("load_catalogue", verbosity=0)
    call_command("seed_demo_clinic", count=14, verbosity=0)
    call_command("seed_demo_therapy", verbosity=0)
    call_command("seed_demo_monitoring", verbosity=0)
    treated = list(Patient.objects.filter(courses__isnull=False).distinct())
    assert treated
    headers = bearer(client, treated[0].clinic)
    kinds = set()
    for patient in Patient.objects.all():
        response = _everything(client, patient, headers)
        assert response.status_code == 200
        bundle = Bundle.model_validate_json(response.content)
        assert_codes_as_stated(bundle)
        kinds |= {e.resource.get_resource_type() for e in bundle.entry}
    assert {"Patient", "MedicationRequest", "Observation", "DetectedIssue", "CarePlan"} <= kinds


def test_a_record_fhir_would_reject_is_an_operation_outcome_and_logs_no_values(
    client, clinic, patient_and_course, monkeypatch, caplog
):
    patient, _ = patient_and_course
    monkeypatch.setattr(mapping, "derived_id", lambda *parts: f"{CANARY} not an id")
    response = _everything(client, patient, bearer(client, clinic))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("application/fhir+json")
    assert CANARY.encode() not in response.content
    assert "failed validation" in caplog.text
    assert CANARY not in caplog.text
    assert InterfaceRequest.objects.get(interface="fhir").outcome == "error"
