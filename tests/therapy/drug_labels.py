"""Every drug of the clinical reference (§0–§3), built by hand with its numbers and source tags.

An independent cross-check of the catalogue seed: a seed test can compare its adapter output with these.
Counts are in 10*3/uL (= ×10⁹/L), haemoglobin in g/dL, eGFR in mL/min/1.73 m². Interacting-class codes are the
ones the engines expect the Medicine catalogue to use (see CLASS_CODES).
"""

from __future__ import annotations

from decimal import Decimal as D

from drugs.label import (
    ANY,
    EU,
    US,
    BoxedWarningFact,
    ContraindicationFact,
    DoseAdjustmentFact,
    DrugLabel,
    InteractionFact,
    MonitoringRuleFact,
    RegimenFact,
    ScreeningItemFact,
    StatusFact,
    ThresholdFact,
    TopicalLimitFact,
)

CLASS_CODES = (
    "antiplatelet",  # not low-dose aspirin (<= 81 mg/day)
    "strong_cyp2c19_inhibitor",
    "cyp2c19_and_cyp2c9_inhibitor",  # moderate-strong inhibitor of both
    "cyp2c19_cyp2c9_inducer",
    "strong_cyp3a4_inhibitor",
    "strong_cyp3a4_inducer",
    "moderate_cyp3a4_strong_cyp2c19_inhibitor",
    "strong_oat3_inhibitor",
    "pgp_substrate_nti",
    "jak_inhibitor",
    "biologic_immunomodulator",
    "potent_immunosuppressant",
    "live_vaccine",
)

COMPONENTS = ("serious_infections", "mortality", "malignancy", "mace", "thrombosis")
CBC_UNIT, HB_UNIT = "×10³/µL", "g/dL"
NAMES = {"platelets": "Platelets", "anc": "ANC", "alc": "ALC", "hb": "Haemoglobin"}


def boxed(source: str) -> tuple[BoxedWarningFact, ...]:
    return tuple(BoxedWarningFact(jurisdiction=US, component=c, text=c, source=source) for c in COMPONENTS)


def limit(analyte, phase, value, action, source, jurisdiction=ANY, restart="", unconfirmed=False) -> ThresholdFact:
    return ThresholdFact(
        jurisdiction=jurisdiction,
        analyte=analyte,
        analyte_name=NAMES[analyte],
        unit=HB_UNIT if analyte == "hb" else CBC_UNIT,
        panel="cbc",
        phase=phase,
        comparison="lt",
        value=D(value),
        action=action,
        restart_rule=restart,
        source=source,
        unconfirmed=unconfirmed,
    )


def adjust(trigger, action, source, jurisdiction=ANY, dose=None, klass=None, egfr=(None, None), unconfirmed=False):
    return DoseAdjustmentFact(
        jurisdiction=jurisdiction,
        trigger=trigger,
        action=action,
        dose=D(dose) if dose is not None else None,
        interacting_class=klass,
        egfr_min=D(egfr[0]) if egfr[0] is not None else None,
        egfr_max=D(egfr[1]) if egfr[1] is not None else None,
        advice=" ".join(str(part) for part in (trigger, klass, action, dose) if part is not None),
        source=source,
        unconfirmed=unconfirmed,
    )


def screen(item, requirement, source, jurisdiction=ANY, note="") -> ScreeningItemFact:
    return ScreeningItemFact(jurisdiction=jurisdiction, item=item, requirement=requirement, source=source, note=note)


def contra(condition, source, jurisdiction, severity="contraindicated", unconfirmed=False) -> ContraindicationFact:
    return ContraindicationFact(
        jurisdiction=jurisdiction,
        condition=condition,
        severity=severity,
        text=condition,
        source=source,
        unconfirmed=unconfirmed,
    )


def interact(klass, effect, source, jurisdiction=ANY, days=None) -> InteractionFact:
    return InteractionFact(
        jurisdiction=jurisdiction,
        interacting_class=klass,
        effect=effect,
        within_days_of_start=days,
        text=f"{klass}: {effect}",
        source=source,
    )


def monitor(drug, check, source, jurisdiction=ANY, first=None, repeat=None, after=None, window=7, unconfirmed=False):
    return MonitoringRuleFact(
        jurisdiction=jurisdiction,
        drug_name=drug,
        check_type=check,
        first_week=first,
        repeat_every_weeks=repeat,
        after_dose_increase_weeks=after,
        window_days=window,
        source=source,
        unconfirmed=unconfirmed,
    )


