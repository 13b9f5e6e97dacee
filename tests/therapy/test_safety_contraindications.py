"""Contraindications and interactions (reference §2 per drug) matched to patient facts, per jurisdiction."""

import datetime as dt

import pytest

from tests.therapy.drug_labels import BY_SLUG
from tests.therapy.patient_facts import codes, find, on, patient, run
from therapy.safety import Severity

FACTS = {
    "active_serious_infection": {"active_serious_infection": True},
    "active_tb": {"tb_status": "active"},
    "pregnancy": {"pregnant": True},
    "breastfeeding": {"breastfeeding": True},
    "severe_hepatic": {"child_pugh": "C"},
    "antiplatelet_3m": {"medicines": on("antiplatelet", name="clopidogrel")},
    "immunocompromised": {"immunocompromised": True},
}

CONTRAINDICATED = [
    ("abrocitinib", "US", "antiplatelet_3m", Severity.CONTRAINDICATED),
    *(
        ("abrocitinib", "EU", c, Severity.CONTRAINDICATED)
        for c in ("active_serious_infection", "active_tb", "severe_hepatic", "pregnancy", "breastfeeding")
    ),
    *(
        ("upadacitinib", "EU", c, Severity.CONTRAINDICATED)
        for c in ("active_serious_infection", "active_tb", "severe_hepatic", "pregnancy")
    ),
    ("baricitinib", "EU", "pregnancy", Severity.CONTRAINDICATED),
    ("ruxolitinib", "US", "immunocompromised", Severity.DO_NOT_START),
    ("ruxolitinib", "EU", "pregnancy", Severity.CONTRAINDICATED),
    ("ruxolitinib", "EU", "breastfeeding", Severity.CONTRAINDICATED),
    ("delgocitinib", "EU", "pregnancy", Severity.DO_NOT_START),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "condition", "severity"), CONTRAINDICATED)
def test_contraindication_matches_patient_fact(slug, jurisdiction, condition, severity):
    finding = find(run(BY_SLUG[slug], patient(**FACTS[condition]), jurisdiction), f"contraindication.{condition}")
    assert finding.severity == severity
    assert finding.source


NOT_CONTRAINDICATED = [
    ("abrocitinib", "EU", "antiplatelet_3m"),
    ("abrocitinib", "US", "pregnancy"),
    ("upadacitinib", "US", "pregnancy"),
    ("upadacitinib", "EU", "breastfeeding"),
    ("baricitinib", "EU", "breastfeeding"),
    ("ruxolitinib", "EU", "immunocompromised"),
    ("delgocitinib", "US", "pregnancy"),
    ("tofacitinib", "US", "pregnancy"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "condition"), NOT_CONTRAINDICATED)
def test_no_contraindication_row_no_contraindication(slug, jurisdiction, condition):
    found = codes(run(BY_SLUG[slug], patient(**FACTS[condition]), jurisdiction, dose=None))
    assert f"contraindication.{condition}" not in found


@pytest.mark.parametrize(
    ("slug", "jurisdiction"), [("abrocitinib", "US"), ("upadacitinib", "US"), ("tofacitinib", "EU")]
)
def test_pregnancy_without_a_contraindication_row_still_warns(slug, jurisdiction):
    assert find(run(BY_SLUG[slug], patient(pregnant=True), jurisdiction), "risk.pregnancy").severity == Severity.WARNING


@pytest.mark.parametrize("slug", ["abrocitinib", "upadacitinib", "baricitinib"])
def test_planning_pregnancy_warns_where_pregnancy_is_contraindicated(slug):
    assert find(run(BY_SLUG[slug], patient(planning_pregnancy=True), "EU"), "risk.planning_pregnancy")


def test_hypersensitivity_is_never_matched():
    assert not [c for c in codes(run(BY_SLUG["abrocitinib"], jurisdiction="EU")) if "hypersensitivity" in c]


def test_antiplatelet_is_reported_once():
    found = run(BY_SLUG["abrocitinib"], patient(medicines=on("antiplatelet")))
    assert "interaction.antiplatelet" not in codes(found)


