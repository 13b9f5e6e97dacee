"""Risk summary badges for a patient: pure functions over plain data (no Django), tested table by table.

The flags follow clinical-reference §1.3 (EMA Article 20 referral) and §1.4 (suggested rule-engine flags).
Where the reference leaves a threshold open, the value below is a LOCAL DEFINITION of this portal, named as such
in code and on the patient page; it is not a label fact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

# --- Thresholds taken from the reference -------------------------------------------------------------------------
US_CV_GROUP_MIN_AGE = 50  # FDA DSC / boxed warning: age >= 50 with >= 1 CV risk factor [S60]
EU_OLDER_AGE = 65  # EMA: aged >= 65 [S63][S64]

# --- Local definitions (not given by the reference; editable clinic policy) -------------------------------------
# "Long-time past smoker" (EMA) is not defined by the label. Local definition: a current smoker, or a former smoker
# with at least this many pack-years. Any former smoker still counts as SMOKER_ANY (US: "current or past smoker").
EU_LONG_TIME_SMOKER_MIN_PACK_YEARS = Decimal(10)
# Obesity as a clot risk factor: body-mass index at or above this value (WHO obesity class I).
OBESITY_MIN_BMI = Decimal(30)
# "Older age" as a clot risk factor: the reference gives no number; locally the EU older-age threshold is used.
VTE_OLDER_AGE = EU_OLDER_AGE
LOCAL_DEFINITION_NOTE = (
    f"Local definitions, not label facts: a long-time smoker is a current smoker or a former smoker with "
    f"{EU_LONG_TIME_SMOKER_MIN_PACK_YEARS} or more pack-years; obesity is a BMI of {OBESITY_MIN_BMI} or more; "
    f"older age for clot risk is {VTE_OLDER_AGE} or over."
)

SMOKING_NEVER = "never"
SMOKING_FORMER = "former"
SMOKING_CURRENT = "current"

CANCER_NONE = "none"
CANCER_ACTIVE = "active"
CANCER_PAST = "past"
CANCER_NMSC_ONLY = "nmsc_only"

TB_LATENT_UNTREATED = "latent_untreated"
TB_ACTIVE = "active"

POSITIVE = "positive"

# Badge codes (stable; used in URLs for the list filter).
US_CV_RISK_GROUP = "US_CV_RISK_GROUP"
SMOKER_ANY = "SMOKER_ANY"
EU_LAST_RESORT = "EU_LAST_RESORT"
VTE_RISK = "VTE_RISK"
MALIGNANCY_RISK = "MALIGNANCY_RISK"
INFECTION_RISK = "INFECTION_RISK"
PREGNANT_OR_BREASTFEEDING = "PREGNANT_OR_BREASTFEEDING"

BADGE_LABELS = {
    US_CV_RISK_GROUP: "US boxed-warning group (50+ with CV risk)",
    SMOKER_ANY: "Current or past smoker",
    EU_LAST_RESORT: "EU: only if no suitable alternative",
    VTE_RISK: "Clot (VTE) risk",
    MALIGNANCY_RISK: "Cancer risk",
    INFECTION_RISK: "Infection risk",
    PREGNANT_OR_BREASTFEEDING: "Pregnancy or breastfeeding",
}

CV_RISK_FACTOR_LABELS = {
    "hypertension": "high blood pressure",
    "diabetes": "diabetes",
    "dyslipidaemia": "dyslipidaemia",
    "coronary_disease": "coronary disease or heart attack",
    "stroke": "stroke",
    "peripheral_arterial_disease": "peripheral arterial disease",
    "family_history_cvd": "family history of heart disease",
}


@dataclass(frozen=True)
class RiskInput:
    """Everything the risk rules read. Unknown values are None/False: the rules never guess a risk."""

    age: int | None = None
    smoking_status: str = ""
    pack_years: Decimal | None = None
    quit_year: int | None = None
    hypertension: bool = False
    diabetes: bool = False
    dyslipidaemia: bool = False
    coronary_disease: bool = False
    stroke: bool = False
    peripheral_arterial_disease: bool = False
    family_history_cvd: bool = False
    dvt_history: bool = False
    pe_history: bool = False
    thrombophilia: bool = False
    hormonal_therapy: bool = False
    recent_surgery_or_immobilisation: bool = False
    bmi: Decimal | None = None
    cancer_status: str = ""
    tb_status: str = ""
    hepatitis_b: str = ""
    hepatitis_c: str = ""
    hiv: str = ""
    herpes_zoster_history: bool = False
    recurrent_serious_infections: bool = False
    active_serious_infection: bool = False
    immunocompromised: bool = False
    pregnant: bool = False
    breastfeeding: bool = False
    planning_pregnancy: bool = False


@dataclass(frozen=True)
class Badge:
    code: str
    label: str
    reason: str
    source: str
    local_definition: bool = False
    reasons: tuple[str, ...] = field(default=(), compare=False)


def bmi(weight_kg: Decimal | float | None, height_cm: Decimal | float | None) -> Decimal | None:
    if not weight_kg or not height_cm:
        return None
    metres = Decimal(str(height_cm)) / 100
    return (Decimal(str(weight_kg)) / (metres * metres)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def cv_risk_factors(data: RiskInput) -> list[str]:
    return [label for name, label in CV_RISK_FACTOR_LABELS.items() if getattr(data, name)]


def is_smoker_any(data: RiskInput) -> bool:
    return data.smoking_status in (SMOKING_CURRENT, SMOKING_FORMER)


def is_eu_long_time_smoker(data: RiskInput) -> bool:
    """LOCAL DEFINITION: current smoker, or former smoker with >= EU_LONG_TIME_SMOKER_MIN_PACK_YEARS pack-years."""
    if data.smoking_status == SMOKING_CURRENT:
        return True
    return (
        data.smoking_status == SMOKING_FORMER
        and data.pack_years is not None
        and Decimal(str(data.pack_years)) >= EU_LONG_TIME_SMOKER_MIN_PACK_YEARS
    )


def malignancy_reasons(data: RiskInput) -> list[str]:
    # Labels single out malignancy other than successfully treated non-melanoma skin cancer [S19d].
    if data.cancer_status == CANCER_ACTIVE:
        return ["active cancer"]
    if data.cancer_status == CANCER_PAST:
        return ["past cancer"]
    return []


def vte_reasons(data: RiskInput) -> tuple[list[str], bool]:
    """Clot risk factors, and whether a local definition (obesity, older age) produced one."""
    reasons = []
    local = False
    if data.dvt_history:
        reasons.append("previous deep vein thrombosis")
    if data.pe_history:
        reasons.append("previous pulmonary embolism")
    if data.thrombophilia:
        reasons.append("known thrombophilia")
    if data.hormonal_therapy:
        reasons.append("combined hormonal contraception or HRT")
    if data.recent_surgery_or_immobilisation:
        reasons.append("recent major surgery or immobilisation")
    if data.bmi is not None and Decimal(str(data.bmi)) >= OBESITY_MIN_BMI:
        reasons.append(f"obesity (BMI {data.bmi})")
        local = True
    if data.age is not None and data.age >= VTE_OLDER_AGE:
        reasons.append(f"age {data.age}")
        local = True
    return reasons, local


def infection_reasons(data: RiskInput) -> list[str]:
    reasons = []
    if data.tb_status == TB_ACTIVE:
        reasons.append("active tuberculosis")
    elif data.tb_status == TB_LATENT_UNTREATED:
        reasons.append("latent tuberculosis, not treated")
    if data.hepatitis_b == POSITIVE:
        reasons.append("hepatitis B")
    if data.hepatitis_c == POSITIVE:
        reasons.append("hepatitis C")
    if data.hiv == POSITIVE:
        reasons.append("HIV")
    if data.herpes_zoster_history:
        reasons.append("past shingles (herpes zoster)")
    if data.recurrent_serious_infections:
        reasons.append("recurrent serious infections")
    if data.active_serious_infection:
        reasons.append("active serious infection now")
    if data.immunocompromised:
        reasons.append("immunocompromised")
    return reasons


def _join(reasons: list[str]) -> str:
    return "; ".join(reasons)


def risk_badges(data: RiskInput) -> list[Badge]:
    """The risk summary, in a fixed order. Each badge says why (plain words) and where the rule comes from."""
    badges: list[Badge] = []
    cv = cv_risk_factors(data)

    if data.age is not None and data.age >= US_CV_GROUP_MIN_AGE and cv:
        reason = f"Age {data.age} (50 or over) with a cardiovascular risk factor: {_join(cv)}."
        badges.append(Badge(US_CV_RISK_GROUP, BADGE_LABELS[US_CV_RISK_GROUP], reason, "[S60]"))

    if is_smoker_any(data):
        if data.smoking_status == SMOKING_CURRENT:
            reason = "Current smoker."
        else:
            reason = f"Former smoker{f' (quit {data.quit_year})' if data.quit_year else ''}."
        if data.pack_years is not None:
            reason = f"{reason[:-1]}, {data.pack_years} pack-years."
        badges.append(Badge(SMOKER_ANY, BADGE_LABELS[SMOKER_ANY], reason, "[S5]"))

    eu = []
    eu_local = False
    if data.age is not None and data.age >= EU_OLDER_AGE:
        eu.append(f"age {data.age} (65 or over)")
    if cv:
        eu.append(f"cardiovascular risk ({_join(cv)})")
    if is_eu_long_time_smoker(data):
        eu.append("current smoker" if data.smoking_status == SMOKING_CURRENT else "long-time past smoker")
        eu_local = data.smoking_status == SMOKING_FORMER
    malignancy = malignancy_reasons(data)
    if malignancy:
        eu.append(f"cancer risk ({_join(malignancy)})")
    if eu:
        reason = f"Use only if no suitable alternative: {_join(eu)}."
        badges.append(Badge(EU_LAST_RESORT, BADGE_LABELS[EU_LAST_RESORT], reason, "[S63][S64]", eu_local, tuple(eu)))

    vte, vte_local = vte_reasons(data)
    if vte:
        reason = f"Clot risk factors: {_join(vte)}."
        badges.append(Badge(VTE_RISK, BADGE_LABELS[VTE_RISK], reason, "[S11][S15]", vte_local, tuple(vte)))

    if malignancy:
        reason = f"Cancer history: {_join(malignancy)}."
        badges.append(Badge(MALIGNANCY_RISK, BADGE_LABELS[MALIGNANCY_RISK], reason, "[S19d][S63]"))

    infection = infection_reasons(data)
    if infection:
        reason = f"Infection risk: {_join(infection)}."
        badges.append(Badge(INFECTION_RISK, BADGE_LABELS[INFECTION_RISK], reason, "[S5][S6]", reasons=tuple(infection)))

    pregnancy = [
        text
        for flag, text in (
            (data.pregnant, "pregnant"),
            (data.breastfeeding, "breastfeeding"),
            (data.planning_pregnancy, "planning a pregnancy"),
        )
        if flag
    ]
    if pregnancy:
        reason = f"{_join(pregnancy).capitalize()}: see each drug's contraindications."
        badges.append(
            Badge(PREGNANT_OR_BREASTFEEDING, BADGE_LABELS[PREGNANT_OR_BREASTFEEDING], reason, "per drug label")
        )
    return badges


def age_on(date_of_birth, today) -> int | None:
    """Age in whole years on ``today`` (both datetime.date)."""
    if date_of_birth is None:
        return None
    before_birthday = (today.month, today.day) < (date_of_birth.month, date_of_birth.day)
    return today.year - date_of_birth.year - int(before_birthday)
