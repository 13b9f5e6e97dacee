"""A live OpenID Connect provider for the tests, and a browser that signs in at it.

``start_provider`` runs the Django project in tests/oidc_provider (django-oauth-toolkit, OIDC on, its own SQLite
database and a fresh RSA key) with ``django-admin runserver`` on a free loopback port, in a subprocess. The portal
side stays in the pytest process and talks to it over real HTTP: discovery, the token endpoint, the JWKS and userinfo.
Every step is bounded in time.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urlsplit

import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

REPO = Path(__file__).resolve().parents[2]
CLIENT_ID = "jak-portal-test"
CLIENT_SECRET = "portal-client-secret-for-the-tests-only"
REDIRECT_URI = "http://testserver/accounts/sso/callback/"  # the test client's host
LOGOUT_REDIRECT_URI = "http://testserver/accounts/login/"
PASSWORD = "provider-password-2026"
STEP_TIMEOUT = 10  # seconds per HTTP request
START_TIMEOUT = 90  # seconds for migrate + seed + the server answering

# The provider's people: realistic groups as a hospital directory would send them.
USERS = [
    {
        "username": "dana.derm",
        "first_name": "Dana",
        "last_name": "Dermatologist",
        "email": "dana.derm@hospital.example",
        "groups": ["jak-derm", "jak-clinic-north", "amr:mfa"],  # signs in with MFA at the provider
    },
    {
        "username": "nico.nurse",
        "first_name": "Nico",
        "last_name": "Nurse",
        "email": "nico.nurse@hospital.example",
        "groups": ["jak-nurse", "jak-clinic-north"],  # password only at the provider
    },
    {
        "username": "fin.finance",
        "first_name": "Fin",
        "last_name": "Finance",
        "email": "fin.finance@hospital.example",
        "groups": ["finance", "amr:mfa"],  # no JAK Portal group
    },
]


class ProviderUnavailable(RuntimeError):
    pass


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen
    log: Path


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(args: list[str], env: dict, log: Path, timeout: float) -> None:
    with log.open("ab") as out:
        result = subprocess.run(args, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, timeout=timeout)
    if result.returncode != 0:
        raise ProviderUnavailable(f"{' '.join(args[1:4])} failed; see {log}:\n{log.read_text()[-2000:]}")


def start_provider(workdir: Path) -> Provider:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = workdir / "provider-key.pem"
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}/o"
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_", "PORTAL_", "PYTEST_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "tests.oidc_provider.settings",
            "PYTHONPATH": str(REPO),
            "OIDC_PROVIDER_DB": str(workdir / "provider.sqlite3"),
            "OIDC_PROVIDER_KEY_FILE": str(key_file),
            "OIDC_PROVIDER_ISSUER": issuer,
            "OIDC_PROVIDER_CLIENT_ID": CLIENT_ID,
            "OIDC_PROVIDER_CLIENT_SECRET": CLIENT_SECRET,
            "OIDC_PROVIDER_REDIRECT_URI": REDIRECT_URI,
            "OIDC_PROVIDER_LOGOUT_REDIRECT_URI": LOGOUT_REDIRECT_URI,
            "OIDC_PROVIDER_USERS": json.dumps([{**user, "password": PASSWORD} for user in USERS]),
        }
    )
    log = workdir / "provider.log"
    deadline = time.monotonic() + START_TIMEOUT
    _run([sys.executable, "-m", "django", "migrate", "--noinput", "-v", "0"], env, log, timeout=START_TIMEOUT)
    _run([sys.executable, "-m", "tests.oidc_provider.seed"], env, log, timeout=max(5, deadline - time.monotonic()))
    out = log.open("ab")
    process = subprocess.Popen(
        [sys.executable, "-m", "django", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=REPO,
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    out.close()
    provider = Provider(issuer=issuer, process=process, log=log)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ProviderUnavailable(f"the provider exited with {process.returncode}:\n{log.read_text()[-2000:]}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(issuer + "/.well-known/openid-configuration", timeout=2).status_code == 200:
                return provider
        time.sleep(0.2)
    stop_provider(provider)
    raise ProviderUnavailable(f"the provider did not answer within {START_TIMEOUT}s:\n{log.read_text()[-2000:]}")


def stop_provider(provider: Provider) -> None:
    provider.process.terminate()
    try:
        provider.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        provider.process.kill()
        provider.process.wait(timeout=10)


class _FormFields(HTMLParser):
    """The named inputs of the first form on a page (hidden fields included; submit buttons left out)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self._forms = 0

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "form":
            self._forms += 1
        elif tag == "input" and self._forms == 1 and attributes.get("name") and attributes.get("type") != "submit":
            self.fields[attributes["name"]] = attributes.get("value") or ""


def form_fields(html: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(html)
    return parser.fields


def provider_login(
    authorize_url: str, *, username: str, password: str = PASSWORD, browser: requests.Session | None = None
) -> str:
    """A browser at the provider: the authorization URL, the log-in form, the consent form ("Authorize").
    Returns the redirect back to the portal (its callback URL with the code and state), not followed.
    ``browser`` keeps the provider's cookies (its session) across calls; a fresh one by default."""
    browser = browser or requests.Session()
    page = browser.get(authorize_url, timeout=STEP_TIMEOUT)  # → the provider's log-in page
    page.raise_for_status()
    fields = form_fields(page.text)
    assert "csrfmiddlewaretoken" in fields, page.text[:500]
    page = browser.post(
        page.url, data={**fields, "username": username, "password": password}, timeout=STEP_TIMEOUT
    )  # → back to the authorization endpoint: the consent page
    page.raise_for_status()
    fields = form_fields(page.text)
    assert fields.get("client_id") == CLIENT_ID, page.text[:500]
    answer = browser.post(page.url, data={**fields, "allow": "Authorize"}, timeout=STEP_TIMEOUT, allow_redirects=False)
    assert answer.status_code == 302, answer.text[:500]
    return answer.headers["Location"]


def callback_path(location: str) -> str:
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == REDIRECT_URI, location
    return f"{parts.path}?{parts.query}"
