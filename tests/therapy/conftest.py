import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.factories import make_patient


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.fixture
def smoker(clinic, derm, catalogue):
    """58 years old, current smoker with hypertension (the issue's first acceptance case)."""
    today = timezone.localdate()
    return make_patient(
        clinic=clinic,
        dermatologist=derm,
        date_of_birth=today.replace(year=today.year - 58) - dt.timedelta(days=10),
        sex_at_birth="male",
        risk={"smoking_status": "current", "pack_years": 20, "hypertension": True, "tb_status": "negative"},
    )
