"""Pure rules: unit conversion, plausibility, reference flags and symptom escalation (no database)."""

from dataclasses import replace
from decimal import Decimal as D

import pytest

from drugs import units
from drugs.label import ThresholdFact
from monitoring import alerting
from therapy.thresholds import result_findings


@pytest.mark.parametrize(
    ("typed", "factor", "canonical"),
    [
        ("45000", "0.001", "45"),  # platelets /mm3 -> 10*3/uL
        ("45", "1", "45"),
        ("130", "0.1", "13"),  # Hb g/L -> g/dL
        ("900", "0.001", "0.9"),  # ANC cells/uL
        ("2.5", "100", "250"),  # cholesterol g/L -> mg/dL
        (" 1.2 ", "1", "1.2"),
    ],
)
def test_exact_conversion_to_canonical(typed, factor, canonical):
    assert units.to_canonical(units.parse_number(typed), D(factor)) == D(canonical)


@pytest.mark.parametrize(
    ("typed", "message"),
    [("45,000", "point for decimals"), ("abc", "not a number"), ("-1", "negative"), ("NaN", "not a number")],
)
def test_unparseable_numbers_are_refused(typed, message):
    with pytest.raises(units.EntryError, match=message):
        units.parse_number(typed)


def test_more_precision_than_stored_is_refused():
    with pytest.raises(units.PrecisionError, match="decimal places"):
        units.to_canonical(D("0.12345"), D("1"))


def test_converted_value_has_the_stored_decimal_places():
    # LabUnit.factor has 8 places; the model fields keep 4, so a converted value must fit them as it is
    canonical = units.to_canonical(D("45000"), D("0.00100000"))
    assert canonical == D("45")
    assert canonical.as_tuple().exponent == -units.STORED_DECIMAL_PLACES


def test_plausibility_names_the_limit_in_the_typed_unit():
    message = units.plausibility_error(
        D("5000"),
        factor=D("0.001"),
        unit_label="cells/mm³",
        test_name="Platelets",
        plausible_min=D(0),
        plausible_max=D(2000),
    )
    assert "5000000 cells/mm³" in message
    assert "2000000 cells/mm³" in message


def test_plausible_value_passes():
    assert (
        units.plausibility_error(
            D("45"),
            factor=D(1),
            unit_label="×10³/µL",
            test_name="Platelets",
            plausible_min=D(0),
            plausible_max=D(2000),
        )
        is None
    )


@pytest.mark.parametrize(
    ("value", "low", "high", "code"),
    [
        ("45", "150", "450", "low"),
        ("500", "150", "450", "high"),
        ("150", "150", "450", "normal"),
        ("250", None, "200", "high"),
        ("30", "40", None, "low"),
        ("5", None, None, "no_range"),
    ],
)
def test_reference_flag(value, low, high, code):
    flag = units.reference_flag(D(value), D(low) if low else None, D(high) if high else None)
    assert flag.code == code
    if code == "no_range":
        assert flag.text == "No reference range set"


@pytest.mark.parametrize(
    ("symptoms", "severity", "advice"),
    [
        (["fever"], alerting.SAME_DAY, "infection"),
        (["shingles_rash", "cough"], alerting.SAME_DAY, "infection"),
        (["chest_pain"], alerting.URGENT, "call emergency services"),
        (["slurred_speech"], alerting.URGENT, "emergency care now"),
        (["leg_pain_swelling"], alerting.URGENT, "emergency care now"),
        (["bruising_bleeding"], alerting.SAME_DAY, "check a blood count"),
        (["shortness_of_breath"], alerting.URGENT, "emergency care now"),  # infection and clot: counts for both
        (["fever", "one_sided_weakness"], alerting.URGENT, "infection"),
    ],
)
def test_symptom_escalation(symptoms, severity, advice):
    draft = alerting.escalate_symptoms(symptoms)
    assert draft.severity == severity
    assert advice in draft.advice


def test_shortness_of_breath_counts_for_infection_and_clot():
    groups = {g.code for g in alerting.groups_reported(["shortness_of_breath"])}
    assert groups == {alerting.INFECTION, alerting.CLOT}
    draft = alerting.escalate_symptoms(["shortness_of_breath"])
    assert "[S6]" in draft.source
    assert "[P1]" in draft.source


def test_no_symptoms_no_alert():
    assert alerting.escalate_symptoms([]) is None


def test_symptom_groups_are_as_the_reference_lists_them():
    titles = [g.title for g in alerting.SYMPTOM_GROUPS]
    assert titles == ["Infection", "Heart attack or stroke", "Blood clot", "Low blood counts"]
    assert len(alerting.SYMPTOM_GROUPS[0].symptoms) == 8
    sources = "".join(g.source for g in alerting.SYMPTOM_GROUPS)
    for tag in ("[S6]", "[P4]", "[P5]", "[P2]", "[P1]", "[P3]", "[P6]", "[P7]"):
        assert tag in sources


