from __future__ import annotations

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.factories import CANARY, make_patient


def current_code(device: TOTPDevice, offset_steps: int = 0) -> str:
    return f"{totp(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=offset_steps):06d}"


@pytest.fixture
def require_2fa(settings):
    """Production behaviour: every role needs the second factor."""
    settings.PORTAL_REQUIRE_2FA = True
    settings.PORTAL_DEMO = False
    return settings


@pytest.fixture
def canary_patient(clinic, derm):
    return make_patient(clinic=clinic, dermatologist=derm, given_name=f"{CANARY}Given", family_name=f"{CANARY}Family")
