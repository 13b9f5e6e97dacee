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
    """kind: start / escalation / maximum / reduced / maintenance / other_indication (a dose the label gives for
    another indication, offered only for off-label use).

    An optional age and weight band (min inclusive, max exclusive) limits the row to the patients inside it; a
    patient inside any row's age band is dosed from the banded rows only (clinical reference §9.3).
    """

    kind: str
    dose: Decimal | None = None
    frequency: str = "once daily"
    description: str = ""
    min_age_years: int | None = None
    max_age_years: int | None = None
    min_weight_kg: Decimal | None = None
    max_weight_kg: Decimal | None = None

    @property
    def has_age_band(self) -> bool:
        return self.min_age_years is not None or self.max_age_years is not None

    @property
    def has_weight_band(self) -> bool:
        return self.min_weight_kg is not None or self.max_weight_kg is not None

    def in_age_band(self, age: int) -> bool:
        return (self.min_age_years is None or age >= self.min_age_years) and (
            self.max_age_years is None or age < self.max_age_years
        )

    def in_weight_band(self, weight: Decimal) -> bool:
        return (self.min_weight_kg is None or weight >= self.min_weight_kg) and (
            self.max_weight_kg is None or weight < self.max_weight_kg
        )

    def band_text(self) -> str:
        """ "ages 12–17, 25 kg to under 59 kg" (empty for an unbanded row)."""
        parts = []
        if self.has_age_band:
            low, high = self.min_age_years, self.max_age_years
            if low is not None and high is not None:
                parts.append(f"ages {low}–{high - 1}")
            elif low is not None:
                parts.append(f"ages {low} and over")
            else:
                parts.append(f"under {high} years")
        if self.has_weight_band:
            low_w, high_w = self.min_weight_kg, self.max_weight_kg
            if low_w is not None and high_w is not None:
                parts.append(f"{_num(low_w)} kg to under {_num(high_w)} kg")
            elif low_w is not None:
                parts.append(f"{_num(low_w)} kg and over")
            elif high_w is not None:
                parts.append(f"under {_num(high_w)} kg")
        return ", ".join(parts)


