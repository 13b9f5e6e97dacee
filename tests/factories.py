"""Synthetic test data only: no real people."""

from __future__ import annotations

import itertools

from django.contrib.auth.models import Group

from portal.models import User

_counter = itertools.count(1)
TEST_PASSWORD = "correct-horse-battery-staple-42"


def make_user(*, role: str | None = None, username: str | None = None, **fields) -> User:
    n = next(_counter)
    user = User.objects.create_user(
        username=username or f"staff{n}",
        password=TEST_PASSWORD,
        first_name=fields.pop("first_name", "Test"),
        last_name=fields.pop("last_name", f"Staff{n}"),
        **fields,
    )
    if role:
        if not Group.objects.filter(name=role).exists():  # a transactional test before this one flushed the groups
            from portal.roles import sync_roles

            sync_roles()
        user.groups.add(Group.objects.get(name=role))
    return user


def make_clinic(name: str | None = None):
    from portal.models import Clinic

    return Clinic.objects.create(name=name or f"Test Clinic {next(_counter)}")


def make_patient(*, clinic, dermatologist=None, risk: dict | None = None, **fields):
    """A synthetic patient (fictional name) with a risk profile; ``risk`` sets risk-profile fields."""
    import datetime as dt

    from patients.models import Patient, RiskProfile

    n = next(_counter)
    patient = Patient.objects.create(
        clinic=clinic,
        dermatologist=dermatologist,
        record_number=fields.pop("record_number", f"TEST-{n:05d}"),
        given_name=fields.pop("given_name", "Testa"),
        family_name=fields.pop("family_name", f"Fictional{n}"),
        date_of_birth=fields.pop("date_of_birth", dt.date(1980, 1, 1)),
        **fields,
    )
    RiskProfile.objects.create(patient=patient, **(risk or {}))
    return patient


# Canary: a recognisable fictional name for patients created in tests. After the whole run, tests/conftest.py
# scans every log record emitted during the session and fails the run if this value appears: patient data never
# goes into logs. Use it in given/family names (e.g. f"{CANARY}Given") of patients your tests create.
CANARY = "Zzcanary"
