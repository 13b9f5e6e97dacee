"""The catalogue seed (drugs/data/catalogue.toml) checked against the clinical reference, table by table.

Parses the TOML with tomllib only: no database. Section numbers (§) refer to the clinical reference.
"""

from __future__ import annotations

import re
import tomllib
from decimal import Decimal
from pathlib import Path

import pytest

from drugs import models

SEED = Path(__file__).resolve().parents[2] / "drugs" / "data" / "catalogue.toml"
DATA = tomllib.loads(SEED.read_text(encoding="utf-8"))
DRUGS = {d["slug"]: d for d in DATA["drugs"]}
LABS = {lt["analyte"]: lt for lt in DATA["lab_tests"]}
CLASSES = {c["code"] for c in DATA["interacting_classes"]}
MEDICINES = {m["name"]: m for m in DATA["medicines"]}
TAG = re.compile(r"\[([A-Z]\d+[a-z]?)\]")
FREE_TEXT_SOURCES = {"", "local lab range: replace with your laboratory's range", "portal default, editable"}
CHILD_MODELS = {
    "statuses": models.RegulatoryStatus,
    "regimens": models.Regimen,
    "dose_adjustments": models.DoseAdjustment,
    "topical_limits": models.TopicalLimit,
    "boxed_warnings": models.BoxedWarning,
    "contraindications": models.Contraindication,
    "interactions": models.Interaction,
    "adverse_reactions": models.AdverseReaction,
    "screening_items": models.ScreeningItem,
    "monitoring_rules": models.MonitoringRule,
    "thresholds": models.LabThreshold,
}
SYSTEMIC_WITH_BOXED = ["abrocitinib", "upadacitinib", "baricitinib", "ruxolitinib-cream", "tofacitinib"]


def rows(slug: str, table: str) -> list[dict]:
    return DRUGS[slug].get(table, [])


def jur(row: dict) -> str:
    return row.get("jurisdiction", "ANY")


def dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def walk(node, path=""):
    """Yield (path, key, value) for every key in the parsed TOML."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield path, key, value
            yield from walk(value, f"{path}.{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from walk(item, f"{path}[{i}]")


# §0 Catalogue at a glance ---------------------------------------------------------------------------


def test_the_seven_drugs_are_present():
    assert set(DRUGS) == {
        "abrocitinib",
        "upadacitinib",
        "baricitinib",
        "ruxolitinib-cream",
        "delgocitinib",
        "gusacitinib",
        "tofacitinib",
    }


@pytest.mark.parametrize(
    ("slug", "route", "dose_unit", "brand"),
    [
        ("abrocitinib", "oral", "mg", "Cibinqo"),
        ("upadacitinib", "oral", "mg", "Rinvoq"),
        ("baricitinib", "oral", "mg", "Olumiant"),
        ("ruxolitinib-cream", "topical", "g", "Opzelura"),
        ("delgocitinib", "topical", "g", "Anzupgo"),
        ("gusacitinib", "oral", "mg", ""),
        ("tofacitinib", "oral", "mg", "Xeljanz"),
    ],
)
def test_identity(slug, route, dose_unit, brand):
    drug = DRUGS[slug]
    assert (drug["route"], drug["dose_unit"]) == (route, dose_unit)
    assert brand in drug["brand_names"]


@pytest.mark.parametrize(
    ("slug", "term"),
    [
        ("delgocitinib", "deglocitinib"),
        ("delgocitinib", "LEO 124249"),
        ("delgocitinib", "JTE-052"),
        ("gusacitinib", "ASN002"),
        ("abrocitinib", "PF-04965842"),
        ("abrocitinib", "abrocitnib"),
    ],
)
def test_search_terms(slug, term):
    assert term in [t.strip() for t in DRUGS[slug]["search_terms"].split(",")]


# Regulatory status per drug and jurisdiction (§0, §2.x identity tables) -----------------------------

STATUSES = [
    # slug, jurisdiction, status, min age, min weight, futility week, boxed warning
    ("abrocitinib", "US", "approved", 12, None, None, True),
    ("abrocitinib", "EU", "approved", 12, None, 24, False),
    ("upadacitinib", "US", "approved", 12, 40, None, True),
    ("upadacitinib", "EU", "approved", 12, 30, 12, False),
    ("baricitinib", "US", "other", None, None, None, True),
    ("baricitinib", "EU", "approved", 2, None, 8, False),
    ("ruxolitinib-cream", "US", "approved", 2, None, 8, True),
    ("ruxolitinib-cream", "EU", "other", None, None, None, False),
    ("delgocitinib", "US", "other", None, None, None, False),
    ("delgocitinib", "EU", "other", None, None, 12, False),
    ("gusacitinib", "US", "investigational", None, None, None, False),
    ("gusacitinib", "EU", "investigational", None, None, None, False),
    ("tofacitinib", "US", "other", None, None, None, True),
    ("tofacitinib", "EU", "other", None, None, None, False),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "status", "age", "weight", "futility", "boxed"), STATUSES)
def test_status(slug, jurisdiction, status, age, weight, futility, boxed):
    (row,) = [r for r in rows(slug, "statuses") if r["jurisdiction"] == jurisdiction]
    assert row["status"] == status
    assert (row.get("min_age_years"), row.get("min_weight_kg"), row.get("futility_week")) == (age, weight, futility)
    assert row.get("has_boxed_warning", False) is boxed


@pytest.mark.parametrize("slug", list(DRUGS))
def test_one_status_per_jurisdiction(slug):
    assert sorted(r["jurisdiction"] for r in rows(slug, "statuses")) == ["EU", "US"]


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "words"),
    [
        ("delgocitinib", "US", ["hand eczema", "Japan"]),
        ("delgocitinib", "EU", ["hand eczema", "Japan"]),
        ("ruxolitinib-cream", "EU", ["vitiligo"]),
        ("ruxolitinib-cream", "US", ["non-immunocompromised"]),
        ("baricitinib", "US", ["Not approved"]),
    ],
)
def test_indication_wording(slug, jurisdiction, words):
    (row,) = [r for r in rows(slug, "statuses") if r["jurisdiction"] == jurisdiction]
    for word in words:
        assert word in row["indication"]


@pytest.mark.parametrize("table", ["regimens", "dose_adjustments", "thresholds", "topical_limits", "boxed_warnings"])
def test_investigational_gusacitinib_has_no_label_rules(table):
    assert rows("gusacitinib", table) == []


# Regimens (§2.x dosing tables) ------------------------------------------------------------------------

REGIMENS = [
    # slug, jurisdiction, kind, dose
    ("abrocitinib", "US", "start", "100"),
    ("abrocitinib", "US", "escalation", "200"),
    ("abrocitinib", "EU", "start", "200"),
    ("abrocitinib", "EU", "reduced", "100"),
    ("abrocitinib", "EU", "maintenance", "100"),
    ("upadacitinib", "US", "start", "15"),
    ("upadacitinib", "US", "escalation", "30"),
    ("upadacitinib", "EU", "start", "30"),
    ("upadacitinib", "EU", "reduced", "15"),
    ("baricitinib", "EU", "start", "4"),
    ("baricitinib", "EU", "reduced", "2"),
    ("tofacitinib", "US", "start", "5"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "kind", "dose"), REGIMENS)
def test_regimen(slug, jurisdiction, kind, dose):
    found = {(jur(r), r["kind"], dec(r.get("dose"))) for r in rows(slug, "regimens")}
    assert (jurisdiction, kind, Decimal(dose)) in found


@pytest.mark.parametrize("slug", ["ruxolitinib-cream", "delgocitinib"])
def test_topical_regimens_have_no_mg_dose(slug):
    assert all("dose" not in r for r in rows(slug, "regimens"))


# Dose adjustments (§2.1 dosing table, §2.2, §2.3, §2.7) ---------------------------------------------

DOSE_ADJUSTMENTS = [
    # slug, jurisdiction, trigger, class, egfr_min, egfr_max, action, dose
    ("abrocitinib", "US", "class", "strong_cyp2c19_inhibitor", None, None, "use_dose", "50"),
    ("abrocitinib", "EU", "class", "strong_cyp2c19_inhibitor", None, None, "halve", None),
    ("abrocitinib", "US", "cyp2c19_pm", None, None, None, "use_dose", "50"),
    ("abrocitinib", "US", "class", "moderate_strong_cyp2c9_inhibitor", None, None, "avoid", None),
    ("abrocitinib", "EU", "class", "moderate_strong_cyp2c9_inhibitor", None, None, "halve", None),
    ("abrocitinib", "US", "class", "strong_cyp2c19_cyp2c9_inducer", None, None, "avoid", None),
    ("abrocitinib", "EU", "class", "strong_cyp2c19_cyp2c9_inducer", None, None, "not_recommended", None),
    ("abrocitinib", "EU", "class", "moderate_cyp2c19_cyp2c9_inducer", None, None, "not_recommended", None),
    ("abrocitinib", "ANY", "class", "oat3_inhibitor", None, None, "no_change", None),
    ("abrocitinib", "ANY", "renal", None, "60", "90", "no_change", None),
    ("abrocitinib", "US", "renal", None, "30", "60", "use_dose", "50"),
    ("abrocitinib", "EU", "renal", None, "30", "60", "halve", None),
    ("abrocitinib", "US", "renal", None, "0", "30", "not_recommended", None),
    ("abrocitinib", "EU", "renal", None, "0", "30", "use_dose", "50"),
    ("abrocitinib", "ANY", "hepatic_a", None, None, None, "no_change", None),
    ("abrocitinib", "ANY", "hepatic_b", None, None, None, "no_change", None),
    ("abrocitinib", "US", "hepatic_c", None, None, None, "not_recommended", None),
    ("abrocitinib", "EU", "hepatic_c", None, None, None, "contraindicated", None),
    ("abrocitinib", "EU", "age_65", None, None, None, "use_dose", "100"),
    ("abrocitinib", "EU", "high_risk", None, None, None, "use_dose", "100"),
    ("upadacitinib", "ANY", "age_65", None, None, None, "use_dose", "15"),
    ("upadacitinib", "EU", "high_risk", None, None, None, "use_dose", "15"),
    ("upadacitinib", "US", "class", "strong_cyp3a4_inhibitor", None, None, "use_dose", "15"),
    ("upadacitinib", "US", "class", "strong_cyp3a4_inducer", None, None, "not_recommended", None),
    ("upadacitinib", "US", "renal", None, "15", "30", "use_dose", "15"),
    ("upadacitinib", "US", "renal", None, "0", "15", "not_recommended", None),
    ("upadacitinib", "US", "hepatic_c", None, None, None, "not_recommended", None),
    ("upadacitinib", "EU", "hepatic_c", None, None, None, "contraindicated", None),
    ("baricitinib", "EU", "renal", None, "30", "60", "use_dose", "2"),
    ("baricitinib", "EU", "renal", None, "0", "30", "not_recommended", None),
    ("baricitinib", "EU", "class", "oat3_inhibitor", None, None, "use_dose", "2"),
    ("baricitinib", "EU", "age_65", None, None, None, "use_dose", "2"),
    ("baricitinib", "EU", "high_risk", None, None, None, "use_dose", "2"),
    ("baricitinib", "EU", "hepatic_c", None, None, None, "not_recommended", None),
    ("tofacitinib", "US", "renal", None, None, "50.1", "use_dose", "5"),
    ("tofacitinib", "US", "hepatic_b", None, None, None, "use_dose", "5"),
    ("tofacitinib", "US", "hepatic_c", None, None, None, "not_recommended", None),
    ("tofacitinib", "US", "class", "strong_cyp3a4_inhibitor", None, None, "use_dose", "5"),
    ("tofacitinib", "US", "class", "moderate_cyp3a4_strong_cyp2c19_inhibitor", None, None, "use_dose", "5"),
    ("tofacitinib", "US", "class", "strong_cyp3a4_inducer", None, None, "not_recommended", None),
]


def _adjustment_key(row: dict) -> tuple:
    return (
        jur(row),
        row["trigger"],
        row.get("interacting_class"),
        dec(row.get("egfr_min")),
        dec(row.get("egfr_max")),
        row["action"],
        dec(row.get("dose")),
    )


@pytest.mark.parametrize("slug", list(DRUGS))
def test_dose_adjustments_match_reference_exactly(slug):
    expected = {(j, t, c, dec(lo), dec(hi), a, dec(d)) for s, j, t, c, lo, hi, a, d in DOSE_ADJUSTMENTS if s == slug}
    assert {_adjustment_key(r) for r in rows(slug, "dose_adjustments")} == expected


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "egfr", "action", "dose"),
    [
        ("abrocitinib", "US", "45", "use_dose", "50"),
        ("abrocitinib", "US", "59.9", "use_dose", "50"),
        ("abrocitinib", "US", "60", "no_change", None),
        ("abrocitinib", "US", "29", "not_recommended", None),
        ("abrocitinib", "EU", "45", "halve", None),
        ("abrocitinib", "EU", "20", "use_dose", "50"),
        ("upadacitinib", "US", "20", "use_dose", "15"),
        ("upadacitinib", "US", "10", "not_recommended", None),
        ("baricitinib", "EU", "45", "use_dose", "2"),
        ("tofacitinib", "US", "50", "use_dose", "5"),
    ],
)
def test_renal_band_lookup(slug, jurisdiction, egfr, action, dose):
    value = Decimal(egfr)
    matches = [
        r
        for r in rows(slug, "dose_adjustments")
        if r["trigger"] == "renal"
        and jur(r) in (jurisdiction, "ANY")
        and Decimal(r.get("egfr_min", "0")) <= value < Decimal(r.get("egfr_max", "1000"))
    ]
    assert [(r["action"], dec(r.get("dose"))) for r in matches] == [(action, dec(dose))]


def test_class_adjustments_name_a_class_and_others_do_not():
    for drug in DRUGS.values():
        for row in drug.get("dose_adjustments", []):
            assert ("interacting_class" in row) == (row["trigger"] == "class"), row


# Topical limits (§2.4, §2.5) -------------------------------------------------------------------------

TOPICAL_LIMITS = [
    # slug, jurisdiction, min age, max age, max BSA %, max grams, per days
    ("ruxolitinib-cream", "US", 12, None, "20", "60", 7),
    ("ruxolitinib-cream", "US", 12, None, "20", "100", 14),
    ("ruxolitinib-cream", "US", 2, 12, "20", "60", 14),
    ("delgocitinib", "US", 18, None, None, "30", 14),
    ("delgocitinib", "US", 18, None, None, "60", 30),
]


@pytest.mark.parametrize("slug", list(DRUGS))
def test_topical_limits_match_reference_exactly(slug):
    expected = {(j, lo, hi, dec(b), dec(g), p) for s, j, lo, hi, b, g, p in TOPICAL_LIMITS if s == slug}
    actual = {
        (
            jur(r),
            r.get("min_age_years"),
            r.get("max_age_years"),
            dec(r.get("max_bsa_percent")),
            dec(r.get("max_grams")),
            r.get("per_days"),
        )
        for r in rows(slug, "topical_limits")
    }
    assert actual == expected


# Boxed warnings (§1.2) ------------------------------------------------------------------------------

FIVE_PARTS = {"serious_infections", "mortality", "malignancy", "mace", "thrombosis"}


@pytest.mark.parametrize("slug", SYSTEMIC_WITH_BOXED)
def test_five_part_us_boxed_warning(slug):
    warnings = rows(slug, "boxed_warnings")
    assert {w["component"] for w in warnings} == FIVE_PARTS
    assert {jur(w) for w in warnings} == {"US"}


@pytest.mark.parametrize("slug", ["delgocitinib", "gusacitinib"])
def test_no_boxed_warning(slug):
    assert rows(slug, "boxed_warnings") == []


# Contraindications and interactions (§2.x) ----------------------------------------------------------

CONTRAINDICATIONS = [
    # slug, jurisdiction, condition, severity
    ("abrocitinib", "US", "antiplatelet_3m", "contraindicated"),
    ("abrocitinib", "EU", "hypersensitivity", "contraindicated"),
    ("abrocitinib", "EU", "active_serious_infection", "contraindicated"),
    ("abrocitinib", "EU", "active_tb", "contraindicated"),
    ("abrocitinib", "EU", "severe_hepatic", "contraindicated"),
    ("abrocitinib", "EU", "pregnancy", "contraindicated"),
    ("abrocitinib", "EU", "breastfeeding", "contraindicated"),
    ("upadacitinib", "US", "hypersensitivity", "contraindicated"),
    ("upadacitinib", "EU", "hypersensitivity", "contraindicated"),
    ("upadacitinib", "EU", "active_tb", "contraindicated"),
    ("upadacitinib", "EU", "active_serious_infection", "contraindicated"),
    ("upadacitinib", "EU", "severe_hepatic", "contraindicated"),
    ("upadacitinib", "EU", "pregnancy", "contraindicated"),
    ("baricitinib", "EU", "hypersensitivity", "contraindicated"),
    ("baricitinib", "EU", "pregnancy", "contraindicated"),
    ("ruxolitinib-cream", "US", "immunocompromised", "not_recommended"),
    ("ruxolitinib-cream", "US", "breastfeeding", "not_recommended"),
    ("ruxolitinib-cream", "EU", "pregnancy", "contraindicated"),
    ("ruxolitinib-cream", "EU", "breastfeeding", "contraindicated"),
    ("delgocitinib", "EU", "hypersensitivity", "contraindicated"),
    ("delgocitinib", "EU", "pregnancy", "not_recommended"),
    ("delgocitinib", "ANY", "active_serious_infection", "not_recommended"),
]


@pytest.mark.parametrize("slug", list(DRUGS))
def test_contraindications_match_reference_exactly(slug):
    expected = {(j, c, s) for d, j, c, s in CONTRAINDICATIONS if d == slug}
    assert {(jur(r), r["condition"], r["severity"]) for r in rows(slug, "contraindications")} == expected


INTERACTIONS = [
    # slug, jurisdiction, class, effect, within days of start
    ("abrocitinib", "US", "antiplatelet", "contraindicated", 90),
    ("abrocitinib", "US", "strong_cyp2c19_inhibitor", "adjust_dose", None),
    ("abrocitinib", "EU", "strong_cyp2c19_inhibitor", "adjust_dose", None),
    ("abrocitinib", "US", "moderate_strong_cyp2c9_inhibitor", "avoid", None),
    ("abrocitinib", "US", "strong_cyp2c19_cyp2c9_inducer", "avoid", None),
    ("abrocitinib", "ANY", "pgp_substrate_nti", "caution", None),
    ("abrocitinib", "ANY", "live_vaccine", "avoid", None),
    ("abrocitinib", "ANY", "other_jak_inhibitor", "avoid", None),
    ("upadacitinib", "US", "strong_cyp3a4_inhibitor", "adjust_dose", None),
    ("upadacitinib", "ANY", "immunosuppressant", "avoid", None),
    ("upadacitinib", "ANY", "live_vaccine", "avoid", None),
    ("baricitinib", "EU", "oat3_inhibitor", "adjust_dose", None),
    ("baricitinib", "EU", "live_vaccine", "avoid", None),
    ("ruxolitinib-cream", "EU", "strong_cyp3a4_inhibitor", "caution", None),
    ("ruxolitinib-cream", "US", "other_jak_inhibitor", "avoid", None),
    ("delgocitinib", "ANY", "live_vaccine", "avoid", None),
    ("tofacitinib", "US", "strong_cyp3a4_inducer", "avoid", None),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "code", "effect", "days"), INTERACTIONS)
def test_interaction(slug, jurisdiction, code, effect, days):
    found = {
        (jur(r), r["interacting_class"], r["effect"], r.get("within_days_of_start")) for r in rows(slug, "interactions")
    }
    assert (jurisdiction, code, effect, days) in found


# Screening (§3.1) -------------------------------------------------------------------------------------

SCREENING = [
    # slug, jurisdiction, item, requirement
    ("abrocitinib", "ANY", "tb", "required"),
    ("abrocitinib", "ANY", "hbv", "required"),
    ("abrocitinib", "ANY", "hcv", "required"),
    ("abrocitinib", "ANY", "cbc", "required"),
    ("abrocitinib", "EU", "lipids", "required"),
    ("abrocitinib", "ANY", "vaccines", "required"),
    ("upadacitinib", "ANY", "tb", "required"),
    ("upadacitinib", "ANY", "liver", "required"),
    ("upadacitinib", "ANY", "lipids", "advised"),
    ("upadacitinib", "US", "pregnancy", "required"),
    ("baricitinib", "ANY", "tb", "required"),
    ("baricitinib", "ANY", "liver", "required"),
    ("baricitinib", "ANY", "kidney", "required"),
    ("ruxolitinib-cream", "US", "tb", "consider"),
    ("delgocitinib", "ANY", "vaccines", "required"),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "item", "requirement"), SCREENING)
def test_screening_item(slug, jurisdiction, item, requirement):
    found = {(jur(r), r["item"], r["requirement"]) for r in rows(slug, "screening_items")}
    assert (jurisdiction, item, requirement) in found


@pytest.mark.parametrize("item", ["cbc", "lipids", "liver", "hbv", "hcv"])
def test_delgocitinib_needs_no_lab_screening(item):
    assert item not in {r["item"] for r in rows("delgocitinib", "screening_items")}


# Monitoring schedules (§2.x schedules, §3.2) ----------------------------------------------------------

MONITORING = [
    # slug, jurisdiction, check, first week, repeat every, unconfirmed
    ("abrocitinib", "ANY", "cbc", 4, None, False),
    ("abrocitinib", "ANY", "cbc", 12, 12, True),
    ("abrocitinib", "ANY", "lipids", 4, None, False),
    ("abrocitinib", "ANY", "tb", 52, 52, False),
    ("abrocitinib", "ANY", "infection_check", 12, 12, True),
    ("abrocitinib", "EU", "efficacy_review", 24, None, False),
    ("upadacitinib", "ANY", "lipids", 12, None, False),
    ("upadacitinib", "ANY", "cbc", 12, 12, True),
    ("upadacitinib", "ANY", "liver", 12, 12, True),
    ("upadacitinib", "ANY", "infection_check", 12, 12, True),
    ("upadacitinib", "EU", "efficacy_review", 12, None, False),
    ("baricitinib", "ANY", "lipids", 12, None, False),
    ("baricitinib", "ANY", "cbc", 12, 12, True),
    ("baricitinib", "ANY", "infection_check", 12, 12, True),
    ("baricitinib", "EU", "efficacy_review", 8, None, False),
    ("ruxolitinib-cream", "US", "efficacy_review", 8, None, False),
    ("delgocitinib", "EU", "efficacy_review", 12, None, False),
    ("tofacitinib", "EU", "cbc", 6, 13, False),
    ("tofacitinib", "US", "lipids", 6, None, False),
    ("tofacitinib", "EU", "lipids", 8, None, False),
    ("tofacitinib", "ANY", "infection_check", 12, 12, True),
]


@pytest.mark.parametrize(("slug", "jurisdiction", "check", "first", "repeat", "unconfirmed"), MONITORING)
def test_monitoring_rule(slug, jurisdiction, check, first, repeat, unconfirmed):
    found = {
        (jur(r), r["check_type"], r.get("first_week"), r.get("repeat_every_weeks"), r.get("unconfirmed", False))
        for r in rows(slug, "monitoring_rules")
    }
    assert (jurisdiction, check, first, repeat, unconfirmed) in found


def test_abrocitinib_us_cbc_after_dose_increase_is_unconfirmed():
    (row,) = [r for r in rows("abrocitinib", "monitoring_rules") if r.get("after_dose_increase_weeks")]
    assert (jur(row), row["check_type"], row["after_dose_increase_weeks"], row["unconfirmed"]) == ("US", "cbc", 4, True)


@pytest.mark.parametrize("slug", ["ruxolitinib-cream", "delgocitinib", "gusacitinib"])
def test_no_lab_monitoring_for_topicals_and_investigational(slug):
    labs = {"cbc", "lipids", "liver", "kidney", "cpk"}
    assert not labs & {r["check_type"] for r in rows(slug, "monitoring_rules")}


@pytest.mark.parametrize("slug", list(DRUGS))
def test_efficacy_review_at_futility_week(slug):
    for status in rows(slug, "statuses"):
        if status.get("futility_week"):
            reviews = [r for r in rows(slug, "monitoring_rules") if r["check_type"] == "efficacy_review"]
            assert (status["jurisdiction"], status["futility_week"]) in {(jur(r), r["first_week"]) for r in reviews}


def test_portal_default_rows_are_unconfirmed():
    for drug in DRUGS.values():
        for row in drug.get("monitoring_rules", []):
            if row["source"] == "portal default, editable" or "interval is the clinic's choice" in row.get("note", ""):
                assert row.get("unconfirmed") is True, (drug["slug"], row)


# Lab thresholds (§2.1, §2.2, §2.3, §2.7, §3.3) -------------------------------------------------------

THRESHOLDS = {
    # (jurisdiction, analyte, phase, comparison, value, action)
    "abrocitinib": {
        ("ANY", "platelets", "baseline", "lt", "150", "do_not_start"),
        ("ANY", "platelets", "on_treatment", "lt", "50", "discontinue"),
        ("ANY", "alc", "baseline", "lt", "0.5", "do_not_start"),
        ("US", "alc", "on_treatment", "lt", "0.5", "interrupt"),
        ("EU", "alc", "on_treatment", "lt", "0.5", "interrupt"),
        ("US", "anc", "baseline", "lt", "1.0", "do_not_start"),
        ("EU", "anc", "baseline", "lt", "1.2", "do_not_start"),
        ("ANY", "anc", "on_treatment", "lt", "1.0", "interrupt"),
        ("US", "hb", "baseline", "lt", "8", "do_not_start"),
        ("EU", "hb", "baseline", "lt", "10", "do_not_start"),
        ("ANY", "hb", "on_treatment", "lt", "8", "interrupt"),
    },
    "upadacitinib": {
        ("ANY", "anc", "baseline", "lt", "1.0", "do_not_start"),
        ("ANY", "anc", "on_treatment", "lt", "1.0", "interrupt"),
        ("ANY", "alc", "baseline", "lt", "0.5", "do_not_start"),
        ("ANY", "alc", "on_treatment", "lt", "0.5", "interrupt"),
        ("ANY", "hb", "baseline", "lt", "8", "do_not_start"),
        ("ANY", "hb", "on_treatment", "lt", "8", "interrupt"),
    },
    "baricitinib": {
        ("ANY", "anc", "baseline", "lt", "1.0", "do_not_start"),
        ("ANY", "anc", "on_treatment", "lt", "1.0", "interrupt"),
        ("ANY", "alc", "baseline", "lt", "0.5", "do_not_start"),
        ("ANY", "alc", "on_treatment", "lt", "0.5", "interrupt"),
        ("ANY", "hb", "baseline", "lt", "8", "do_not_start"),
        ("ANY", "hb", "on_treatment", "lt", "8", "interrupt"),
    },
    "ruxolitinib-cream": set(),
    "delgocitinib": set(),
    "gusacitinib": set(),
    "tofacitinib": {
        ("US", "alc", "baseline", "lt", "0.5", "do_not_start"),
        ("EU", "alc", "baseline", "lt", "0.75", "do_not_start"),
        ("ANY", "anc", "baseline", "lt", "1.0", "do_not_start"),
        ("ANY", "hb", "baseline", "lt", "9", "do_not_start"),
        ("US", "alc", "on_treatment", "lt", "0.5", "discontinue"),
        ("US", "anc", "on_treatment", "lt", "1.0", "interrupt"),
        ("US", "anc", "on_treatment", "lt", "0.5", "discontinue"),
        ("US", "hb", "on_treatment", "lt", "8", "interrupt"),
    },
}


@pytest.mark.parametrize("slug", list(THRESHOLDS))
def test_thresholds_match_reference_exactly(slug):
    actual = {
        (jur(r), r["lab_test"], r["phase"], r["comparison"], Decimal(r["value"]), r["action"])
        for r in rows(slug, "thresholds")
    }
    expected = {(j, a, p, c, Decimal(v), act) for j, a, p, c, v, act in THRESHOLDS[slug]}
    assert actual == expected


@pytest.mark.parametrize(
    ("slug", "jurisdiction", "analyte", "phase", "words"),
    [
        ("abrocitinib", "ANY", "platelets", "on_treatment", "100,000"),
        ("abrocitinib", "EU", "alc", "on_treatment", "discontinue if confirmed"),
        ("tofacitinib", "US", "alc", "on_treatment", "confirmed"),
        ("tofacitinib", "US", "hb", "on_treatment", "2 g/dL"),
    ],
)
def test_restart_rule(slug, jurisdiction, analyte, phase, words):
    (row,) = [
        r for r in rows(slug, "thresholds") if (jur(r), r["lab_test"], r["phase"]) == (jurisdiction, analyte, phase)
    ]
    assert words in row["restart_rule"]


def test_no_liver_or_cpk_thresholds():
    for drug in DRUGS.values():
        assert not {"alt", "ast", "cpk"} & {r["lab_test"] for r in drug.get("thresholds", [])}


# Lab tests and LOINC codes (§4, unit conventions) -----------------------------------------------------

LOINC = [
    # analyte, LOINC, canonical unit, panel, value type, LOINC status
    ("wbc", "6690-2", "10*3/uL", "cbc", "quantity", "V"),
    ("anc", "751-8", "10*3/uL", "cbc", "quantity", "V1"),
    ("alc", "731-0", "10*3/uL", "cbc", "quantity", "V"),
    ("hb", "718-7", "g/dL", "cbc", "quantity", "V"),
    ("platelets", "777-3", "10*3/uL", "cbc", "quantity", "V"),
    ("total_cholesterol", "2093-3", "mg/dL", "lipids", "quantity", "V"),
    ("ldl", "13457-7", "mg/dL", "lipids", "quantity", "V"),
    ("hdl", "2085-9", "mg/dL", "lipids", "quantity", "V"),
    ("triglycerides", "2571-8", "mg/dL", "lipids", "quantity", "V"),
    ("alt", "1742-6", "U/L", "liver", "quantity", "V"),
    ("ast", "1920-8", "U/L", "liver", "quantity", "V"),
    ("creatinine", "2160-0", "mg/dL", "kidney", "quantity", "V"),
    ("egfr", "98979-8", "mL/min/{1.73_m2}", "kidney", "quantity", "V"),
    ("cpk", "2157-6", "U/L", "cpk", "quantity", "V"),
    ("tb_igra", "71773-6", "", "screening", "coded", "V1"),
    ("hbsag", "5196-1", "", "screening", "coded", "V"),
    ("anti_hbc", "16933-4", "", "screening", "coded", "V1"),
    ("hcv_ab", "13955-0", "", "screening", "coded", "V"),
    ("hcg_urine", "2106-3", "", "screening", "coded", "V"),
    ("hcg_serum", "2118-8", "", "screening", "coded", "V1"),
]


@pytest.mark.parametrize(("analyte", "loinc", "unit", "panel", "value_type", "status"), LOINC)
def test_lab_test(analyte, loinc, unit, panel, value_type, status):
    lab = LABS[analyte]
    assert (lab["loinc"], lab.get("canonical_unit", ""), lab["panel"]) == (loinc, unit, panel)
    assert (lab["value_type"], lab["loinc_status"]) == (value_type, status)


def test_loinc_codes_are_unique():
    codes = [lab["loinc"] for lab in DATA["lab_tests"]]
    assert len(codes) == len(set(codes))


UNITS = [
    # analyte, entry unit, factor to canonical
    ("platelets", "10*3/uL", "1"),
    ("platelets", "10*9/L", "1"),
    ("platelets", "/mm3", "0.001"),
    ("anc", "/mm3", "0.001"),
    ("alc", "10*9/L", "1"),
    ("wbc", "/uL", "0.001"),
    ("hb", "g/dL", "1"),
    ("hb", "g/L", "0.1"),
    ("total_cholesterol", "mg/dL", "1"),
    ("ldl", "mg/dL", "1"),
    ("hdl", "mg/dL", "1"),
    ("egfr", "mL/min/{1.73_m2}", "1"),
]


@pytest.mark.parametrize(("analyte", "unit", "factor"), UNITS)
def test_unit_factor(analyte, unit, factor):
    units = {u["unit"]: Decimal(u["factor"]) for u in LABS[analyte]["units"]}
    assert units[unit] == Decimal(factor)


@pytest.mark.parametrize("analyte", ["wbc", "anc", "alc", "platelets"])
def test_count_units(analyte):
    units = {u["unit"]: Decimal(u["factor"]) for u in LABS[analyte]["units"]}
    assert units == {"10*3/uL": 1, "10*9/L": 1, "/mm3": Decimal("0.001"), "/uL": Decimal("0.001")}


@pytest.mark.parametrize("analyte", [a for a, *_ in LOINC if LABS[a]["value_type"] == "quantity"])
def test_canonical_unit_is_accepted_with_factor_one(analyte):
    lab = LABS[analyte]
    units = {u["unit"]: Decimal(u["factor"]) for u in lab["units"]}
    assert units[lab["canonical_unit"]] == 1
    assert len(units) == len(lab["units"])


@pytest.mark.parametrize(
    ("analyte", "unit", "factor", "divisor"),
    [
        ("hb", "mmol/L", "1.611", "1"),  # §9.8
        ("total_cholesterol", "mmol/L", "38.67", "1"),
        ("ldl", "mmol/L", "38.67", "1"),
        ("hdl", "mmol/L", "38.67", "1"),
        ("triglycerides", "mmol/L", "88.57", "1"),
        ("creatinine", "umol/L", "1", "88.42"),  # 88.42 µmol/L = 1 mg/dL: no finite decimal factor
    ],
)
def test_molar_units_have_the_reference_factors(analyte, unit, factor, divisor):
    row = next(u for u in LABS[analyte]["units"] if u["unit"] == unit)
    assert (Decimal(row["factor"]), Decimal(row.get("divisor", "1"))) == (Decimal(factor), Decimal(divisor))
    assert LABS[analyte]["si_unit"] in {u["unit"] for u in LABS[analyte]["units"]}


@pytest.mark.parametrize("analyte", [a for a, *_ in LOINC if LABS[a]["value_type"] == "coded"])
def test_coded_tests_have_no_units_or_ranges(analyte):
    lab = LABS[analyte]
    keys = {"units", "canonical_unit", "reference_low", "reference_high", "plausible_min", "plausible_max"}
    assert not keys & set(lab)


@pytest.mark.parametrize("analyte", [a for a, *_ in LOINC if LABS[a]["value_type"] == "quantity"])
def test_local_ranges_are_flagged(analyte):
    lab = LABS[analyte]
    assert lab["unconfirmed"] is True
    assert "local lab range" in lab["source"]
    assert Decimal(lab["plausible_min"]) < Decimal(lab["plausible_max"])


def test_platelet_typo_is_implausible():
    lab = LABS["platelets"]
    factor = {u["unit"]: Decimal(u["factor"]) for u in lab["units"]}["/mm3"]
    assert Decimal("5000000") * factor > Decimal(lab["plausible_max"])
    assert Decimal("250000") * factor <= Decimal(lab["plausible_max"])


# Interacting classes and medicines ------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        "antiplatelet",
        "strong_cyp2c19_inhibitor",
        "moderate_strong_cyp2c9_inhibitor",
        "strong_cyp2c19_cyp2c9_inducer",
        "strong_cyp3a4_inhibitor",
        "strong_cyp3a4_inducer",
        "oat3_inhibitor",
        "live_vaccine",
        "immunosuppressant",
        "biologic_immunomodulator",
        "other_jak_inhibitor",
        "pgp_substrate_nti",
    ],
)
def test_interacting_class_exists(code):
    assert code in CLASSES


@pytest.mark.parametrize(
    ("medicine", "code"),
    [
        ("fluvoxamine", "strong_cyp2c19_inhibitor"),
        ("fluconazole", "strong_cyp2c19_inhibitor"),
        ("fluoxetine", "strong_cyp2c19_inhibitor"),
        ("ticlopidine", "strong_cyp2c19_inhibitor"),
        ("ticlopidine", "antiplatelet"),
        ("clopidogrel", "antiplatelet"),
        ("prasugrel", "antiplatelet"),
        ("ticagrelor", "antiplatelet"),
        ("dipyridamole", "antiplatelet"),
        ("rifampin", "strong_cyp2c19_cyp2c9_inducer"),
        ("rifampin", "strong_cyp3a4_inducer"),
        ("probenecid", "oat3_inhibitor"),
        ("ketoconazole", "strong_cyp3a4_inhibitor"),
        ("itraconazole", "strong_cyp3a4_inhibitor"),
        ("clarithromycin", "strong_cyp3a4_inhibitor"),
        ("dabigatran", "pgp_substrate_nti"),
        ("azathioprine", "immunosuppressant"),
        ("ciclosporin", "immunosuppressant"),
        ("dupilumab", "biologic_immunomodulator"),
        ("live attenuated zoster vaccine", "live_vaccine"),
        ("yellow fever vaccine", "live_vaccine"),
    ],
)
def test_medicine_class(medicine, code):
    assert code in MEDICINES[medicine]["classes"]


def test_aspirin_is_not_an_antiplatelet_for_the_rule():
    aspirin = MEDICINES["aspirin"]
    assert aspirin["classes"] == []
    assert "81 mg/day" in aspirin["note"]


def test_medicine_names_are_lower_case():
    assert all(name == name.lower() for name in MEDICINES)


# Integrity: sources, references, weeks, field names -------------------------------------------------

SOURCE_TAGS = {s["tag"] for s in DATA["sources"]}


def test_every_source_tag_exists():
    for path, key, value in walk(DATA):
        if key == "source":
            for tag in TAG.findall(value):
                assert tag in SOURCE_TAGS, f"{path}: [{tag}]"


def test_source_strings_are_tags_or_known_notes():
    for path, key, value in walk(DATA):
        if key == "source":
            assert TAG.sub("", value).strip() in FREE_TEXT_SOURCES, f"{path}: {value!r}"


def test_every_fact_row_names_a_source():
    for drug in DRUGS.values():
        for table in CHILD_MODELS:
            for row in drug.get(table, []):
                assert row.get("source"), (drug["slug"], table, row)


def test_sources_are_unique_and_titled():
    tags = [s["tag"] for s in DATA["sources"]]
    assert len(tags) == len(set(tags))
    assert all(s["title"] for s in DATA["sources"])


def test_lab_test_and_class_references_resolve():
    for drug in DRUGS.values():
        for row in drug.get("thresholds", []):
            assert row["lab_test"] in LABS
        for table in ("dose_adjustments", "interactions"):
            for row in drug.get(table, []):
                if "interacting_class" in row:
                    assert row["interacting_class"] in CLASSES
    for medicine in MEDICINES.values():
        assert set(medicine["classes"]) <= CLASSES


def test_no_week_is_zero():
    week_keys = {"first_week", "repeat_every_weeks", "after_dose_increase_weeks", "futility_week"}
    for path, key, value in walk(DATA):
        if key in week_keys:
            assert isinstance(value, int), f"{path}.{key} = {value!r}"
            assert value >= 1, f"{path}.{key} = {value!r}"


def test_egfr_bands_are_ordered():
    for drug in DRUGS.values():
        for row in drug.get("dose_adjustments", []):
            if "egfr_min" in row and "egfr_max" in row:
                assert Decimal(row["egfr_min"]) < Decimal(row["egfr_max"])


def _field_names(model) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


@pytest.mark.parametrize(("table", "model"), list(CHILD_MODELS.items()))
def test_fact_keys_are_model_fields(table, model):
    for drug in DRUGS.values():
        for row in drug.get(table, []):
            assert set(row) <= _field_names(model), (drug["slug"], table, set(row) - _field_names(model))


@pytest.mark.parametrize(
    ("key", "model", "nested"),
    [
        ("sources", models.Source, set()),
        ("lab_tests", models.LabTest, {"units"}),
        ("interacting_classes", models.InteractingClass, set()),
        ("medicines", models.Medicine, set()),
        ("drugs", models.Drug, set(CHILD_MODELS)),
    ],
)
def test_top_level_keys_are_model_fields(key, model, nested):
    for row in DATA[key]:
        assert set(row) - nested <= _field_names(model), set(row) - nested - _field_names(model)


def test_unit_keys_are_model_fields():
    for lab in DATA["lab_tests"]:
        for unit in lab.get("units", []):
            assert {"unit", "label", "factor"} <= set(unit) <= {"unit", "label", "factor", "divisor", "display_places"}


# UNCONFIRMED facts in the reference carry the flag ---------------------------------------------------

UNCONFIRMED = [
    # slug, table, a (key, value) pair that identifies the row
    ("abrocitinib", "dose_adjustments", ("interacting_class", "moderate_strong_cyp2c9_inhibitor"), "EU"),
    ("upadacitinib", "dose_adjustments", ("interacting_class", "strong_cyp3a4_inhibitor"), "US"),
    ("upadacitinib", "dose_adjustments", ("interacting_class", "strong_cyp3a4_inducer"), "US"),
    ("upadacitinib", "contraindications", ("condition", "hypersensitivity"), "US"),
    ("baricitinib", "regimens", ("dose", "2"), "EU"),
    ("delgocitinib", "statuses", ("status", "other"), "US"),
]


@pytest.mark.parametrize(("slug", "table", "match", "jurisdiction"), UNCONFIRMED)
def test_unconfirmed_fact_is_flagged(slug, table, match, jurisdiction):
    key, value = match
    found = [r for r in rows(slug, table) if r.get(key) == value and jur(r) == jurisdiction]
    assert any(r.get("unconfirmed") for r in found)
