from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django_otp.oath import totp

from portal.models import AuthenticatorDevice
from tests.factories import CANARY, make_patient


def current_code(device: AuthenticatorDevice, offset_steps: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps):06d}"


def issue_enrolment_code(user) -> str:
    """What an administrator does before a new account can set up its app: a one-time enrolment code."""
    from portal.security import twofactor

    code, _expires = twofactor.enrolment_code_issue(actor=None, user=user)
    return code


def start_enrolment(client, user) -> AuthenticatorDevice:
    """In a session past the password step: enter a fresh enrolment code; returns the attempt the page shows."""
    unlocked = client.post(reverse("otp_enrol"), {"enrolment_code": issue_enrolment_code(user)})
    assert unlocked.status_code == 302, unlocked.content.decode()[:2000]
    page = client.get(reverse("otp_enrol"))
    assert page.status_code == 200
    assert b"otp-qr" in page.content
    return AuthenticatorDevice.objects.get(pk=client.session["_portal_otp_pending_device"])


def enrol_response(client, user):
    """Enrolment code, QR page, confirm: the response that shows the backup codes."""
    device = start_enrolment(client, user)
    done = client.post(reverse("otp_enrol"), {"token": current_code(device)})
    assert done.status_code == 200
    assert b"Two-step log-in is on" in done.content
    return done


def backup_codes_in(response) -> list[str]:
    return re.findall(r"<code>([a-z0-9]{5}-[a-z0-9]{5})</code>", response.content.decode())


@pytest.fixture
def require_2fa(settings):
    """Production behaviour: every role needs the second factor."""
    settings.PORTAL_REQUIRE_2FA = True
    settings.PORTAL_DEMO = False
    return settings


@pytest.fixture
def canary_patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Given", family_name=f"{CANARY}Family")
