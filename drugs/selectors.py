"""Reads for the catalogue pages: each page's data in a fixed, small number of queries."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Prefetch, Q, QuerySet

from drugs.models import Drug, LabThreshold, RegulatoryStatus, Source
from drugs.sections import SECTIONS


def _terms(drug: Drug) -> list[str]:
    words = [drug.generic_name, drug.slug, *drug.brand_names.split(","), *drug.search_terms.split(",")]
    return [w.strip().lower() for w in words if w.strip()]


def drug_search(*, query: str = "", route: str = "", status: str = "", jurisdiction: str = "US") -> list[Drug]:
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


def monitoring_timeline(rules) -> list[dict]:
    """Monitoring rules grouped by the week they first fall due (repeats described in words)."""
    weeks: dict[int, list[str]] = {}
    for rule in rules:
        if rule.first_week is None:
            continue
        text = rule.get_check_type_display()
        if rule.repeat_every_weeks:
            text += f", then every {rule.repeat_every_weeks} weeks"
        if rule.unconfirmed:
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
    sections = []
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
    """What a patient handout says for a drug: plain wordings only, from the catalogue (a fixed number of queries)."""
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
    checks = monitoring_timeline(drug.monitoring_rules.filter(here))
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
        "sources": sorted({t for s in signs for t in s.source.replace("][", "] [").split()}),
    }
