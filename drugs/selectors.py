"""Reads for the catalogue pages: each page's data in a fixed, small number of queries."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any

from django.core.cache import cache
from django.db.models import Prefetch, Q, QuerySet

from drugs import label as L
from drugs.models import (
    CatalogueVersion,
    DoseAdjustment,
    Drug,
    Interaction,
    LabThreshold,
    RegulatoryStatus,
    Source,
)
from drugs.sections import SECTIONS


def _terms(drug: Drug) -> list[str]:
    words = [drug.generic_name, drug.slug, *drug.brand_names.split(","), *drug.search_terms.split(",")]
    return [w.strip().lower() for w in words if w.strip()]


def drug_search(*, query: str = "", route: str = "", status: str = "", jurisdiction: str = "US") -> Sequence[Drug]:
    """Drugs matching a generic name, brand name, code or misspelling, with their status in ``jurisdiction``."""
    drugs = list(
        Drug.objects.prefetch_related(
            Prefetch(
                "statuses", queryset=RegulatoryStatus.objects.filter(jurisdiction=jurisdiction), to_attr="status_here"
            )
        ).order_by("generic_name")
    )
    if route:
        drugs = [d for d in drugs if d.route == route]
    if status:
        drugs = [d for d in drugs if d.status_here and d.status_here[0].status == status]
    query = query.strip().lower()
    if not query:
        return drugs
    exact = [d for d in drugs if any(query in term for term in _terms(d))]
    if exact:
        return exact
    # A misspelling: the closest names by similarity (the catalogue is small, so this is cheap).
    return [d for d in drugs if difflib.get_close_matches(query, _terms(d), n=1, cutoff=0.75)]


def _display(row, field_name: str) -> str:
    field = row._meta.get_field(field_name)
    value = getattr(row, field_name)
    if value is None or value == "":
        return "—"
    if field.choices:
        return str(getattr(row, f"get_{field_name}_display")())
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if hasattr(value, "normalize"):
        return f"{value.normalize():f}"
    return str(value)


HIDDEN_IN_TABLE = {"source", "unconfirmed", "jurisdiction"}


def _cell(row, field_name: str, dose_unit: str) -> str:
    text = _display(row, field_name)
    if text == "—":
        return text
    if field_name == "value" and hasattr(row, "lab_test"):
        return f"{text} {row.lab_test.canonical_unit}"
    if field_name == "dose":
        return f"{text} {dose_unit}"
    return text


def section_table(section, rows, dose_unit: str = "mg") -> dict:
    fields = [f for f in section.fields if f not in HIDDEN_IN_TABLE]
    headers = [str(section.model._meta.get_field(f).verbose_name).capitalize() for f in fields]
    headers = ["Value" if h.startswith("Value") else h for h in headers]
    body = [
        {
            "cells": [_cell(row, f, dose_unit) for f in fields],
            "jurisdiction": row.get_jurisdiction_display(),
            "source": row.source,
            "unconfirmed": row.unconfirmed,
        }
        for row in rows
    ]
    return {"headers": headers, "rows": body}


def monitoring_timeline(rules, *, markers: bool = True) -> list[dict]:
    """Monitoring rules grouped by the week they first fall due (repeats described in words). ``markers=False``
    leaves off the "(unconfirmed)" a clinician needs and a patient or GP reads as doubt."""
    weeks: dict[int, list[str]] = {}
    for rule in rules:
        if rule.first_week is None:
            continue
        text = rule.get_check_type_display()
        if rule.repeat_every_weeks:
            text += f", then every {rule.repeat_every_weeks} weeks"
        if markers and rule.unconfirmed:
            text += " (unconfirmed)"
        weeks.setdefault(rule.first_week, []).append(text)
    return [{"week": week, "items": items} for week, items in sorted(weeks.items())]


@dataclass
class DrugPage:
    drug: Drug
    sections: list[dict]
    sources: list[Source]
    unconfirmed_count: int
    statuses: list[RegulatoryStatus]
    timeline: list[dict]


def drug_detail(*, slug: str, jurisdiction: str | None) -> DrugPage | None:
    """The drug and every label section, filtered to one jurisdiction (ANY rows always apply)."""
    drug = Drug.objects.filter(slug=slug).select_related("updated_by").first()
    if drug is None:
        return None
    sections: list[dict[str, Any]] = []
    tags: set[str] = set()
    unconfirmed = 0
    for section in SECTIONS:
        rows = section.rows(drug)
        if section.model is LabThreshold:
            rows = rows.select_related("lab_test")
        elif section.key in ("interactions", "dose_adjustments"):
            rows = rows.select_related("interacting_class")
        if jurisdiction:
            rows = rows.filter(Q(jurisdiction="ANY") | Q(jurisdiction=jurisdiction))
        if section.key == "statuses":
            rows = rows.order_by("-jurisdiction")
        rows = list(rows)
        for row in rows:
            tags.update(t.strip("[] ") for t in row.source.replace("][", "] [").split() if t.startswith("["))
            unconfirmed += row.unconfirmed
        sections.append({"section": section, "rows": rows, "table": section_table(section, rows, drug.dose_unit)})
    sources = list(Source.objects.filter(tag__in=tags).order_by("tag"))
    by_key = {entry["section"].key: entry["rows"] for entry in sections}
    return DrugPage(
        drug=drug,
        sections=sections,
        sources=sources,
        unconfirmed_count=unconfirmed,
        statuses=by_key["statuses"],
        timeline=monitoring_timeline(by_key["monitoring_rules"]),
    )


def drug_versions(drug: Drug) -> QuerySet:
    return drug.versions.select_related("created_by").order_by("-id")


URGENCY_ORDER = ("emergency", "same_day", "next_visit")


def handout(*, slug: str, jurisdiction: str) -> dict | None:
    """What a patient handout says for a drug: plain wordings only, from the catalogue (a fixed number of queries).
    No source tags or "unconfirmed" markers: those are for clinicians, on the drug's page."""
    from drugs.models import WarningSign

    drug = Drug.objects.filter(slug=slug).first()
    if drug is None:
        return None
    here = Q(jurisdiction="ANY") | Q(jurisdiction=jurisdiction)
    seen: set[str] = set()
    side_effects = []
    for reaction in drug.adverse_reactions.filter(here).order_by("id"):
        if reaction.plain_term.lower() not in seen:
            seen.add(reaction.plain_term.lower())
            side_effects.append(reaction.plain_term)
    signs = list(WarningSign.objects.order_by("display_order", "id"))
    groups = []
    for urgency in URGENCY_ORDER:
        rows = [s for s in signs if s.urgency == urgency]
        if rows:
            groups.append({"urgency": urgency, "title": rows[0].get_urgency_display(), "signs": rows})
    checks = monitoring_timeline(drug.monitoring_rules.filter(here), markers=False)
    conditions = set(drug.contraindications.filter(here).values_list("condition", flat=True))
    live_vaccines = drug.interactions.filter(here, interacting_class__code="live_vaccine").exists()
    return {
        "drug": drug,
        "side_effects": side_effects[:12],
        "sign_groups": groups,
        "checks": checks,
        "pregnancy_contraindicated": "pregnancy" in conditions,
        "breastfeeding_contraindicated": "breastfeeding" in conditions,
        "live_vaccines": live_vaccines,
    }