def test_low_dose_aspirin_without_the_antiplatelet_class_is_fine():
    found = run(BY_SLUG["abrocitinib"], patient(medicines=on(name="aspirin 81 mg")))
    assert "contraindication.antiplatelet_3m" not in codes(found)


INTERACTIONS = [
    *(
        (slug, j, klass, Severity.WARNING)
        for slug in ("abrocitinib", "upadacitinib", "baricitinib", "ruxolitinib")
        for j in ("US", "EU")
        for klass in ("jak_inhibitor", "biologic_immunomodulator", "potent_immunosuppressant")
    ),
    *(
        (slug, j, "live_vaccine", Severity.WARNING)
        for slug in ("abrocitinib", "upadacitinib", "baricitinib", "delgocitinib")
        for j in ("US", "EU")
    ),
    ("abrocitinib", "US", "pgp_substrate_nti", Severity.WARNING),
    ("abrocitinib", "EU", "pgp_substrate_nti", Severity.WARNING),
    ("ruxolitinib", "EU", "strong_cyp3a4_inhibitor", Severity.WARNING),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "klass", "severity"), INTERACTIONS)
def test_interaction_with_patient_medicines(slug, jurisdiction, klass, severity):
    facts = {"live_vaccine_planned": True} if klass == "live_vaccine" else {"medicines": on(klass)}
    found = run(BY_SLUG[slug], patient(**facts), jurisdiction)
    assert find(found, f"interaction.{klass}").severity == severity


def test_interaction_names_the_medicine_and_period():
    found = run(BY_SLUG["abrocitinib"], patient(medicines=on("jak_inhibitor", name="tofacitinib")))
    assert "tofacitinib" in find(found, "interaction.jak_inhibitor").message


def test_dose_row_replaces_adjust_dose_interaction():
    found = run(BY_SLUG["abrocitinib"], patient(medicines=on("strong_cyp2c19_inhibitor")))
    assert "interaction.strong_cyp2c19_inhibitor" not in codes(found)


def test_ruxolitinib_cyp3a4_caution_is_eu_only():
    found = run(BY_SLUG["ruxolitinib"], patient(medicines=on("strong_cyp3a4_inhibitor")), "US")
    assert "interaction.strong_cyp3a4_inhibitor" not in codes(found)


POSITIVE_TEST = {"pregnancy_test_positive_on": dt.date(2026, 11, 30)}


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "severity"),
    [(s, j, sev) for s, j, c, sev in CONTRAINDICATED if c == "pregnancy"],
)
def test_a_positive_pregnancy_test_counts_as_pregnant_though_the_box_is_not_ticked(slug, jurisdiction, severity):
    finding = find(run(BY_SLUG[slug], patient(**POSITIVE_TEST), jurisdiction), "contraindication.pregnancy")
    assert finding.severity == severity
    assert "pregnancy test positive on 30/11/2026" in finding.message


@pytest.mark.parametrize(("slug", "jurisdiction"), [("abrocitinib", "US"), ("upadacitinib", "US")])
def test_a_positive_pregnancy_test_warns_where_the_label_has_no_contraindication(slug, jurisdiction):
    found = run(BY_SLUG[slug], patient(**POSITIVE_TEST), jurisdiction)
    assert find(found, "risk.pregnancy").severity == Severity.WARNING


def test_a_positive_pregnancy_test_is_no_longer_merely_planning():
    found = codes(run(BY_SLUG["abrocitinib"], patient(planning_pregnancy=True, **POSITIVE_TEST), "EU"))
    assert "risk.planning_pregnancy" not in found
    assert "contraindication.pregnancy" in found


def test_no_positive_test_and_not_pregnant_fires_no_pregnancy_rule():
    found = codes(run(BY_SLUG["abrocitinib"], patient(pregnancy_test_positive_on=None), "EU"))
    assert not {"contraindication.pregnancy", "risk.pregnancy"} & set(found)
