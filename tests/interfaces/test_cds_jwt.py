"""The CDS Hooks JWT: an EHR's signed token is accepted when its issuer is configured, checked with PyJWT."""

import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.core.management import call_command

from interfaces import tokens
from interfaces.models import InterfaceRequest
from tests.interfaces.cds_helpers import SERVICE_URL, post, smoker_request

pytestmark = pytest.mark.django_db
ISSUER = "https://ehr.example.org"
AUDIENCE = "http://127.0.0.1:8000/cds-services/jak-safety-check"  # PORTAL_BASE_URL (demo default) + the path


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.fixture
def ehr_key():
    return ec.generate_private_key(ec.SECP384R1())


def _pem(private_key) -> str:
    return (
        private_key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


@pytest.fixture
def configured(settings, tmp_path, clinic, ehr_key):
    tokens.create_token(name="city-ehr", clinic=clinic)
    key_file = tmp_path / "ehr.pem"
    key_file.write_text(_pem(ehr_key))
    settings.PORTAL_BASE_URL = "http://127.0.0.1:8000/"
    settings.PORTAL_CDS_JWT_ISSUERS = {ISSUER: {"key_file": str(key_file), "token": "city-ehr"}}
    return key_file


def signed(key, **claims) -> str:
    now = int(time.time())
    body = {
        "iss": ISSUER,
        "sub": "client-0001",
        "aud": AUDIENCE,
        "iat": now,
        "exp": now + 300,
        "jti": str(uuid.uuid4()),
    }
    body.update(claims)
    return jwt.encode({k: v for k, v in body.items() if v is not None}, key, algorithm="ES384", headers={"kid": "k1"})


def test_a_valid_jwt_reaches_the_service_as_the_configured_token(client, configured, ehr_key, catalogue):
    response = post(client, smoker_request(), signed(ehr_key))
    assert response.status_code == 200, response.content
    assert response.json()["cards"]
    assert InterfaceRequest.objects.get().token.name == "city-ehr"


def test_a_key_from_a_jwks_file_is_accepted(client, configured, ehr_key, catalogue):
    jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(ehr_key.public_key()))
    configured.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "ES384", "use": "sig"}]}))
    assert post(client, smoker_request(), signed(ehr_key)).status_code == 200


@pytest.mark.parametrize(
    ("claims", "reason"),
    [
        ({"exp": int(time.time()) - 3600, "iat": int(time.time()) - 4000}, "expired"),
        ({"aud": "https://elsewhere.example/cds-services/jak-safety-check"}, "audience"),
        ({"iss": "https://other-ehr.example"}, "issuer"),
        ({"jti": None}, "not valid"),
    ],
)
def test_an_expired_misaddressed_or_foreign_jwt_is_401(client, configured, ehr_key, claims, reason):
    response = post(client, smoker_request(), signed(ehr_key, **claims))
    assert response.status_code == 401
    assert reason in response.json()["error"]
    row = InterfaceRequest.objects.get()
    assert row.outcome == InterfaceRequest.Outcome.DENIED
    assert reason in row.reason


def test_a_jwt_signed_by_another_key_is_401(client, configured):
    response = post(client, smoker_request(), signed(ec.generate_private_key(ec.SECP384R1())))
    assert response.status_code == 401
    assert "signature" in response.json()["error"]


def test_a_jwt_is_accepted_once(client, configured, ehr_key, catalogue):
    token = signed(ehr_key)
    assert post(client, smoker_request(), token).status_code == 200
    response = post(client, smoker_request(), token)
    assert response.status_code == 401
    assert "used before" in response.json()["error"]


def test_a_shared_secret_jwt_is_refused(client, configured):
    now = int(time.time())
    claims = {"iss": ISSUER, "aud": AUDIENCE, "iat": now, "exp": now + 300, "jti": "x"}
    forged = jwt.encode(claims, "a-shared-secret-the-portal-never-accepts-0123456789", algorithm="HS256")
    assert post(client, smoker_request(), forged).status_code == 401


def test_revoking_the_issuers_token_shuts_the_issuer_out(client, configured, ehr_key):
    tokens.revoke_token(name="city-ehr")
    response = post(client, smoker_request(), signed(ehr_key))
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]


def test_without_configured_issuers_a_jwt_is_just_an_unknown_token(client, settings, ehr_key):
    settings.PORTAL_CDS_JWT_ISSUERS = {}
    response = post(client, smoker_request(), signed(ehr_key))
    assert response.status_code == 401
    assert response.json()["error"] == "A valid bearer token is required."


def test_the_service_url_is_the_audience(client, configured, ehr_key, catalogue):
    body = smoker_request()
    token = signed(ehr_key, aud=AUDIENCE.replace("jak-safety-check", "jak-safety-check-select"))
    assert post(client, body, token, path=SERVICE_URL).status_code == 401
