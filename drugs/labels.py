"""Adapter: a drug's catalogue rows as the plain ``DrugLabel`` the rule engines read (monitoring/label.py)."""

from __future__ import annotations

from drugs.models import Drug
from monitoring import label as L


def _common(row) -> dict:
    return {"jurisdiction": row.jurisdiction, "source": row.source, "unconfirmed": row.unconfirmed}


def unit_label(lab_test) -> str:
    """How a clinician writes the canonical unit (e.g. ×10³/µL for 10*3/uL), from the lab test's accepted units."""
    for unit in lab_test.units.all():
        if unit.unit == lab_test.canonical_unit:
            return unit.label
    return lab_test.canonical_unit


def drug_label(drug: Drug) -> L.DrugLabel:
    """Every fact of ``drug`` for both jurisdictions (the engines filter with ``for_jurisdiction``)."""
    name = str(drug)
    return L.DrugLabel(
        slug=drug.slug,
        name=name,
        route=drug.route,
        dose_unit=drug.dose_unit,
        statuses=tuple(
            L.StatusFact(
                **_common(r),
                status=r.status,
                min_age_years=r.min_age_years,
                min_weight_kg=r.min_weight_kg,
                has_boxed_warning=r.has_boxed_warning,
                futility_week=r.futility_week,
                indication=r.indication,
            )
            for r in drug.statuses.all()
        ),
        regimens=tuple(
            L.RegimenFact(**_common(r), kind=r.kind, dose=r.dose, frequency=r.frequency, description=r.description)
            for r in drug.regimens.all()
        ),
        dose_adjustments=tuple(
            L.DoseAdjustmentFact(
                **_common(r),
                trigger=r.trigger,
                action=r.action,
                advice=r.advice,
                dose=r.dose,
                interacting_class=r.interacting_class.code if r.interacting_class else None,
                egfr_min=r.egfr_min,
                egfr_max=r.egfr_max,
            )
            for r in drug.dose_adjustments.select_related("interacting_class")
        ),
        topical_limits=tuple(
            L.TopicalLimitFact(
                **_common(r),
                min_age_years=r.min_age_years,
                max_age_years=r.max_age_years,
                max_bsa_percent=r.max_bsa_percent,
                max_grams=r.max_grams,
                per_days=r.per_days,
                description=r.description,
            )
            for r in drug.topical_limits.all()
        ),
        boxed_warnings=tuple(
            L.BoxedWarningFact(**_common(r), component=r.component, text=r.text) for r in drug.boxed_warnings.all()
        ),
        contraindications=tuple(
            L.ContraindicationFact(**_common(r), condition=r.condition, severity=r.severity, text=r.text)
            for r in drug.contraindications.all()
        ),
        interactions=tuple(
            L.InteractionFact(
                **_common(r),
                interacting_class=r.interacting_class.code,
                effect=r.effect,
                within_days_of_start=r.within_days_of_start,
                text=r.text,
            )
            for r in drug.interactions.select_related("interacting_class")
        ),
        screening_items=tuple(
            L.ScreeningItemFact(**_common(r), item=r.item, requirement=r.requirement, note=r.note)
            for r in drug.screening_items.all()
        ),
        thresholds=tuple(
            L.ThresholdFact(
                **_common(r),
                analyte=r.lab_test.analyte,
                phase=r.phase,
                comparison=r.comparison,
                value=r.value,
                action=r.action,
                analyte_name=r.lab_test.short_name,
                unit=unit_label(r.lab_test),
                panel=r.lab_test.panel,
                restart_rule=r.restart_rule,
            )
            for r in drug.thresholds.select_related("lab_test").prefetch_related("lab_test__units")
        ),
        monitoring_rules=tuple(
            L.MonitoringRuleData(
                **_common(r),
                check_type=r.check_type,
                drug_name=name,
                first_week=r.first_week,
                repeat_every_weeks=r.repeat_every_weeks,
                after_dose_increase_weeks=r.after_dose_increase_weeks,
                window_days=r.window_days,
                note=r.note,
            )
            for r in drug.monitoring_rules.all()
        ),
    )
