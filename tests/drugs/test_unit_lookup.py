"""The one unit lookup (LabTest.unit_for) and unit-label lookup the lab form, the CSV upload and the threshold
editor share."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from drugs.models import LabTest

pytestmark = pytest.mark.usefixtures("mini_catalogue")


def _platelets():
    return LabTest.objects.with_unit_labels().get(analyte="platelets")


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("/mm3", "/mm3"),  # the UCUM code
        ("cells/mm³", "/mm3"),  # the label as clinicians write it
        (" cells/mm³ ", "/mm3"),
        ("10*3/uL", "10*3/uL"),
        ("×10³/µL", "10*3/uL"),
        ("", "10*3/uL"),  # empty: the canonical unit
        ("furlongs", None),
        ("CELLS/MM3", "/mm3"),  # as a lab export writes it: matched loosely when only one unit fits
        ("x10^3/uL", "10*3/uL"),
    ],
)
def test_unit_for_accepts_the_code_or_the_label(typed, code):
    unit = _platelets().unit_for(typed)
    assert (unit.unit if unit else None) == code


def test_unit_labels_need_no_query_once_loaded():
    test = _platelets()
    with CaptureQueriesContext(connection) as ctx:
        assert test.unit_label == "×10³/µL"
        assert test.label_of("/mm3") == "cells/mm³"
        assert test.label_of("mmol/L") == "mmol/L"  # not an accepted unit: the code as stored
        assert test.unit_for("cells/mm³").factor == Decimal("0.001")
        assert test.accepted_units_text == "10*3/uL, /mm3"
    assert len(ctx) == 0


def test_with_unit_labels_is_one_query_for_any_number_of_tests():
    with CaptureQueriesContext(connection) as ctx:
        labels = [t.unit_label for t in LabTest.objects.with_unit_labels()]
    assert labels
    assert len(ctx) == 2  # the tests, then all their units
