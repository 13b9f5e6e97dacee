"""Plain, frozen mirrors of a drug's catalogue rows, as the clinical rule engines read them (no Django here).

An adapter turns ``drugs.models`` rows into these; tests build them by hand. Field names follow the model fields,
so the adapter is a field-for-field copy. Every fact carries ``jurisdiction`` ("ANY", "US" or "EU"), ``source``
(reference tags such as "[S1][S9]") and ``unconfirmed``. Lab values are in the lab test's canonical unit.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from decimal import Decimal
from typing import Any

ANY = "ANY"
US = "US"
EU = "EU"
JURISDICTIONS = (US, EU)


def applies(fact_jurisdiction: str, jurisdiction: str) -> bool:
    """A fact applies in the clinic's jurisdiction when it is that jurisdiction's row or an ANY row."""
    return fact_jurisdiction in (ANY, jurisdiction)


@dataclass(frozen=True, kw_only=True)
class Fact:
    jurisdiction: str = ANY
    source: str = ""
    unconfirmed: bool = False


@dataclass(frozen=True, kw_only=True)
class StatusFact(Fact):
    """RegulatoryStatus: status is "approved", "other" (other indications only) or "investigational"."""

    status: str
    min_age_years: int | None = None
    min_weight_kg: int | None = None
    has_boxed_warning: bool = False
    futility_week: int | None = None
    indication: str = ""


@dataclass(frozen=True, kw_only=True)
class RegimenFact(Fact):
    kind: str  # start / escalation / maximum / reduced / maintenance
    dose: Decimal | None = None
    frequency: str = "once daily"
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class DoseAdjustmentFact(Fact):
    """trigger: age_65, renal, hepatic_a/b/c, class, cyp2c19_pm, high_risk.

    action: use_dose, halve, no_change, not_recommended, avoid, contraindicated.
    Renal rows match when egfr_min <= eGFR < egfr_max (an open end matches everything on that side).
    """

    trigger: str
    action: str
    advice: str
    dose: Decimal | None = None
    interacting_class: str | None = None
    egfr_min: Decimal | None = None
    egfr_max: Decimal | None = None


@dataclass(frozen=True, kw_only=True)
class TopicalLimitFact(Fact):
    """Applies from min_age_years (inclusive) to max_age_years (exclusive)."""

    min_age_years: int | None = None
    max_age_years: int | None = None
    max_bsa_percent: Decimal | None = None
    max_grams: Decimal | None = None
    per_days: int | None = None
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class BoxedWarningFact(Fact):
    component: str  # serious_infections / mortality / malignancy / mace / thrombosis
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class ContraindicationFact(Fact):
    """condition: hypersensitivity, active_serious_infection, active_tb, pregnancy, breastfeeding,
    severe_hepatic, antiplatelet_3m, immunocompromised. severity: contraindicated or not_recommended."""

    condition: str
    severity: str = "contraindicated"
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class InteractionFact(Fact):
    """effect: contraindicated, avoid, adjust_dose, caution. within_days_of_start None = the whole course."""

    interacting_class: str
    effect: str
    within_days_of_start: int | None = None
    text: str = ""


@dataclass(frozen=True, kw_only=True)
class ScreeningItemFact(Fact):
    """item: tb, hbv, hcv, cbc, lipids, liver, kidney, pregnancy, vaccines. requirement: required/advised/consider."""

    item: str
    requirement: str
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class MonitoringRuleFact(Fact):
    """One line of a drug's monitoring protocol. drug_name names the drug in the rule text."""

    check_type: str
    drug_name: str = ""
    first_week: int | None = None
    repeat_every_weeks: int | None = None
    after_dose_increase_weeks: int | None = None
    window_days: int = 7
    note: str = ""


@dataclass(frozen=True, kw_only=True)
class ThresholdFact(Fact):
    """LabThreshold: when ``value <comparison> threshold`` the action applies.

    analyte is the lab test's key (platelets, anc, alc, hb…); analyte_name and unit are for messages; panel is
    the lab test's panel (cbc, lipids, liver…), used to plan the re-check after an interruption.
    phase: baseline / on_treatment. comparison: lt / le / gt / ge. action: do_not_start / interrupt / discontinue.
    """

    analyte: str
    phase: str
    comparison: str
    value: Decimal
    action: str
    analyte_name: str = ""
    unit: str = ""
    panel: str = ""
    restart_rule: str = ""


@dataclass(frozen=True, kw_only=True)
class DrugLabel:
    """One drug's label facts. Rows for both jurisdictions may be present; use ``for_jurisdiction``."""

    slug: str
    name: str
    route: str  # oral / topical
    dose_unit: str = "mg"
    statuses: tuple[StatusFact, ...] = ()
    regimens: tuple[RegimenFact, ...] = ()
    dose_adjustments: tuple[DoseAdjustmentFact, ...] = ()
    topical_limits: tuple[TopicalLimitFact, ...] = ()
    boxed_warnings: tuple[BoxedWarningFact, ...] = ()
    contraindications: tuple[ContraindicationFact, ...] = ()
    interactions: tuple[InteractionFact, ...] = ()
    screening_items: tuple[ScreeningItemFact, ...] = ()
    thresholds: tuple[ThresholdFact, ...] = ()
    monitoring_rules: tuple[MonitoringRuleFact, ...] = ()

    def for_jurisdiction(self, jurisdiction: str) -> DrugLabel:
        """The same label with only the rows that apply in ``jurisdiction`` (its own rows and ANY rows)."""
        if jurisdiction not in JURISDICTIONS:
            raise ValueError(f"jurisdiction must be one of {JURISDICTIONS}, not {jurisdiction!r}")
        changes: dict[str, Any] = {
            f.name: tuple(row for row in getattr(self, f.name) if applies(row.jurisdiction, jurisdiction))
            for f in fields(self)
            if isinstance(getattr(self, f.name), tuple)
        }
        return replace(self, **changes)

    def status(self, jurisdiction: str) -> StatusFact | None:
        return next((s for s in self.statuses if applies(s.jurisdiction, jurisdiction)), None)

    def regimen_doses(self, jurisdiction: str) -> frozenset[Decimal]:
        return frozenset(r.dose for r in self.regimens if r.dose is not None and applies(r.jurisdiction, jurisdiction))


# The interacting-class code of a planned live vaccine (catalogue class "live_vaccine").
LIVE_VACCINE_CLASS = "live_vaccine"
