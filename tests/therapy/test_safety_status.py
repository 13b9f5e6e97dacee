"""Regulatory status, minimum age and weight (reference §0, §2) for every drug in both jurisdictions."""

from decimal import Decimal as D

import pytest

from tests.therapy.drug_labels import ALL, BY_SLUG
from tests.therapy.patient_facts import codes, find, patient, run
from therapy.safety import Severity

STATUS = [
    ("abrocitinib", "US", None),
    ("abrocitinib", "EU", None),
    ("upadacitinib", "US", None),
    ("upadacitinib", "EU", None),
    ("baricitinib", "US", "status.not_approved"),
    ("baricitinib", "EU", None),
    ("ruxolitinib", "US", None),
    ("ruxolitinib", "EU", "status.not_approved"),
    ("delgocitinib", "US", "status.not_approved"),
    ("delgocitinib", "EU", "status.not_approved"),
    ("gusacitinib", "US", "status.investigational"),
    ("gusacitinib", "EU", "status.investigational"),
    ("tofacitinib", "US", "status.not_approved"),
    ("tofacitinib", "EU", "status.not_approved"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "expected"), STATUS)
def test_status_for_eczema(slug, jurisdiction, expected):
    found = {c for c in codes(run(BY_SLUG[slug], jurisdiction=jurisdiction, dose=None)) if c.startswith("status.")}
    assert found == ({expected} if expected else set())


@pytest.mark.parametrize(
    ("code", "severity"), [("status.not_approved", Severity.WARNING), ("status.investigational", Severity.DO_NOT_START)]
)
def test_status_severity(code, severity):
    label = BY_SLUG["baricitinib" if code == "status.not_approved" else "gusacitinib"]
    assert find(run(label, dose=None), code).severity == severity


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "min_age"),
    [
        ("abrocitinib", "US", 12),
        ("abrocitinib", "EU", 12),
        ("upadacitinib", "US", 12),
        ("upadacitinib", "EU", 12),
        ("baricitinib", "EU", 2),
        ("ruxolitinib", "US", 2),
    ],
)
def test_minimum_age(slug, jurisdiction, min_age):
    label = BY_SLUG[slug]
    below = run(label, patient(age_years=min_age - 1, weight_kg=D(50)), jurisdiction, dose=None)
    at = run(label, patient(age_years=min_age, weight_kg=D(50)), jurisdiction, dose=None)
    assert find(below, "status.min_age").severity == Severity.DO_NOT_START
    assert "status.min_age" not in codes(at)


@pytest.mark.parametrize(("jurisdiction", "min_kg"), [("US", 40), ("EU", 30)])
def test_upadacitinib_adolescent_minimum_weight(jurisdiction, min_kg):
    label = BY_SLUG["upadacitinib"]
    light = run(label, patient(age_years=14, weight_kg=D(min_kg) - 1), jurisdiction)
    assert find(light, "status.min_weight").severity == Severity.DO_NOT_START
    assert "status.min_weight" not in codes(run(label, patient(age_years=14, weight_kg=D(min_kg)), jurisdiction))


def test_minimum_weight_is_for_adolescents_only():
    assert "status.min_weight" not in codes(run(BY_SLUG["upadacitinib"], patient(age_years=18, weight_kg=D(35))))


def test_adolescent_without_weight_warns():
    findings = run(BY_SLUG["upadacitinib"], patient(age_years=13, weight_kg=None))
    assert find(findings, "status.weight_missing").severity == Severity.WARNING


@pytest.mark.parametrize("label", [lab for lab in ALL if lab.slug in ("abrocitinib", "upadacitinib", "baricitinib")])
def test_clean_adult_has_nothing_to_acknowledge_where_approved(label):
    jurisdiction = "EU" if label.slug == "baricitinib" else "US"
    assert codes(run(label, jurisdiction=jurisdiction), Severity.WARNING) == set()


def test_findings_carry_version_and_sort_most_severe_first():
    findings = run(BY_SLUG["gusacitinib"], patient(age_years=10))
    assert {f.catalogue_version for f in findings} == {7}
    assert [f.severity for f in findings] == sorted((f.severity for f in findings), reverse=True)


def test_unknown_jurisdiction_is_refused():
    with pytest.raises(ValueError, match="jurisdiction"):
        run(BY_SLUG["abrocitinib"], jurisdiction="UK")