def regimen(kind, dose, source, jurisdiction=ANY, frequency="once daily") -> RegimenFact:
    return RegimenFact(jurisdiction=jurisdiction, kind=kind, dose=D(dose), frequency=frequency, source=source)


def immunosuppression(source: str, effect: str = "avoid") -> tuple[InteractionFact, ...]:
    return tuple(
        interact(k, effect, source) for k in ("jak_inhibitor", "biologic_immunomodulator", "potent_immunosuppressant")
    )


# §2.1 Abrocitinib -------------------------------------------------------------------------------------------------
ABROCITINIB = DrugLabel(
    slug="abrocitinib",
    name="Abrocitinib",
    route="oral",
    statuses=(
        StatusFact(jurisdiction=US, status="approved", min_age_years=12, has_boxed_warning=True, source="[S5][S18]"),
        StatusFact(jurisdiction=EU, status="approved", min_age_years=12, futility_week=24, source="[S13]"),
    ),
    regimens=(
        regimen("start", 100, "[S1]", US),
        regimen("escalation", 200, "[S1][S9]", US),
        regimen("reduced", 50, "[S9]", US),
        regimen("start", 100, "[S13][S14]", EU),
        regimen("escalation", 200, "[S13][S15b]", EU),
        regimen("reduced", 50, "[S14]", EU),
    ),
    dose_adjustments=(
        adjust("class", "use_dose", "[S9][S10]", US, dose=50, klass="strong_cyp2c19_inhibitor"),
        adjust("cyp2c19_pm", "use_dose", "[S9]", US, dose=50),
        adjust("class", "avoid", "[S4]", US, klass="cyp2c19_and_cyp2c9_inhibitor"),
        adjust("class", "avoid", "[S4]", US, klass="cyp2c19_cyp2c9_inducer"),
        adjust("renal", "no_change", "[S9]", US, egfr=(60, 90)),
        adjust("renal", "use_dose", "[S9]", US, dose=50, egfr=(30, 60)),
        adjust("renal", "not_recommended", "[S9]", US, egfr=(None, 30)),
        adjust("hepatic_a", "no_change", "[S9]", US),
        adjust("hepatic_b", "no_change", "[S9]", US),
        adjust("hepatic_c", "not_recommended", "[S9]", US),
        adjust("class", "halve", "[S10]", EU, klass="strong_cyp2c19_inhibitor"),
        adjust("class", "halve", "[S10b]", EU, klass="cyp2c19_and_cyp2c9_inhibitor", unconfirmed=True),
        adjust("class", "not_recommended", "[S10]", EU, klass="cyp2c19_cyp2c9_inducer"),
        adjust("renal", "no_change", "[S14]", EU, egfr=(60, 90)),
        adjust("renal", "halve", "[S14]", EU, egfr=(30, 60)),
        adjust("renal", "use_dose", "[S14]", EU, dose=50, egfr=(None, 30)),
        adjust("hepatic_a", "no_change", "[S14]", EU),
        adjust("hepatic_b", "no_change", "[S14]", EU),
        adjust("age_65", "use_dose", "[S13][S14]", EU, dose=100),
        adjust("high_risk", "use_dose", "[S13][S14]", EU, dose=100),
    ),
    boxed_warnings=boxed("[S5][S6]"),
    contraindications=(
        contra("antiplatelet_3m", "[S5][S8]", US),
        *(
            contra(c, "[S14b]", EU)
            for c in (
                "hypersensitivity",
                "active_serious_infection",
                "active_tb",
                "severe_hepatic",
                "pregnancy",
                "breastfeeding",
            )
        ),
    ),
    interactions=(
        interact("antiplatelet", "contraindicated", "[S5][S8]", US, days=90),
        interact("strong_cyp2c19_inhibitor", "adjust_dose", "[S9][S10]"),
        interact("pgp_substrate_nti", "caution", "[S4][S10]"),
        interact("live_vaccine", "avoid", "[S13b]"),
        *immunosuppression("[S19c]"),
    ),
    screening_items=(
        screen("tb", "required", "[S1][S13]", note="Do not start with active TB; treat latent TB first."),
        screen("hbv", "required", "[S1]", note="Do not start with active hepatitis B or C."),
        screen("hcv", "required", "[S1]"),
        screen("cbc", "required", "[S1]"),
        screen("vaccines", "required", "[S1][S13]"),
        screen("kidney", "advised", "[S9]", note="eGFR sets the dose."),
        screen("lipids", "required", "[S13]", EU),
        screen("pregnancy", "required", "[S14b][S11b]", EU),
    ),
    thresholds=(
        limit("platelets", "baseline", "150", "do_not_start", "[S1][S9]", US),
        limit("alc", "baseline", "0.5", "do_not_start", "[S1]", US),
        limit("anc", "baseline", "1.0", "do_not_start", "[S1]", US),
        limit("hb", "baseline", "8", "do_not_start", "[S1]", US),
        limit("platelets", "baseline", "150", "do_not_start", "[S15]", EU),
        limit("alc", "baseline", "0.5", "do_not_start", "[S13]", EU),
        limit("anc", "baseline", "1.2", "do_not_start", "[S15][S18b]", EU),
        limit("hb", "baseline", "10", "do_not_start", "[S15][S18b]", EU),
        limit(
            "platelets",
            "on_treatment",
            "50",
            "discontinue",
            "[S1][S9][S15][S3]",
            restart="Follow the blood count until platelets are above 100 ×10³/µL.",
        ),
        limit("alc", "on_treatment", "0.5", "interrupt", "[S1]", US, restart="Restart when above 0.5."),
        limit(
            "alc",
            "on_treatment",
            "0.5",
            "interrupt",
            "[S13]",
            EU,
            restart="Restart when above 0.5; discontinue if confirmed.",
        ),
        limit("anc", "on_treatment", "1.0", "interrupt", "[S1][S15][S18b]", restart="Restart when above 1.0."),
        limit("hb", "on_treatment", "8", "interrupt", "[S1][S15][S18b]", restart="Restart when above 8."),
    ),
    monitoring_rules=(
        monitor("abrocitinib", "cbc", "[S13][S14c][S11]", first=4),
        monitor("abrocitinib", "lipids", "[S13][S14c]", first=4),
        monitor("abrocitinib", "cbc", "", US, after=4, unconfirmed=True),
    ),
)

