"""Risk badges, table by table against clinical-reference §1.3 (EMA) and §1.4 (rule-engine flags)."""

import datetime as dt
from decimal import Decimal

import pytest

from patients import risk
from patients.risk import RiskInput


def codes(**fields) -> set[str]:
    return {badge.code for badge in risk.risk_badges(RiskInput(**fields))}


# §1.4 US_CV_RISK_GROUP: age >= 50 AND >= 1 CV risk factor [S60]
@pytest.mark.parametrize(
    ("age", "factor", "flagged"),
    [
        (50, "hypertension", True),
        (49, "hypertension", False),
        (58, None, False),
        (72, "diabetes", True),
        (55, "dyslipidaemia", True),
        (60, "coronary_disease", True),
        (60, "stroke", True),
        (60, "peripheral_arterial_disease", True),
        (60, "family_history_cvd", True),
        (None, "hypertension", False),
    ],
)
def test_us_cv_risk_group(age, factor, flagged):
    fields = {"age": age, **({factor: True} if factor else {})}
    assert (risk.US_CV_RISK_GROUP in codes(**fields)) is flagged


# §1.4 SMOKER_ANY (US): current OR past smoker [S5]
@pytest.mark.parametrize(
    ("status", "flagged"),
    [("current", True), ("former", True), ("never", False), ("", False)],
)
def test_smoker_any(status, flagged):
    assert (risk.SMOKER_ANY in codes(smoking_status=status)) is flagged


# §1.3 / §1.4 EU_LAST_RESORT: >= 65, CV risk, current or long-time past smoker, malignancy risk [S63][S64]
@pytest.mark.parametrize(
    ("fields", "flagged"),
    [
        ({"age": 65}, True),
        ({"age": 64}, False),
        ({"age": 30, "hypertension": True}, True),
        ({"age": 30, "smoking_status": "current"}, True),
        ({"age": 30, "smoking_status": "former", "pack_years": Decimal(10)}, True),  # local definition
        ({"age": 30, "smoking_status": "former", "pack_years": Decimal("9.9")}, False),
        ({"age": 30, "smoking_status": "former"}, False),  # pack-years unknown: not long-time
        ({"age": 30, "cancer_status": "active"}, True),
        ({"age": 30, "cancer_status": "past"}, True),
        ({"age": 30, "cancer_status": "nmsc_only"}, False),
        ({"age": 30}, False),
    ],
)
def test_eu_last_resort(fields, flagged):
    assert (risk.EU_LAST_RESORT in codes(**fields)) is flagged


def test_eu_long_time_past_smoker_is_marked_as_local_definition():
    badge = next(
        b
        for b in risk.risk_badges(RiskInput(age=40, smoking_status="former", pack_years=Decimal(20)))
        if b.code == risk.EU_LAST_RESORT
    )
    assert badge.local_definition
    assert "long-time past smoker" in badge.reason
    assert Decimal(10) == risk.EU_LONG_TIME_SMOKER_MIN_PACK_YEARS


# §1.3 / §1.4 VTE_RISK: prior VTE, obesity, prothrombotic disorder, CHC/HRT, surgery, immobilisation, older age
@pytest.mark.parametrize(
    ("fields", "flagged"),
    [
        ({"dvt_history": True}, True),
        ({"pe_history": True}, True),
        ({"thrombophilia": True}, True),
        ({"hormonal_therapy": True}, True),
        ({"recent_surgery_or_immobilisation": True}, True),
        ({"bmi": Decimal("30.0")}, True),
        ({"bmi": Decimal("29.9")}, False),
        ({"age": 65}, True),
        ({"age": 64}, False),
        ({}, False),
    ],
)
def test_vte_risk(fields, flagged):
    assert (risk.VTE_RISK in codes(**fields)) is flagged


# §1.4 MALIGNANCY_RISK: active or prior malignancy, other than (treated) NMSC [S19d][S63]
@pytest.mark.parametrize(
    ("status", "flagged"),
    [("active", True), ("past", True), ("nmsc_only", False), ("none", False), ("", False)],
)
def test_malignancy_risk(status, flagged):
    assert (risk.MALIGNANCY_RISK in codes(cancer_status=status)) is flagged


# §1.2 serious infections (TB, hepatitis, zoster) [S5][S6]
@pytest.mark.parametrize(
    ("fields", "flagged"),
    [
        ({"tb_status": "active"}, True),
        ({"tb_status": "latent_untreated"}, True),
        ({"tb_status": "latent_treated"}, False),
        ({"tb_status": "negative"}, False),
        ({"tb_status": "never_tested"}, False),
        ({"hepatitis_b": "positive"}, True),
        ({"hepatitis_c": "positive"}, True),
        ({"hiv": "positive"}, True),
        ({"hepatitis_b": "negative"}, False),
        ({"herpes_zoster_history": True}, True),
        ({"recurrent_serious_infections": True}, True),
        ({"active_serious_infection": True}, True),
    ],
)
def test_infection_risk(fields, flagged):
    assert (risk.INFECTION_RISK in codes(**fields)) is flagged


@pytest.mark.parametrize(
    ("fields", "flagged"),
    [({"pregnant": True}, True), ({"breastfeeding": True}, True), ({"planning_pregnancy": True}, True), ({}, False)],
)
def test_pregnancy(fields, flagged):
    assert (risk.PREGNANT_OR_BREASTFEEDING in codes(**fields)) is flagged


def test_58_year_old_current_smoker_with_hypertension():
    badges = risk.risk_badges(RiskInput(age=58, smoking_status="current", pack_years=Decimal(30), hypertension=True))
    assert [b.code for b in badges] == [risk.US_CV_RISK_GROUP, risk.SMOKER_ANY, risk.EU_LAST_RESORT]
    assert badges[0].reason == "Age 58 (50 or over) with a cardiovascular risk factor: high blood pressure."
    assert badges[0].source == "[S60]"
    assert all(b.label and b.reason and b.source for b in badges)


def test_nothing_recorded_gives_no_badges():
    assert risk.risk_badges(RiskInput()) == []


@pytest.mark.parametrize(
    ("weight", "height", "expected"),
    [(Decimal(90), Decimal(170), Decimal("31.1")), (None, Decimal(170), None), (Decimal(60), None, None)],
)
def test_bmi(weight, height, expected):
    assert risk.bmi(weight, height) == expected


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [
        (dt.date(1970, 6, 15), dt.date(2020, 6, 14), 49),
        (dt.date(1970, 6, 15), dt.date(2020, 6, 15), 50),
        (dt.date(2000, 2, 29), dt.date(2021, 2, 28), 20),
    ],
)
def test_age_on(born, today, age):
    assert risk.age_on(born, today) == age