# --- The drug label the rule engines read -----------------------------------------------------------------------


def _common(row) -> dict:
    return {"jurisdiction": row.jurisdiction, "source": row.source, "unconfirmed": row.unconfirmed}


def _status_facts(rows) -> tuple:
    return tuple(
        L.StatusFact(
            **_common(r),
            status=r.status,
            min_age_years=r.min_age_years,
            min_weight_kg=r.min_weight_kg,
            has_boxed_warning=r.has_boxed_warning,
            futility_week=r.futility_week,
            indication=r.indication,
        )
        for r in rows
    )


def _regimen_facts(rows) -> tuple:
    return tuple(
        L.RegimenFact(
            **_common(r),
            kind=r.kind,
            dose=r.dose,
            frequency=r.frequency,
            description=r.description,
            min_age_years=r.min_age_years,
            max_age_years=r.max_age_years,
            min_weight_kg=r.min_weight_kg,
            max_weight_kg=r.max_weight_kg,
        )
        for r in rows
    )


def _adjustment_facts(rows) -> tuple:
    return tuple(
        L.DoseAdjustmentFact(
            **_common(r),
            trigger=r.trigger,
            action=r.action,
            advice=r.advice,
            dose=r.dose,
            interacting_class=r.interacting_class.code if r.interacting_class else None,
            egfr_min=r.egfr_min,
            egfr_max=r.egfr_max,
            renal_measure=r.renal_measure,
            frequency=r.frequency,
        )
        for r in rows
    )