# §2.2 Upadacitinib ------------------------------------------------------------------------------------------------
UPADACITINIB = DrugLabel(
    slug="upadacitinib",
    name="Upadacitinib",
    route="oral",
    statuses=(
        StatusFact(
            jurisdiction=US,
            status="approved",
            min_age_years=12,
            min_weight_kg=40,
            has_boxed_warning=True,
            source="[S17][S24]",
        ),
        StatusFact(
            jurisdiction=EU, status="approved", min_age_years=12, min_weight_kg=30, futility_week=12, source="[S22]"
        ),
    ),
    regimens=(
        regimen("start", 15, "[S20]", US),
        regimen("escalation", 30, "[S20]", US),
        regimen("start", 15, "[S22]", EU),
        regimen("escalation", 30, "[S22]", EU),
    ),
    dose_adjustments=(
        adjust("age_65", "use_dose", "[S20][S22]", dose=15),
        adjust("class", "use_dose", "[S31][S32]", US, dose=15, klass="strong_cyp3a4_inhibitor", unconfirmed=True),
        adjust("class", "not_recommended", "[S30]", US, klass="strong_cyp3a4_inducer", unconfirmed=True),
        adjust("renal", "use_dose", "[S20][S25]", US, dose=15, egfr=(15, 30)),
        adjust("renal", "not_recommended", "[S21][S25]", US, egfr=(None, 15)),
        adjust("hepatic_c", "not_recommended", "[S21]", US),
        adjust("high_risk", "use_dose", "[S22]", EU, dose=15),
    ),
    boxed_warnings=boxed("[S20][S27]"),
    contraindications=(
        contra("hypersensitivity", "", US, unconfirmed=True),
        *(
            contra(c, "[S23]", EU)
            for c in ("hypersensitivity", "active_tb", "active_serious_infection", "severe_hepatic", "pregnancy")
        ),
    ),
    interactions=(
        interact("live_vaccine", "avoid", "[S25]"),
        interact("strong_cyp3a4_inhibitor", "adjust_dose", "[S31][S32]", US),
        *immunosuppression("[S27b]"),
    ),
    screening_items=(
        screen("tb", "required", "[S21]"),
        screen("hbv", "required", "[S21]", note="Monitor for hepatitis B reactivation."),
        screen("hcv", "required", "[S21]"),
        screen("cbc", "required", "[S21b]"),
        screen("liver", "required", "[S21b]"),
        screen("lipids", "advised", "[S21]"),
        screen("pregnancy", "required", "[S21]"),
        screen("vaccines", "required", "[S21][S25]"),
        screen("kidney", "advised", "[S20]"),
    ),
    thresholds=(
        *(
            limit(a, "baseline", v, "do_not_start", "[S21b][S27b][S22d]")
            for a, v in (("anc", "1.0"), ("alc", "0.5"), ("hb", "8"))
        ),
        *(
            limit(a, "on_treatment", v, "interrupt", "[S21b][S27b][S22d]", restart="Restart when above.")
            for a, v in (("anc", "1.0"), ("alc", "0.5"), ("hb", "8"))
        ),
    ),
    monitoring_rules=(monitor("upadacitinib", "lipids", "[S21][S22b]", first=12),),
)

