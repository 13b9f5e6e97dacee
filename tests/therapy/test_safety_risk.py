"""Boxed warning (US, §1.2) and EMA risk groups (EU, §1.3) from the risk badges and clot history."""

import pytest

from patients.risk import EU_LAST_RESORT, MALIGNANCY_RISK, SMOKER_ANY, US_CV_RISK_GROUP, VTE_RISK
from tests.therapy.drug_labels import BY_SLUG
from tests.therapy.patient_facts import clots, codes, find, patient, run
from therapy.safety import Severity

US_BOXED = ("abrocitinib", "upadacitinib", "baricitinib", "ruxolitinib", "tofacitinib")
EU_SYSTEMIC = ("abrocitinib", "upadacitinib", "baricitinib", "tofacitinib")

US_RULES = [
    ({"badges": frozenset({US_CV_RISK_GROUP})}, "boxed.us_cv_risk_group"),
    ({"badges": frozenset({SMOKER_ANY})}, "boxed.smoker"),
    ({"badges": frozenset({MALIGNANCY_RISK})}, "boxed.malignancy"),
    ({"badges": frozenset({VTE_RISK})}, "boxed.vte_risk"),
    ({"prior_mi_stroke": True}, "boxed.prior_mi_stroke"),
    ({"clots": clots(dvt=True)}, "risk.clot_history"),
    ({"clots": clots(pe=True)}, "risk.clot_history"),
]


@pytest.mark.parametrize("slug", US_BOXED)
@pytest.mark.parametrize(("facts", "code"), US_RULES)
def test_us_boxed_warning_risk_groups_need_acknowledgement(slug, facts, code):
    finding = find(run(BY_SLUG[slug], patient(**facts), "US", dose=None), code)
    assert finding.needs_acknowledgement
    assert finding.source


@pytest.mark.parametrize(("facts", "code"), US_RULES)
def test_no_boxed_warning_no_risk_group_warning(facts, code):
    assert code not in codes(run(BY_SLUG["delgocitinib"], patient(**facts), "US"))


EU_RULES = [
    ({"badges": frozenset({EU_LAST_RESORT})}, "risk.eu_last_resort"),
    ({"badges": frozenset({VTE_RISK})}, "risk.vte"),
    ({"badges": frozenset({MALIGNANCY_RISK})}, "risk.malignancy"),
    ({"clots": clots(pe=True)}, "risk.clot_history"),
]


@pytest.mark.parametrize("slug", EU_SYSTEMIC)
@pytest.mark.parametrize(("facts", "code"), EU_RULES)
def test_eu_risk_groups_warn_for_systemic_drugs(slug, facts, code):
    finding = find(run(BY_SLUG[slug], patient(**facts), "EU", dose=None), code)
    assert finding.severity == Severity.WARNING
    assert "[S63][S64]" in finding.source


@pytest.mark.parametrize("slug", ["ruxolitinib", "delgocitinib"])
def test_eu_risk_groups_skip_topicals(slug):
    p = patient(badges=frozenset({EU_LAST_RESORT, VTE_RISK, MALIGNANCY_RISK}))
    assert not {c for c in codes(run(BY_SLUG[slug], p, "EU")) if c.startswith("risk.")}


def test_eu_last_resort_message_says_no_suitable_alternative():
    finding = find(
        run(BY_SLUG["abrocitinib"], patient(badges=frozenset({EU_LAST_RESORT})), "EU"), "risk.eu_last_resort"
    )
    assert "no suitable alternative" in finding.message


def test_us_badges_do_not_fire_in_eu():
    p = patient(badges=frozenset({US_CV_RISK_GROUP, SMOKER_ANY}))
    assert not {c for c in codes(run(BY_SLUG["abrocitinib"], p, "EU")) if c.startswith("boxed.")}


def test_eu_badge_does_not_fire_in_us():
    assert "risk.eu_last_resort" not in codes(run(BY_SLUG["abrocitinib"], patient(badges=frozenset({EU_LAST_RESORT}))))


def test_other_clot_risk_flags_alone_are_left_to_the_vte_badge():
    assert "risk.clot_history" not in codes(run(BY_SLUG["abrocitinib"], patient(clots=clots(obesity=True))))