# The labels are built once per catalogue version and kept in Django's cache (CACHES, README "Settings"). Every
# catalogue write makes a new CatalogueVersion in the same transaction, so the newest version's number and time name
# the catalogue's state exactly: a new version is a new key on every app server, and nothing is invalidated by hand.
# The time guards against a number used twice (a rolled-back write on SQLite, a restored backup); the schema
# fingerprint against a cached label of another release's dataclasses (a deploy with a shared cache).
LABEL_CACHE_SECONDS = 24 * 60 * 60
_LABEL_SCHEMA = hashlib.sha256(
    repr(
        sorted(
            (cls.__name__, tuple((f.name, str(f.type)) for f in fields(cls)))
            for cls in vars(L).values()
            if isinstance(cls, type) and is_dataclass(cls)
        )
    ).encode()
).hexdigest()[:12]

_LABEL_PREFETCH = (
    "statuses",
    "regimens",
    Prefetch(
        "dose_adjustments",
        queryset=DoseAdjustment.objects.select_related("interacting_class").order_by(
            "jurisdiction", "trigger", "egfr_min", "id"
        ),
    ),
    "topical_limits",
    "boxed_warnings",
    "contraindications",
    Prefetch("interactions", queryset=Interaction.objects.select_related("interacting_class")),
    "screening_items",
    Prefetch(
        "thresholds", queryset=LabThreshold.objects.select_related("lab_test").prefetch_related("lab_test__units")
    ),
    "monitoring_rules",
    "infection_rules",
)


def _catalogue_state() -> str:
    """The newest catalogue version as "<number>-<time>" (one query); "0" before anything is loaded."""
    latest = CatalogueVersion.objects.order_by("-id").values_list("id", "created_at").first()
    return "0" if latest is None else f"{latest[0]}-{latest[1].timestamp():.6f}"


def _label_key(state: str, drug_pk: int) -> str:
    return f"drugs:label:{_LABEL_SCHEMA}:{state}:{drug_pk}"


def _build_label(drug: Drug) -> L.DrugLabel:
    """Every catalogue fact of ``drug`` as a ``DrugLabel``; reads the relations ``_LABEL_PREFETCH`` loads."""
    name = str(drug)
    return L.DrugLabel(
        slug=drug.slug,
        name=name,
        route=drug.route,
        dose_unit=drug.dose_unit,
        drug_class=drug.drug_class,
        statuses=_status_facts(drug.statuses.all()),
        regimens=_regimen_facts(drug.regimens.all()),
        dose_adjustments=_adjustment_facts(drug.dose_adjustments.all()),
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
            for r in drug.interactions.all()
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
                analyte_name=r.lab_test.finding_name,
                unit=r.lab_test.unit_label,
                panel=r.lab_test.panel,
                restart_rule=r.restart_rule,
                confirmed_action=r.confirmed_action,
            )
            for r in drug.thresholds.all()
        ),
        monitoring_rules=tuple(
            L.MonitoringRuleFact(
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
        infection_rules=tuple(
            L.InfectionRuleFact(**_common(r), action=r.action, text=r.text) for r in drug.infection_rules.all()
        ),
    )


def _labels(drug_pks: Sequence[int]) -> dict[int, L.DrugLabel]:
    """The labels of these drugs at the current catalogue version: one query for the version and one cache read when
    they are cached; otherwise built from the database (1 + 12 queries for any number of drugs) and cached."""
    state = _catalogue_state()
    keys = {pk: _label_key(state, pk) for pk in drug_pks}
    cached = cache.get_many(list(keys.values()))
    labels = {pk: cached[key] for pk, key in keys.items() if key in cached}
    missing = [pk for pk in keys if pk not in labels]
    if missing:
        # Fresh rows, not the caller's instances: those may hold relations prefetched before a catalogue change.
        built = {d.pk: _build_label(d) for d in Drug.objects.filter(pk__in=missing).prefetch_related(*_LABEL_PREFETCH)}
        cache.set_many({keys[pk]: label for pk, label in built.items()}, LABEL_CACHE_SECONDS)
        labels.update(built)
    return labels


def drug_label(drug: Drug) -> L.DrugLabel:
    """Adapter: every catalogue fact of ``drug``, both jurisdictions, as the plain ``DrugLabel`` the engines read
    (they filter with ``for_jurisdiction``). Built once per catalogue version and cached (``_labels``): 1 query and a
    cache read when cached."""
    return _labels([drug.pk])[drug.pk]


def dosing_labels(drugs=None) -> dict[Drug, L.DrugLabel]:
    """Each drug's label, for ``DrugLabel.dose_options`` (the doses the start and dose pages offer), in the order of
    their names: 2 queries (the drugs and the catalogue version) when the labels are cached."""
    drugs = Drug.objects.all() if drugs is None else drugs
    drugs = list(drugs.order_by("generic_name"))
    labels = _labels([drug.pk for drug in drugs])
    return {drug: labels[drug.pk] for drug in drugs if drug.pk in labels}
