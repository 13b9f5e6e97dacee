"""Who may read Patient/$everything: a token of the patient's clinic, or a signed-in staff member of it who passed
the second factor and may see patients. Everyone else gets an OperationOutcome, and nothing is audited as read."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.operationoutcome import OperationOutcome

from interfaces import tokens
from interfaces.models import InterfaceRequest
from portal import roles
from portal.models import AuditEvent, AuthenticatorDevice
from tests.factories import CANARY, make_clinic, make_patient, make_user
from tests.interfaces.fhir_helpers import bearer, verified_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Auth", family_name=CANARY)


def _url(patient) -> str:
    return reverse("fhir:patient_everything", args=[patient.public_id])


def _views(patient) -> int:
    return AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(patient.pk)).count()


def _refused(response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/fhir+json")
    assert OperationOutcome.model_validate_json(response.content).issue[0].code == code
    assert CANARY.encode() not in response.content


def test_no_token_is_401_with_a_bearer_challenge(client, patient):
    response = client.get(_url(patient))
    _refused(response, 401, "login")
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert _views(patient) == 0
    assert InterfaceRequest.objects.get().outcome == "denied"


def test_a_wrong_or_revoked_token_is_401(client, clinic, patient):
    _refused(client.get(_url(patient), HTTP_AUTHORIZATION="Bearer jak_not-a-real-token"), 401, "login")
    headers = bearer(client, clinic, name="old-ehr")
    assert client.get(_url(patient), **headers).status_code == 200
    tokens.revoke_token(name="old-ehr")
    _refused(client.get(_url(patient), **headers), 401, "login")


def test_another_clinics_patient_is_404_like_an_unknown_one(client, patient):
    headers = bearer(client, make_clinic("Elsewhere Clinic"))
    before = _views(patient)
    _refused(client.get(_url(patient), **headers), 404, "not-found")
    unknown = reverse("fhir:patient_everything", args=["6f1c0a0e-0000-4000-8000-000000000000"])
    _refused(client.get(unknown, **headers), 404, "not-found")
    _refused(client.get(reverse("fhir:patient_everything", args=["not-a-uuid"]), **headers), 404, "not-found")
    assert _views(patient) == before


@pytest.mark.parametrize("role", ["derm", "nurse"])
def test_a_verified_staff_session_of_the_clinic_reads_it(role, request, patient):
    user = request.getfixturevalue(role)
    response = verified_client(user).get(_url(patient))
    assert response.status_code == 200
    Bundle.model_validate_json(response.content)
    view = AuditEvent.objects.filter(action=AuditEvent.Action.VIEW, object_id=str(patient.pk)).get()
    assert view.actor == user
    assert InterfaceRequest.objects.get(outcome="accepted").actor == user


def test_a_session_without_the_second_factor_is_401(patient, derm, settings):
    settings.PORTAL_REQUIRE_2FA = True
    client = Client()
    client.force_login(derm)
    _refused(client.get(_url(patient)), 401, "login")


def test_with_2fa_optional_a_session_the_portal_lets_in_reads_it_too(patient, derm, settings):
    """PORTAL_REQUIRE_2FA off (demo mode): a user without an authenticator works in the portal's pages after the
    password alone, so the same session reads FHIR. One rule for both."""
    settings.PORTAL_REQUIRE_2FA = False
    client = Client()
    client.force_login(derm)
    assert client.get(reverse("patients:detail", args=[patient.public_id])).status_code == 200
    response = client.get(_url(patient))
    assert response.status_code == 200
    Bundle.model_validate_json(response.content)


def test_with_2fa_optional_a_user_with_an_authenticator_still_needs_the_code(patient, derm, settings):
    settings.PORTAL_REQUIRE_2FA = False
    device = AuthenticatorDevice(user=derm, name="app", confirmed=True)
    device.set_secret(b"0123456789abcdefghij")
    device.save()
    client = Client()
    client.force_login(derm)
    assert client.get(reverse("patients:detail", args=[patient.public_id])).status_code == 302
    _refused(client.get(_url(patient)), 401, "login")


def test_staff_of_another_clinic_get_404(patient):
    other = make_user(role=roles.DERMATOLOGIST, clinic=make_clinic("Other Derm Clinic"))
    _refused(verified_client(other).get(_url(patient)), 404, "not-found")


def test_catalogue_admin_without_a_clinic_is_401_and_with_one_403(patient, catalogue_admin, clinic):
    _refused(verified_client(catalogue_admin).get(_url(patient)), 401, "login")
    admin_in_clinic = make_user(role=roles.CATALOGUE_ADMIN, clinic=clinic)
    _refused(verified_client(admin_in_clinic).get(_url(patient)), 403, "forbidden")
    assert _views(patient) == 0


def test_only_get(client, clinic, patient):
    response = client.post(_url(patient), **bearer(client, clinic))
    _refused(response, 405, "not-supported")
