"""The repeating parts of a drug's label, in the order the pages show them.

One table drives the detail page, the edit formsets, the snapshot used for history, and the seed loader.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import models

from drugs import models as m

COMMON = ("jurisdiction", "source", "unconfirmed")


@dataclass(frozen=True)
class Section:
    key: str  # URL part and seed key
    title: str
    model: type[models.Model]  # one of the Fact subclasses (each has a drug foreign key)
    related_name: str
    fields: tuple[str, ...]  # editable fields, in form order
    help: str = ""

    def rows(self, drug):
        return getattr(drug, self.related_name).all()


SECTIONS: tuple[Section, ...] = (
    Section(
        "statuses",
        "Regulatory status for atopic dermatitis",
        m.RegulatoryStatus,
        "statuses",
        (
            "jurisdiction",
            "status",
            "approval_year",
            "min_age_years",
            "min_weight_kg",
            "indication",
            "other_indications",
            "has_boxed_warning",
            "futility_week",
            "source",
            "unconfirmed",
        ),
        "One row for the US and one for the EU.",
    ),
    Section(
        "regimens",
        "Dosing regimens",
        m.Regimen,
        "regimens",
        (
            "jurisdiction",
            "kind",
            "dose",
            "frequency",
            "description",
            "min_age_years",
            "max_age_years",
            "min_weight_kg",
            "max_weight_kg",
            "source",
            "unconfirmed",
        ),
        "The doses a prescriber may choose (with the doses the dose adjustments name). A band (age from, below; "
        "weight from, below) limits a row to children or adolescents: a patient inside a band is dosed from the "
        "banded rows only. A dose not offered is refused at the safety check.",
    ),
    Section(
        "dose_adjustments",
        "Dose adjustments",
        m.DoseAdjustment,
        "dose_adjustments",
        (
            "jurisdiction",
            "trigger",
            "interacting_class",
            "renal_measure",
            "egfr_min",
            "egfr_max",
            "action",
            "dose",
            "frequency",
            "advice",
            "source",
            "unconfirmed",
        ),
        "Kidney bands apply when from ≤ value < below, in the label's own measure: eGFR, or creatinine clearance "
        "(Cockcroft-Gault from the latest creatinine, weight, age and sex).",
    ),
    Section(
        "topical_limits",
        "Topical limits",
        m.TopicalLimit,
        "topical_limits",
        (
            "jurisdiction",
            "min_age_years",
            "max_age_years",
            "max_bsa_percent",
            "max_grams",
            "per_days",
            "description",
            "source",
            "unconfirmed",
        ),
    ),
    Section(
        "boxed_warnings",
        "Boxed warning",
        m.BoxedWarning,
        "boxed_warnings",
        ("jurisdiction", "component", "text", "source", "unconfirmed"),
    ),
    Section(
        "contraindications",
        "Contraindications",
        m.Contraindication,
        "contraindications",
        ("jurisdiction", "condition", "severity", "text", "source", "unconfirmed"),
    ),
    Section(
        "interactions",
        "Interactions",
        m.Interaction,
        "interactions",
        ("jurisdiction", "interacting_class", "effect", "within_days_of_start", "text", "source", "unconfirmed"),
    ),
    Section(
        "screening_items",
        "Baseline screening",
        m.ScreeningItem,
        "screening_items",
        ("jurisdiction", "item", "requirement", "note", "source", "unconfirmed"),
    ),
    Section(
        "monitoring_rules",
        "Monitoring protocol",
        m.MonitoringRule,
        "monitoring_rules",
        (
            "jurisdiction",
            "check_type",
            "first_week",
            "repeat_every_weeks",
            "after_dose_increase_weeks",
            "window_days",
            "note",
            "source",
            "unconfirmed",
        ),
        "Weeks count from the start of the course. Baseline tests belong in Baseline screening.",
    ),
    Section(
        "thresholds",
        "Lab action thresholds",
        m.LabThreshold,
        "thresholds",
        (
            "jurisdiction",
            "lab_test",
            "phase",
            "comparison",
            "value",
            "action",
            "confirmed_action",
            "restart_rule",
            "source",
            "unconfirmed",
        ),
        "The value is in the lab test's canonical unit unless you pick another accepted unit. 'Action when "
        "confirmed' applies when the previous on-treatment result passed the level too.",
    ),
    Section(
        "infection_rules",
        "Serious infection on treatment",
        m.InfectionRule,
        "infection_rules",
        ("jurisdiction", "action", "text", "source", "unconfirmed"),
        "What the label says to do when a serious or opportunistic infection occurs: the advice of the alert after "
        "an infection symptom check.",
    ),
    Section(
        "adverse_reactions",
        "Common adverse reactions",
        m.AdverseReaction,
        "adverse_reactions",
        ("jurisdiction", "term", "plain_term", "frequency", "source", "unconfirmed"),
        "The clinical term is shown to staff; the plain wording goes on patient handouts.",
    ),
)

SECTIONS_BY_KEY = {section.key: section for section in SECTIONS}
DRUG_FIELDS = (
    "generic_name",
    "brand_names",
    "search_terms",
    "drug_class",
    "selectivity",
    "route",
    "forms_strengths",
    "dose_unit",
    "summary",
)
