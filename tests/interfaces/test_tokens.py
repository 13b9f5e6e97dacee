"""Interface tokens: created once, stored hashed, revocable, and the gate of every interface view."""

import hashlib

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.http import JsonResponse
from django.test import RequestFactory, override_settings

from interfaces import tokens
from interfaces.endpoint import interface_view
from interfaces.models import InterfaceRequest, InterfaceToken
from portal.models import AuditEvent, Clinic

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    return Clinic.objects.create(name="Token Test Clinic")


def _json_error(status, reason):
    return JsonResponse({"error": reason}, status=status)


@interface_view("fhir", error=_json_error)
def _echo(request, caller):
    return JsonResponse({"clinic": caller.clinic.name, "actor": caller.actor_label})


def test_create_prints_the_token_on_the_last_line_and_stores_only_its_hash(clinic, capsys):
    call_command("interface_token", "create", "--name", "city-lab", "--clinic", clinic.name)
    secret = capsys.readouterr().out.strip().splitlines()[-1]
    token = InterfaceToken.objects.get(name="city-lab")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(InterfaceToken.objects.values().get())
    assert token.prefix == secret[:8]
    assert AuditEvent.objects.filter(object_type="interfaces.interfacetoken", action="create").count() == 1


def test_create_refuses_an_unknown_clinic_and_a_taken_name(clinic):
    with pytest.raises(CommandError, match="No clinic"):
        call_command("interface_token", "create", "--name", "x", "--clinic", "Nowhere")
    tokens.create_token(name="x", clinic=clinic)
    with pytest.raises(CommandError, match="already exists"):
        call_command("interface_token", "create", "--name", "x", "--clinic", clinic.name)
    assert InterfaceToken.objects.count() == 1


def test_list_never_shows_the_secret(clinic, capsys):
    new = tokens.create_token(name="ehr", clinic=clinic)
    call_command("interface_token", "list")
    out = capsys.readouterr().out
    assert "ehr" in out
    assert new.secret not in out


def test_a_valid_token_reaches_the_view_and_names_the_system():
    clinic = Clinic.objects.create(name="A")
    new = tokens.create_token(name="lab-a", clinic=clinic)
    request = RequestFactory().post("/x", HTTP_AUTHORIZATION=f"Bearer {new.secret}")
    response = _echo(request)
    assert response.status_code == 200
    assert b'"clinic": "A"' in response.content
    assert b"interface:lab-a" in response.content


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer wrong", "Basic abc", "bearer " + "x" * 300])
def test_a_missing_or_wrong_token_gets_401_and_is_logged(header):
    request = RequestFactory().post("/x", HTTP_AUTHORIZATION=header)
    response = _echo(request)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Bearer")
    assert InterfaceRequest.objects.get().outcome == InterfaceRequest.Outcome.DENIED


def test_a_revoked_token_is_refused_at_once(clinic):
    new = tokens.create_token(name="old", clinic=clinic)
    call_command("interface_token", "revoke", "--name", "old")
    response = _echo(RequestFactory().post("/x", HTTP_AUTHORIZATION=f"Bearer {new.secret}"))
    assert response.status_code == 401


def test_wrong_method_and_oversized_body_are_refused(clinic):
    new = tokens.create_token(name="t", clinic=clinic)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {new.secret}"}
    assert _echo(RequestFactory().get("/x", **auth)).status_code == 405
    with override_settings(PORTAL_INTERFACE_MAX_BYTES=1024):
        big = RequestFactory().post("/x", data="x" * 2000, content_type="text/plain", **auth)
        assert _echo(big).status_code == 413


def test_the_rate_limit_answers_429_with_retry_after(clinic):
    cache.clear()
    new = tokens.create_token(name="busy", clinic=clinic)
    with override_settings(PORTAL_INTERFACE_RATE_PER_MINUTE=3):
        codes = [
            _echo(RequestFactory().post("/x", HTTP_AUTHORIZATION=f"Bearer {new.secret}")).status_code for _ in range(5)
        ]
    assert codes[:3] == [200, 200, 200]
    assert codes[3:] == [429, 429]
