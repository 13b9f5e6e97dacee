"""Lab units used outside the US (clinical reference §9.8): exact conversions, decimal commas, display, catalogue."""

from decimal import Decimal as D

import pytest
from django.core.management import call_command

from drugs import units
from drugs.models import LabTest

# §9.8: 1 mmol/L Hb(Fe) = 1.611 g/dL; cholesterol 1 mmol/L = 38.67 mg/dL; triglycerides 1 mmol/L = 88.57 mg/dL;
# creatinine 88.42 µmol/L = 1 mg/dL. (typed, factor, divisor, stored canonical value)
CONVERSIONS = [
    ("8.0", "1.611", "1", "12.8880"),  # Hb mmol/L -> g/dL
    ("6,2", "1.611", "1", "9.9882"),  # decimal comma
    ("4.97", "1.611", "1", "8.0067"),  # 8.006670 rounded half-even to 4 places; the typed value is kept
    ("125", "0.1", "1", "12.5000"),  # Hb g/L
    ("5.2", "38.67", "1", "201.0840"),  # total cholesterol mmol/L -> mg/dL
    ("5,17", "38.67", "1", "199.9239"),
    ("3,4", "38.67", "1", "131.4780"),  # LDL-C (a cholesterol: same factor)
    ("1.7", "88.57", "1", "150.5690"),  # triglycerides mmol/L -> mg/dL
    ("2,26", "88.57", "1", "200.1682"),
    ("88.42", "1", "88.42", "1.0000"),  # creatinine µmol/L -> mg/dL
    ("80", "1", "88.42", "0.9048"),  # 0.904772… rounded to the 4 stored places
    ("177", "1", "88.42", "2.0018"),
    ("44,2", "1", "88.42", "0.4999"),
    ("9", "8.842", "1", "79.5780"),  # creatinine mg/L -> µmol/L would be ×8.842: not used, exact all the same
]


@pytest.mark.parametrize(("typed", "factor", "divisor", "stored"), CONVERSIONS)
def test_si_conversions_to_the_canonical_unit(typed, factor, divisor, stored):
    value = units.to_canonical(units.parse_number(typed), D(factor), D(divisor))
    assert value == D(stored)
    assert value.as_tuple().exponent == -units.STORED_DECIMAL_PLACES


@pytest.mark.parametrize(
    ("canonical", "factor", "divisor", "places", "shown"),
    [
        ("12.888", "1.611", "1", 1, "8.0"),  # g/dL shown in mmol/L
        ("0.9048", "1", "88.42", 0, "80"),  # mg/dL shown in µmol/L: the rounding does not show
        ("2.0018", "1", "88.42", 0, "177"),
        ("201.084", "38.67", "1", 2, "5.20"),
        ("150.569", "88.57", "1", 2, "1.70"),
        ("1", "1", "88.42", 0, "88"),
        ("12.5", "0.1", "1", 0, "125"),
    ],
)
def test_values_shown_in_si_units(canonical, factor, divisor, places, shown):
    assert units.from_canonical(D(canonical), D(factor), D(divisor), places) == D(shown)


def test_only_a_value_typed_in_the_canonical_unit_is_refused_for_its_decimals():
    with pytest.raises(units.PrecisionError):
        units.to_canonical(D("0.12345"), D(1))
    assert units.to_canonical(D("8.12"), D("1.611")) == D("13.0813")  # converted: rounded, typed value kept
    with pytest.raises(units.PrecisionError):  # thresholds must be exactly what the label says
        units.to_canonical(D("80"), D(1), D("88.42"), exact=True)


@pytest.mark.parametrize(
    ("factor", "divisor", "exact"),
    [("1.611", "1", True), ("0.001", "1", True), ("1", "88.42", False), ("1", "4", True), ("38.67", "38.67", True)],
)
def test_whether_a_conversion_is_exact(factor, divisor, exact):
    assert units.is_exact(D(factor), D(divisor)) is exact


