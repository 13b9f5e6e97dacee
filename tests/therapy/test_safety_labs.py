"""Lab thresholds (reference §2 tables and §3.3): baseline do-not-start and on-treatment actions."""

from decimal import Decimal as D

import pytest

from tests.therapy.drug_labels import BY_SLUG
from tests.therapy.patient_facts import codes, find, patient, run
from therapy.safety import Severity
from therapy.thresholds import check_result

# (drug, jurisdiction, analyte, first value that is fine, value just below the limit)
BASELINE = [
    ("abrocitinib", "US", "platelets", "150", "149"),
    ("abrocitinib", "US", "alc", "0.5", "0.49"),
    ("abrocitinib", "US", "anc", "1.0", "0.99"),
    ("abrocitinib", "US", "hb", "8", "7.9"),
    ("abrocitinib", "EU", "platelets", "150", "149"),
    ("abrocitinib", "EU", "alc", "0.5", "0.49"),
    ("abrocitinib", "EU", "anc", "1.2", "1.19"),
    ("abrocitinib", "EU", "hb", "10", "9.9"),
    *(
        (s, j, a, v, b)
        for s in ("upadacitinib", "baricitinib")
        for j in ("US", "EU")
        for a, v, b in (("anc", "1.0", "0.99"), ("alc", "0.5", "0.49"), ("hb", "8", "7.9"))
    ),
    ("tofacitinib", "US", "alc", "0.5", "0.49"),
    ("tofacitinib", "US", "anc", "1.0", "0.99"),
    ("tofacitinib", "US", "hb", "9", "8.9"),
    ("tofacitinib", "EU", "alc", "0.75", "0.74"),
    ("tofacitinib", "EU", "anc", "1.0", "0.99"),
    ("tofacitinib", "EU", "hb", "9", "8.9"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "analyte", "ok", "low"), BASELINE)
def test_baseline_do_not_start(slug, jurisdiction, analyte, ok, low):
    label = BY_SLUG[slug]
    blocked = run(label, patient(results={analyte: (D(low), None)}), jurisdiction, dose=None)
    finding = find(blocked, f"threshold.{analyte}.baseline")
    assert finding.severity == Severity.DO_NOT_START
    assert low in finding.message
    fine = run(label, patient(results={analyte: (D(ok), None)}), jurisdiction, dose=None)
    assert f"threshold.{analyte}.baseline" not in codes(fine)


@pytest.mark.parametrize(("slug", "jurisdiction", "analyte", "ok", "low"), BASELINE)
def test_missing_baseline_result_warns(slug, jurisdiction, analyte, ok, low):
    found = run(BY_SLUG[slug], patient(no_results=[analyte]), jurisdiction, dose=None)
    assert find(found, f"threshold.{analyte}.missing").severity == Severity.WARNING


def test_platelets_have_no_threshold_for_upadacitinib():
    assert "threshold.platelets.baseline" not in codes(
        run(BY_SLUG["upadacitinib"], patient(results={"platelets": (D(20), None)}))
    )


# (drug, jurisdiction, analyte, value, expected action or None)
ON_TREATMENT = [
    ("abrocitinib", "US", "platelets", "45", "discontinue"),
    ("abrocitinib", "EU", "platelets", "49", "discontinue"),
    ("abrocitinib", "US", "platelets", "50", None),
    ("abrocitinib", "US", "platelets", "140", None),
    ("abrocitinib", "US", "alc", "0.4", "interrupt"),
    ("abrocitinib", "EU", "alc", "0.4", "interrupt"),
    ("abrocitinib", "US", "anc", "0.9", "interrupt"),
    ("abrocitinib", "EU", "anc", "1.1", None),
    ("abrocitinib", "US", "hb", "7.5", "interrupt"),
    ("abrocitinib", "EU", "hb", "9", None),
    *(
        (s, j, a, v, "interrupt")
        for s in ("upadacitinib", "baricitinib")
        for j in ("US", "EU")
        for a, v in (("anc", "0.9"), ("alc", "0.4"), ("hb", "7.9"))
    ),
    ("tofacitinib", "US", "alc", "0.4", "discontinue"),
    ("tofacitinib", "US", "anc", "0.7", "interrupt"),
    ("tofacitinib", "US", "anc", "0.4", "discontinue"),
    ("tofacitinib", "US", "hb", "7.9", "interrupt"),
    ("tofacitinib", "EU", "anc", "0.4", None),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "analyte", "value", "action"), ON_TREATMENT)
def test_on_treatment_result(slug, jurisdiction, analyte, value, action):
    findings = check_result(analyte, D(value), BY_SLUG[slug], jurisdiction, True, 3)
    assert [f.action for f in findings] == ([action] if action else [])


def test_discontinue_is_urgent_and_names_the_follow_up():
    [finding] = check_result("platelets", D(45), BY_SLUG["abrocitinib"], "US", True, 3)
    assert finding.urgent
    assert "100" in finding.message
    assert (finding.code, finding.catalogue_version) == ("threshold.platelets.on_treatment", 3)


def test_interrupt_is_not_urgent_and_blocks():
    [finding] = check_result("anc", D("0.8"), BY_SLUG["upadacitinib"], "EU", True, 3)
    assert (finding.severity, finding.urgent) == (Severity.DO_NOT_START, False)


def test_check_result_baseline_phase():
    [finding] = check_result("anc", D("1.1"), BY_SLUG["abrocitinib"], "EU", False, 3)
    assert finding.action == "do_not_start"