PLATELETS = {"test_name": "Platelets", "plausible_min": D(1), "plausible_max": D(2000)}


@pytest.mark.parametrize(
    ("typed", "factor", "unit", "canonical", "error"),
    [
        ("45000", "0.001", "cells/mm³", D(45), None),
        ("250", "1", "×10³/µL", D(250), None),
        ("5000000", "0.001", "cells/mm³", None, "highest accepted value is 2000000 cells/mm³"),
        ("-1", "1", "×10³/µL", None, "cannot be negative"),
        ("0.5", "1", "×10³/µL", None, "lowest accepted value is 1 ×10³/µL"),
        ("abc", "1", "×10³/µL", None, "number"),
    ],
)
def test_entered_to_canonical_converts_or_refuses(typed, factor, unit, canonical, error):
    if error is None:
        assert units.entered_to_canonical(typed, factor=D(factor), unit_label=unit, **PLATELETS) == canonical
    else:
        with pytest.raises(units.EntryError, match=error):
            units.entered_to_canonical(typed, factor=D(factor), unit_label=unit, **PLATELETS)


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("1e309", "is not a number"),  # found by the Hypothesis form suite: was an HTTP 500
        ("1E3", "is not a number"),
        ("NaN", "is not a number"),
        ("Infinity", "is not a number"),
        ("+5", "is not a number"),
        ("-3", "cannot be negative"),
        ("9" * 30, "Too many digits"),
        ("1234567890123", "Too many digits"),
    ],
)
def test_parse_number_refuses_what_a_lab_does_not_print(typed, message):
    with pytest.raises(units.EntryError, match=message):
        units.parse_number(typed)


@pytest.mark.parametrize(
    ("typed", "value"), [("4.", D("4")), (".5", D("0.5")), ("000045", D("45")), ("1.2500", D("1.25"))]
)
def test_parse_number_accepts_plain_decimals(typed, value):
    assert units.parse_number(typed) == value


# --- Lab alerts are built from the finding's fields, not from its wording ----------------------------------------

PLATELET_LIMIT = ThresholdFact(
    jurisdiction="ANY",
    analyte="platelets",
    analyte_name="Platelets",
    unit="×10³/µL",
    panel="cbc",
    phase="on_treatment",
    comparison="lt",
    value=D("50"),
    action="discontinue",
    restart_rule="Follow the blood count until platelets are above 100 ×10³/µL.",
    source="[S1]",
)


def test_threshold_findings_carry_their_subject_and_restart_rule():
    (finding,) = result_findings("platelets", D("45"), [PLATELET_LIMIT], "Cibinqo", "US", 7)
    assert finding.subject == "Platelets 45 ×10³/µL is below 50 ×10³/µL"
    assert finding.restart_rule == PLATELET_LIMIT.restart_rule
    assert finding.message.startswith(f"{finding.subject}: discontinue Cibinqo now (urgent).")
    draft = alerting.lab_alert(finding, test_name="Platelets", drug_name="Cibinqo", collected_on="2026-03-01")
    assert draft.reason.startswith("Platelets 45 ×10³/µL is below 50 ×10³/µL (collected 2026-03-01). Rule: ")
    assert draft.advice == (
        "Stop Cibinqo now and tell the patient today. Follow the blood count until platelets are above 100 ×10³/µL."
    )


def test_a_reworded_message_keeps_the_restart_advice_and_the_subject():
    (finding,) = result_findings("platelets", D("45"), [PLATELET_LIMIT], "Cibinqo", "US", 7)
    reworded = replace(finding, message="Stop: the platelet count (45) is under the limit. See the label.")
    draft = alerting.lab_alert(reworded, test_name="Platelets", drug_name="Cibinqo", collected_on="2026-03-01")
    assert draft.advice.endswith(PLATELET_LIMIT.restart_rule)
    assert "See the label" not in draft.advice
    assert draft.reason.startswith("Platelets 45 ×10³/µL is below 50 ×10³/µL (collected")


def test_no_restart_rule_no_restart_advice():
    (finding,) = result_findings("platelets", D("45"), [replace(PLATELET_LIMIT, restart_rule="")], "Cibinqo", "US", 7)
    assert finding.restart_rule == ""
    draft = alerting.lab_alert(finding, test_name="Platelets", drug_name="Cibinqo", collected_on="2026-03-01")
    assert draft.advice == "Stop Cibinqo now and tell the patient today."
