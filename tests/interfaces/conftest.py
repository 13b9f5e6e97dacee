import pytest
from django.core.management import call_command

from interfaces import tokens
from tests.factories import make_course, make_patient


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


@pytest.fixture
def lab_token(clinic):
    """city-lab's token for the clinic of the ``derm`` and ``nurse`` fixtures: (token, secret)."""
    new = tokens.create_token(name="city-lab", clinic=clinic)
    return new.token, new.secret


@pytest.fixture
def on_abrocitinib(clinic, derm, catalogue):
    """The record number the fixtures send (HL7-0001), on abrocitinib 100 mg (US label) for 40 days."""
    patient = make_patient(
        clinic=clinic, dermatologist=derm, record_number="HL7-0001", given_name="Zzcanarygiven", family_name="Zzcanary"
    )
    return make_course(patient, derm)
