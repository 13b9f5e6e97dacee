"""Single sign-on settings (portal/env.py) and the portal with single sign-on off or its provider unreachable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from portal.env import OIDC_DEFAULT_MFA_AMR, ConfigError, parse_oidc_settings
from portal.security import oidc

ROOT = Path(__file__).resolve().parents[2]
GOOD = {
    "PORTAL_OIDC_ISSUER": "https://idp.hospital.example/realms/staff/",
    "PORTAL_OIDC_CLIENT_ID": "jak-portal",
    "PORTAL_OIDC_CLIENT_SECRET": "s3cret-value-from-the-idp",
    "PORTAL_OIDC_ROLE_MAP": "jak-derm=dermatologist, jak-nurse=nurse,jak-catalogue=catalogue_admin",
}


def test_off_without_an_issuer():
    assert parse_oidc_settings({}, production=True) is None
    assert parse_oidc_settings({"PORTAL_OIDC_ISSUER": "  "}, production=True) is None


def test_defaults():
    cfg = parse_oidc_settings(GOOD, production=True)
    assert cfg["issuer"] == "https://idp.hospital.example/realms/staff"  # trailing slash dropped
    assert cfg["role_map"] == {"jak-derm": "dermatologist", "jak-nurse": "nurse", "jak-catalogue": "catalogue_admin"}
    assert cfg["groups_claim"] == "groups"
    assert cfg["clinic_claim"] == "groups"
    assert cfg["clinic_map"] == {}
    assert cfg["mfa_amr"] == OIDC_DEFAULT_MFA_AMR == ("mfa", "otp", "hwk")
    assert cfg["mfa_acr"] == ()
    assert cfg["scopes"] == "openid email profile"
    assert cfg["timeout"] == 10


def test_every_option():
    cfg = parse_oidc_settings(
        {
            **GOOD,
            "PORTAL_OIDC_NAME": "Hospital account",
            "PORTAL_OIDC_GROUPS_CLAIM": "roles",
            "PORTAL_OIDC_CLINIC_CLAIM": "department",
            "PORTAL_OIDC_CLINIC_MAP": "derm-north=Dermatology, North site; derm-south=South Skin Unit",
            "PORTAL_OIDC_MFA_AMR": "mfa,hwk",
            "PORTAL_OIDC_MFA_ACR": "urn:hospital:loa:2",
            "PORTAL_OIDC_SCOPES": "openid email profile groups",
            "PORTAL_OIDC_TIMEOUT": "5",
        },
        production=True,
    )
    assert cfg["name"] == "Hospital account"
    assert cfg["groups_claim"] == "roles"
    assert cfg["clinic_claim"] == "department"
    # Semicolons separate the pairs when a clinic's name has a comma.
    assert cfg["clinic_map"] == {"derm-north": "Dermatology, North site", "derm-south": "South Skin Unit"}
    assert cfg["mfa_amr"] == ("mfa", "hwk")
    assert cfg["mfa_acr"] == ("urn:hospital:loa:2",)
    assert cfg["timeout"] == 5


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"PORTAL_OIDC_ISSUER": "idp.hospital.example"}, "PORTAL_OIDC_ISSUER must be the identity provider's"),
        ({"PORTAL_OIDC_ISSUER": "https://idp.example/?x=1"}, "PORTAL_OIDC_ISSUER must be the identity provider's"),
        ({"PORTAL_OIDC_ISSUER": "http://idp.hospital.example"}, "must be an https:// URL in production"),
        ({"PORTAL_OIDC_CLIENT_ID": ""}, "PORTAL_OIDC_CLIENT_ID is required"),
        ({"PORTAL_OIDC_CLIENT_SECRET": " "}, "PORTAL_OIDC_CLIENT_SECRET is required"),
        ({"PORTAL_OIDC_ROLE_MAP": ""}, "PORTAL_OIDC_ROLE_MAP is required"),
        ({"PORTAL_OIDC_ROLE_MAP": "jak-derm=surgeon"}, "the roles are dermatologist, nurse, catalogue_admin"),
        ({"PORTAL_OIDC_ROLE_MAP": "jak-derm"}, "must be a list of name=value pairs"),
        ({"PORTAL_OIDC_ROLE_MAP": "a=nurse,a=dermatologist"}, "names 'a' twice"),
        ({"PORTAL_OIDC_CLINIC_MAP": "north="}, "PORTAL_OIDC_CLINIC_MAP must be a list of name=value pairs"),
        ({"PORTAL_OIDC_SCOPES": "email profile"}, "must include openid"),
        ({"PORTAL_OIDC_TIMEOUT": "0"}, "PORTAL_OIDC_TIMEOUT must be a whole number from 1 to 120"),
    ],
)
def test_bad_values_are_refused_with_a_clear_message(changes, message):
    with pytest.raises(ConfigError, match=message) as caught:
        parse_oidc_settings({**GOOD, **changes}, production=True)
    assert GOOD["PORTAL_OIDC_CLIENT_SECRET"] not in str(caught.value)


def test_http_issuer_on_loopback_or_outside_production_is_allowed():
    assert parse_oidc_settings({**GOOD, "PORTAL_OIDC_ISSUER": "http://127.0.0.1:8080/o"}, production=True)
    assert parse_oidc_settings({**GOOD, "PORTAL_OIDC_ISSUER": "http://idp.test:8080"}, production=False)


@pytest.mark.django_db
def test_off_by_default_no_button_and_no_sign_on_urls(client, settings):
    assert settings.PORTAL_OIDC is None
    page = client.get(reverse("login"))
    assert "Sign in with" not in page.text
    assert client.get(reverse("oidc_authentication_init")).status_code == 404
    assert client.get(reverse("oidc_authentication_callback"), {"code": "x", "state": "y"}).status_code == 404


@pytest.fixture
def unreachable(settings):
    # A loopback port nothing listens on (port 9 is "discard"; no service there on a test machine).
    settings.PORTAL_OIDC = parse_oidc_settings(
        {**GOOD, "PORTAL_OIDC_ISSUER": "http://127.0.0.1:9/o", "PORTAL_OIDC_TIMEOUT": "2"}, production=False
    )
    oidc.forget_provider_metadata()
    yield
    oidc.forget_provider_metadata()


@pytest.mark.django_db
def test_an_unreachable_provider_gives_a_clear_page_not_an_error(client, unreachable):
    response = client.get(reverse("oidc_authentication_init"))
    assert response.status_code == 503
    assert "cannot be reached just now" in response.text
    assert client.get(reverse("login")).status_code == 200  # local log-in still works


@pytest.mark.django_db
def test_a_callback_without_a_started_sign_in_is_refused(client, unreachable):
    response = client.get(reverse("oidc_authentication_callback"), {"code": "stolen", "state": "guessed"})
    assert response.status_code == 400
    assert "not completed" in response.text


def _settings_in_a_fresh_process(**env) -> subprocess.CompletedProcess:
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']); print(settings.PORTAL_OIDC['name'])"
    )
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "PORTAL_", "DATABASE_"))}
    environ.update({"DJANGO_SETTINGS_MODULE": "portal.settings", "PORTAL_DEMO": "1", **env})
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=environ, capture_output=True, text=True, timeout=60
    )


def test_configured_at_start_up_and_the_logout_redirect_is_allowed_by_the_csp():
    result = _settings_in_a_fresh_process(
        **{**GOOD, "PORTAL_OIDC_ISSUER": "https://idp.hospital.example:8443/realms/staff", "PORTAL_OIDC_NAME": "NHS"}
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["[\"'self'\", 'https://idp.hospital.example:8443']", "NHS"]


def test_a_bad_setting_stops_start_up_with_its_message():
    result = _settings_in_a_fresh_process(**{**GOOD, "PORTAL_OIDC_ROLE_MAP": "jak-derm=surgeon"})
    assert result.returncode != 0
    assert "PORTAL_OIDC_ROLE_MAP maps 'jak-derm' to 'surgeon'" in result.stderr