# §2.3 Baricitinib -------------------------------------------------------------------------------------------------
BARICITINIB = DrugLabel(
    slug="baricitinib",
    name="Baricitinib",
    route="oral",
    statuses=(
        StatusFact(jurisdiction=US, status="other", has_boxed_warning=True, source="[S40b][S41]"),
        StatusFact(jurisdiction=EU, status="approved", min_age_years=2, futility_week=8, source="[S35][S36]"),
    ),
    regimens=(regimen("start", 4, "[S35]", EU), regimen("reduced", 2, "[S35b]", EU)),
    dose_adjustments=(
        adjust("age_65", "use_dose", "[S35b]", EU, dose=2),
        adjust("high_risk", "use_dose", "[S35b]", EU, dose=2),
        adjust("renal", "use_dose", "[S43][S44]", EU, dose=2, egfr=(30, 60)),
        adjust("renal", "not_recommended", "[S43]", EU, egfr=(None, 30)),
        adjust("class", "use_dose", "[S43][S44]", EU, dose=2, klass="strong_oat3_inhibitor"),
        adjust("hepatic_c", "not_recommended", "[S43]", EU),
    ),
    boxed_warnings=boxed("[S60][S62]"),
    contraindications=(contra("hypersensitivity", "[S45]", EU), contra("pregnancy", "[S45]", EU)),
    interactions=(interact("live_vaccine", "avoid", "[S46]"), *immunosuppression("[S46]")),
    screening_items=(
        screen("tb", "required", "[S37]"),
        screen("hbv", "required", "[S37][S47b]", note="HBsAg-negative but core-antibody positive: monitor HBV DNA."),
        screen("hcv", "required", "[S37]"),
        screen("cbc", "required", "[S37]"),
        screen("liver", "required", "[S37]"),
        screen("kidney", "required", "[S37]"),
        screen("vaccines", "required", "[S37][S48]"),
        screen("pregnancy", "required", "[S45]", EU),
    ),
    thresholds=(
        *(
            limit(a, "baseline", v, "do_not_start", "[S35][S44]")
            for a, v in (("anc", "1"), ("alc", "0.5"), ("hb", "8"))
        ),
        *(
            limit(a, "on_treatment", v, "interrupt", "[S35][S44]", restart="Restart when above.")
            for a, v in (("anc", "1"), ("alc", "0.5"), ("hb", "8"))
        ),
    ),
    monitoring_rules=(monitor("baricitinib", "lipids", "[S44]", first=12),),
)

# §2.4 Ruxolitinib cream -------------------------------------------------------------------------------------------
RUXOLITINIB = DrugLabel(
    slug="ruxolitinib",
    name="Ruxolitinib cream",
    route="topical",
    dose_unit="g",
    statuses=(
        StatusFact(
            jurisdiction=US,
            status="approved",
            min_age_years=2,
            has_boxed_warning=True,
            futility_week=8,
            source="[S53][S54][S55]",
        ),
        StatusFact(jurisdiction=EU, status="other", source="[S57][S58]"),
    ),
    topical_limits=(
        TopicalLimitFact(jurisdiction=US, max_bsa_percent=D(20), source="[S51][S52]"),
        TopicalLimitFact(jurisdiction=US, min_age_years=12, max_grams=D(60), per_days=7, source="[S51][S52]"),
        TopicalLimitFact(jurisdiction=US, min_age_years=12, max_grams=D(100), per_days=14, source="[S51][S52]"),
        TopicalLimitFact(
            jurisdiction=US, min_age_years=2, max_age_years=12, max_grams=D(60), per_days=14, source="[S51][S52]"
        ),
    ),
    boxed_warnings=boxed("[S51][S47]"),
    contraindications=(
        contra("immunocompromised", "[S53]", US, severity="not_recommended"),
        contra("pregnancy", "[S59b]", EU),
        contra("breastfeeding", "[S59b]", EU),
    ),
    interactions=(interact("strong_cyp3a4_inhibitor", "caution", "[S59][S47c]", EU), *immunosuppression("[S52]")),
    screening_items=(screen("tb", "consider", "[S47]"),),
)

