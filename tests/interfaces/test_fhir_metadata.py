"""GET /fhir/R4/metadata: an R4 CapabilityStatement naming what the export serves and how to authenticate."""

import pytest
from django.urls import reverse
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.operationoutcome import OperationOutcome

pytestmark = pytest.mark.django_db


def test_metadata_is_a_valid_capability_statement_without_a_token(client, settings):
    settings.PORTAL_BASE_URL = "https://clinic.example/jak/"
    response = client.get(reverse("fhir:metadata"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/fhir+json")
    statement = CapabilityStatement.model_validate_json(response.content)
    assert statement.fhirVersion == "4.0.1"
    assert "json" in statement.format
    assert statement.implementation.url == "https://clinic.example/jak/fhir/R4"
    (rest,) = statement.rest
    assert rest.mode == "server"
    assert "Bearer" in rest.security.description
    by_type = {r.type: r for r in rest.resource}
    assert set(by_type) == {"Patient", "MedicationRequest", "Observation", "DetectedIssue", "Flag", "CarePlan"}
    assert [op.name for op in by_type["Patient"].operation] == ["everything"]


def test_metadata_refuses_writes_with_an_operation_outcome(client):
    response = client.post(reverse("fhir:metadata"), data="{}", content_type="application/fhir+json")
    assert response.status_code == 405
    assert response["Allow"] == "GET"
    outcome = OperationOutcome.model_validate_json(response.content)
    assert outcome.issue[0].code == "not-supported"


@pytest.mark.parametrize(
    "path", ["/fhir/R4/Observation", "/fhir/R4/Patient/123", "/fhir/R4/Patient/x/$export", "/fhir/R4/"]
)
def test_any_other_fhir_address_is_a_404_operation_outcome_not_the_html_page(client, path):
    response = client.get(path, HTTP_ACCEPT="application/fhir+json")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("application/fhir+json")
    outcome = OperationOutcome.model_validate_json(response.content)
    assert outcome.issue[0].severity == "error"
    assert b"<html" not in response.content.lower()