@dataclass(frozen=True, kw_only=True)
class DoseAdjustmentFact(Fact):
    """trigger: age_65, renal, hepatic_a/b/c, class, cyp2c19_pm, high_risk.

    action: use_dose, halve, no_change, not_recommended, avoid, contraindicated.
    Renal rows match when egfr_min <= value < egfr_max (an open end matches everything on that side), where the
    value is the label's own measure of kidney function: ``renal_measure`` "egfr" (mL/min/1.73 m²) or "crcl"
    (Cockcroft-Gault creatinine clearance, mL/min; clinical reference §9.4).
    """

    trigger: str
    action: str
    advice: str
    dose: Decimal | None = None
    interacting_class: str | None = None
    egfr_min: Decimal | None = None
    egfr_max: Decimal | None = None
    renal_measure: str = "egfr"
    frequency: str = ""  # with use_dose: how often, when it differs from the regimen (tofacitinib 5 mg once daily)


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
    severe_hepatic, antiplatelet_3m, immunocompromised.

    severity: contraindicated, not_recommended (avoid: do not start unless overridden) or caution (a warning).
    """

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
    analyte_name: str = ""  # in words with the abbreviation: "neutrophils (ANC)"
    unit: str = ""
    panel: str = ""
    restart_rule: str = ""
    confirmed_action: str = ""  # the action when a second result confirms the first (e.g. discontinue)


@dataclass(frozen=True, kw_only=True)
class InfectionRuleFact(Fact):
    """What the label says to do when a serious infection occurs on treatment: action interrupt or discontinue."""

    action: str
    text: str = ""


@dataclass(frozen=True)
class DoseOption:
    """A dose the prescriber may choose for one patient: what the start and dose pages offer and the check accepts."""

    dose: Decimal
    frequency: str
    kind: str  # the regimen kind, or "advised" for a dose only a dose adjustment names
    band: str = ""  # the age/weight band it belongs to ("" for adults)
    off_label: bool = False  # a dose from another jurisdiction's label or another indication
    source: str = ""


@dataclass(frozen=True, kw_only=True)
class DrugLabel:
    """One drug's label facts. Rows for both jurisdictions may be present; use ``for_jurisdiction``."""

    slug: str
    name: str
    route: str  # oral / topical
    dose_unit: str = "mg"
    drug_class: str = "JAK inhibitor"
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
    infection_rules: tuple[InfectionRuleFact, ...] = ()

    @property
    def is_jak_inhibitor(self) -> bool:
        return "jak" in self.drug_class.lower()

    @property
    def is_systemic(self) -> bool:
        return self.route != "topical"

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

    def regimens_for(self, jurisdiction: str, age: int | None, weight_kg: Decimal | None) -> list[RegimenFact]:
        """The jurisdiction's dosed regimens for a patient of this age: the banded rows when the age falls in a
        band (weight not yet applied), else the unbanded rows. No age: the unbanded rows."""
        rows = [r for r in self.regimens if r.dose is not None and applies(r.jurisdiction, jurisdiction)]
        rows = [r for r in rows if r.kind != "other_indication"]
        banded = [r for r in rows if r.has_age_band and age is not None and r.in_age_band(age)]
        return banded or [r for r in rows if not r.has_age_band]

    def dose_options(self, jurisdiction: str, age: int | None, weight_kg: Decimal | None) -> list[DoseOption]:
        """Every dose the prescriber may choose for this patient, and the only doses the safety check accepts.

        The label's regimens for the patient's age and weight band; every dose a dose adjustment names ("use 50 mg")
        or halves to; and for off-label use (status "other" with no dose of its own in this jurisdiction) the doses
        the label gives for other indications or in the other jurisdiction, flagged off-label.
        """
        options: dict[tuple[Decimal, str], DoseOption] = {}

        def offer(dose: Decimal, frequency: str, kind: str, band: str, off_label: bool, source: str) -> None:
            options.setdefault((dose, frequency), DoseOption(dose, frequency, kind, band, off_label, source))

        rows = self.regimens_for(jurisdiction, age, weight_kg)
        if any(r.has_weight_band for r in rows):
            rows = [r for r in rows if weight_kg is not None and (not r.has_weight_band or r.in_weight_band(weight_kg))]
        for row in sorted(rows, key=lambda r: (r.dose or 0, r.kind)):
            offer(row.dose or Decimal(0), row.frequency, row.kind, row.band_text(), False, row.source)
        status = self.status(jurisdiction)
        if not options and status is not None and status.status == "other":
            others = [r for r in self.regimens if r.dose is not None and not r.has_age_band]
            for row in sorted(others, key=lambda r: (r.dose or 0, r.kind)):
                offer(row.dose or Decimal(0), row.frequency, row.kind, "", True, row.source)
        if not options:
            return []
        frequency = next(iter(options.values())).frequency
        banded = any(o.band for o in options.values())
        # Halving applies to the regular doses (a reduced dose is already the lowered one: abrocitinib 50 mg is not
        # halved to a 25 mg that no tablet gives).
        chosen = sorted({o.dose for o in options.values() if o.kind not in ("reduced", "advised")})
        for adjustment in self.dose_adjustments:
            if not applies(adjustment.jurisdiction, jurisdiction):
                continue
            if adjustment.action == "use_dose" and adjustment.dose is not None and not banded:
                offer(adjustment.dose, adjustment.frequency or frequency, "advised", "", False, adjustment.source)
            elif adjustment.action == "halve":
                for dose in chosen:
                    offer(dose / 2, frequency, "advised", "", False, adjustment.source)
        return sorted(options.values(), key=lambda o: (o.dose, o.frequency))


TIMES_A_DAY = {"once daily": 1, "twice daily": 2, "three times daily": 3}


def daily_amount(dose: Decimal, frequency: str) -> Decimal | None:
    """Dose × times a day for the frequencies the catalogue uses; None when the frequency is not a daily one."""
    times = TIMES_A_DAY.get((frequency or "once daily").strip().lower())
    return dose * times if times is not None else None


def _num(value: Decimal) -> str:
    return f"{Decimal(value).normalize():f}"


# The interacting-class code of a planned live vaccine (catalogue class "live_vaccine").
LIVE_VACCINE_CLASS = "live_vaccine"