# §2.5 Delgocitinib (Anzupgo; chronic hand eczema only) --------------------------------------------------------------
DELGOCITINIB = DrugLabel(
    slug="delgocitinib",
    name="Delgocitinib",
    route="topical",
    dose_unit="g",
    statuses=(
        StatusFact(jurisdiction=US, status="other", source="[S66][S70b]"),
        StatusFact(jurisdiction=EU, status="other", futility_week=12, source="[S67][S68]"),
    ),
    topical_limits=(
        TopicalLimitFact(jurisdiction=US, min_age_years=18, max_grams=D(30), per_days=14, source="[S66][S70]"),
        TopicalLimitFact(jurisdiction=US, min_age_years=18, max_grams=D(60), per_days=30, source="[S66][S70]"),
    ),
    contraindications=(
        contra("hypersensitivity", "[S67b]", EU),
        contra("pregnancy", "[S67b]", EU, severity="not_recommended"),
    ),
    interactions=(interact("live_vaccine", "avoid", "[S66][S71]"),),
    screening_items=(screen("vaccines", "required", "[S71]"),),
)

# §2.6 Gusacitinib -------------------------------------------------------------------------------------------------
GUSACITINIB = DrugLabel(
    slug="gusacitinib",
    name="Gusacitinib",
    route="oral",
    statuses=(
        StatusFact(jurisdiction=US, status="investigational", source="[S76]"),
        StatusFact(jurisdiction=EU, status="investigational", source="[S76]"),
    ),
)

# §2.7 Tofacitinib (context only) -----------------------------------------------------------------------------------
TOFACITINIB = DrugLabel(
    slug="tofacitinib",
    name="Tofacitinib",
    route="oral",
    statuses=(
        StatusFact(jurisdiction=US, status="other", has_boxed_warning=True, source="[S78][S79]"),
        StatusFact(jurisdiction=EU, status="other", source="[S78]"),
    ),
    regimens=(
        regimen("start", 5, "[S79]", frequency="twice daily"),
        regimen("start", 11, "[S79]", frequency="once daily (XR)"),
        regimen("maximum", 10, "[S79]", frequency="twice daily (UC induction)"),
    ),
    dose_adjustments=(
        # CLcr <= 50 mL/min: eGFR is reported in whole numbers, so "below 51".
        adjust("renal", "use_dose", "[S79][S80]", dose=5, egfr=(None, 51)),
        adjust("hepatic_b", "use_dose", "[S79]", dose=5),
        adjust("hepatic_c", "not_recommended", "[S79]"),
        adjust("class", "use_dose", "[S79][S80]", dose=5, klass="strong_cyp3a4_inhibitor"),
        adjust("class", "use_dose", "[S79][S80]", dose=5, klass="moderate_cyp3a4_strong_cyp2c19_inhibitor"),
        adjust("class", "not_recommended", "[S79][S80]", klass="strong_cyp3a4_inducer"),
    ),
    boxed_warnings=boxed("[S62]"),
    thresholds=(
        limit("alc", "baseline", "0.5", "do_not_start", "[S81][S80]", US),
        limit("anc", "baseline", "1.0", "do_not_start", "[S81][S80]", US),
        limit("hb", "baseline", "9", "do_not_start", "[S81][S80]", US),
        limit("alc", "baseline", "0.75", "do_not_start", "[S82][S83][S84]", EU),
        limit("anc", "baseline", "1.0", "do_not_start", "[S82][S83][S84]", EU),
        limit("hb", "baseline", "9", "do_not_start", "[S82][S83][S84]", EU),
        limit("alc", "on_treatment", "0.5", "discontinue", "[S81][S80]", US, restart="Confirmed."),
        limit("anc", "on_treatment", "1.0", "interrupt", "[S81][S80]", US, restart="Interrupt until above 1.0."),
        limit("anc", "on_treatment", "0.5", "discontinue", "[S81][S80]", US),
        limit("hb", "on_treatment", "8", "interrupt", "[S81][S80]", US),
    ),
    monitoring_rules=(
        # "4-8 weeks, then every 3 months": week 6 ± 14 days, then every 13 weeks.
        monitor("tofacitinib", "cbc", "[S82][S83]", EU, first=6, repeat=13, window=14),
        monitor("tofacitinib", "lipids", "[S82][S84]", EU, first=8),
        monitor("tofacitinib", "lipids", "[S84]", US, first=6, window=14),
    ),
)

ALL = (ABROCITINIB, UPADACITINIB, BARICITINIB, RUXOLITINIB, DELGOCITINIB, GUSACITINIB, TOFACITINIB)
BY_SLUG = {label.slug: label for label in ALL}