@pytest.mark.parametrize(
    ("typed", "value"),
    [("4,6", "4.6"), ("0,125", "0.125"), (",5", "0.5"), ("4,", "4"), (" 12,3 ", "12.3"), ("1000,5", "1000.5")],
)
def test_a_decimal_comma_is_accepted(typed, value):
    assert units.parse_number(typed) == D(value)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("45,000", "could be 45000 or 45.000"),
        ("1,250", "could be 1250 or 1.250"),
        ("1.234,5", "one decimal mark"),
        ("4,6,7", "one decimal mark"),
        ("-4,6", "cannot be negative"),
        ("4,6e3", "is not a number"),
    ],
)
def test_ambiguous_or_malformed_commas_are_refused(typed, message):
    with pytest.raises(units.EntryError, match=message):
        units.parse_number(typed)


@pytest.mark.parametrize(
    ("written", "same_as"),
    [
        ("umol/l", "µmol/L"),
        ("µmol/L", "umol/L"),
        ("x10^9/L", "10*9/L"),
        ("×10⁹/L", "10*9/L"),
        ("10^9/l", "10*9/L"),
        ("mmol/l", "mmol/L"),
        ("G/L", "g/L"),
        ("cells/mm³", "/mm3"),
    ],
)
def test_units_as_labs_write_them(written, same_as):
    assert units.unit_key(written) == units.unit_key(same_as)


def test_display_unit_shows_the_typed_value_when_typed_in_that_unit():
    mmol = units.DisplayUnit(code="mmol/L", label="mmol/L", factor=D("38.67"), places=2, canonical_label="mg/dL")
    assert mmol.entered_text("5,2", "mmol/L", D("201.084")) == "5.2 mmol/L"
    assert mmol.entered_text("201", "mg/dL", D("201")) == "5.2 mmol/L"  # 5.198 rounded to 2 places: 5.20
    assert mmol.text_with_canonical(D("201.084")) == "5.2 mmol/L (201.084 mg/dL)"


# --- The catalogue holds these units (§9.8) -----------------------------------------------------------------------


@pytest.fixture
def catalogue(db):
    call_command("load_catalogue", verbosity=0)


SI_CATALOGUE = [
    # analyte, UCUM code, factor, divisor, the unit an SI clinic sees
    ("hb", "mmol/L", "1.611", "1", "g/L"),
    ("hb", "g/L", "0.1", "1", "g/L"),
    ("total_cholesterol", "mmol/L", "38.67", "1", "mmol/L"),
    ("ldl", "mmol/L", "38.67", "1", "mmol/L"),
    ("hdl", "mmol/L", "38.67", "1", "mmol/L"),
    ("triglycerides", "mmol/L", "88.57", "1", "mmol/L"),
    ("creatinine", "umol/L", "1", "88.42", "umol/L"),
    ("platelets", "10*9/L", "1", "1", "10*9/L"),
    ("anc", "10*9/L", "1", "1", "10*9/L"),
]


@pytest.mark.parametrize(("analyte", "code", "factor", "divisor", "si_unit"), SI_CATALOGUE)
def test_catalogue_accepts_the_si_units_with_the_reference_factors(catalogue, analyte, code, factor, divisor, si_unit):
    test = LabTest.objects.with_unit_labels().get(analyte=analyte)
    unit = test.unit_for(code)
    assert unit is not None
    assert (unit.factor, unit.divisor) == (D(factor), D(divisor))
    assert test.si_unit == si_unit
    assert test.display_unit(units.SI).code == si_unit
    assert test.display_unit(units.US).code == test.canonical_unit


def test_lab_test_unit_lookup_accepts_lab_spellings_only_when_unambiguous(catalogue):
    creatinine = LabTest.objects.with_unit_labels().get(analyte="creatinine")
    assert creatinine.unit_for("umol/l").unit == "umol/L"
    assert creatinine.unit_for("µmol/L").unit == "umol/L"
    assert creatinine.unit_for("mmol/L") is None
