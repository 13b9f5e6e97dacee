"""CDS Hooks discovery: what an EHR reads when it is configured to call the JAK safety check."""

import pytest

pytestmark = pytest.mark.django_db


def test_discovery_lists_the_safety_check_for_order_sign_and_order_select(client):
    response = client.get("/cds-services")
    assert response.status_code == 200
    services = response.json()["services"]
    assert {(s["id"], s["hook"]) for s in services} == {
        ("jak-safety-check", "order-sign"),
        ("jak-safety-check-select", "order-select"),
    }
    for service in services:
        assert service["title"]
        assert service["description"]
        prefetch = service["prefetch"]
        assert prefetch["patient"] == "Patient/{{context.patientId}}"
        assert set(prefetch) == {"patient", "conditions", "medications", "observations"}
        assert all("{{context.patientId}}" in template for template in prefetch.values())
        assert "http://loinc.org|72166-2" in prefetch["observations"]


def test_discovery_is_get_only(client):
    assert client.post("/cds-services").status_code == 405


def test_the_service_answers_get_with_405(client):
    response = client.get("/cds-services/jak-safety-check")
    assert response.status_code == 405
    assert response["Allow"] == "POST"
