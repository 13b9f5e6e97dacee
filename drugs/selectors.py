"""Reads for the catalogue pages: each page's data in a fixed, small number of queries."""

from __future__ import annotations

import difflib
import functools
import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, is_dataclass
from typing import Any, TypeVar

from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import F, Prefetch, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from drugs import label as L
from drugs.models import (
    CatalogueVersion,
    DoseAdjustment,
    Drug,
    DrugCode,
    Interaction,
    LabTest,
    LabThreshold,
    LabUnit,
    RegulatoryStatus,
    Source,
)
from drugs.sections import SECTIONS, SECTIONS_BY_KEY
from drugs.snapshot import row_label
from portal import wording
from portal.audit import field_words
from portal.wording import FieldWords

HISTORY_PAGE_SIZE = 10
T = TypeVar("T")
_ORDER_WORDS = re.compile(r"[a-z0-9]+")


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


@functools.cache
def _choice_labels(field) -> dict:
    """A field's choice labels (lazy: translated when shown). get_<field>_display() hashes every choice on each
    call; the drug page's tables made hundreds of those calls (bench/profile_page.py)."""
    return dict(field.flatchoices)


def _choice_text(row, field_name: str) -> str:
    """``str(row.get_<field_name>_display())``, from ``_choice_labels``."""
    field = row._meta.get_field(field_name)
    value = getattr(row, field.attname)
    return str(_choice_labels(field).get(value, value))


def _display(row, field_name: str) -> str:
    field = row._meta.get_field(field_name)
    value = getattr(row, field_name)
    if value is None or value == "":
        return "—"
    if field.choices:
        return _choice_text(row, field_name)
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
            "jurisdiction": _choice_text(row, "jurisdiction"),
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
        text = _choice_text(rule, "check_type")
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
    codes: list[CodeLine]
    tags: list[str]  # the source tags the rows cite (``sources_for``)


def sources_for(tags) -> list[Source]:
    """The sources with these tags, by tag (one query)."""
    return list(Source.objects.filter(tag__in=tags).order_by("tag"))


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
    sources = sources_for(tags)
    by_key = {entry["section"].key: entry["rows"] for entry in sections}
    return DrugPage(
        drug=drug,
        sections=sections,
        sources=sources,
        unconfirmed_count=unconfirmed,
        statuses=by_key["statuses"],
        timeline=monitoring_timeline(by_key["monitoring_rules"]),
        codes=drug_code_lines(drug),
        tags=sorted(tags),
    )


def drug_versions(drug: Drug) -> QuerySet:
    """The drug's versions, newest first, each with ``drug_number``: 1, 2, 3 … in the order of the drug's own
    history (the catalogue version number, its primary key, counts every drug's changes)."""
    return (
        drug.versions.select_related("created_by")
        .annotate(drug_number=Window(RowNumber(), order_by=F("id").asc()))
        .order_by("-id")
    )


def drug_version_number(version: CatalogueVersion) -> int:
    """The version's number in its drug's history (one query)."""
    drug_id = version.drug_id
    if drug_id is None:  # a deleted drug's or a lab test's version: no drug history to count in
        return 0
    return CatalogueVersion.objects.filter(drug_id=drug_id, id__lte=version.id).count()


# --- The history page in words: field labels, choice labels and units instead of the stored codes -------------------

DOSE_UNIT = "<dose unit>"  # the drug's dose unit, passed with the lab tests (not an analyte)
_ROW_KEYS = ("jurisdiction", "kind", "trigger", "component", "condition", "item", "check_type", "lab_test", "status")
_ROW_DETAIL_KEYS = ("phase", "interacting_class", "dose", "first_week")


@dataclass(frozen=True)
class HistoryRow:
    part: str  # the section's title ("Lab action thresholds")
    row: str  # the row in words ("US · ANC · On treatment")
    change: str  # "Changed", "Added", "Removed"
    field: str  # the field's label, for a change
    before: str
    after: str


def _lab_tests_by_analyte() -> dict[str, LabTest]:
    return {t.analyte: t for t in LabTest.objects.with_unit_labels()}


# History parts that are not label sections: the drug's own fields and its terminology codes.
_OWN_PARTS: dict[str, tuple[str, type]] = {"drug": ("Drug", Drug), "codes": ("Drug codes", DrugCode)}


@functools.cache
def _section_words(model) -> dict[str, FieldWords]:
    return field_words(model)


def _words_of(section_key: str, field: str, row: dict, tests: dict[str, LabTest]) -> FieldWords:
    model = _OWN_PARTS[section_key][1] if section_key in _OWN_PARTS else SECTIONS_BY_KEY[section_key].model
    words = _section_words(model).get(field, FieldWords(field.replace("_", " ")))
    if model is LabThreshold and field == "value":
        test = tests.get(str(row.get("lab_test")))
        return FieldWords("action level", kind=wording.NUMBER, unit=test.unit_label if test else "")
    if field == "dose" and words.kind == wording.NUMBER and DOSE_UNIT in tests:
        return FieldWords(words.label, kind=wording.NUMBER, unit=str(tests[DOSE_UNIT]))
    return words


def _value_words(section_key: str, field: str, value: Any, row: dict, tests: dict[str, LabTest]) -> str:
    if field == "lab_test" and str(value) in tests:
        return tests[str(value)].short_name
    return wording.value_text(value, _words_of(section_key, field, row, tests))


def _row_words(section_key: str, row: dict, tests: dict[str, LabTest]) -> str:
    """The row named as the history's ``row_label`` does, in words: "US · ANC · On treatment"."""
    if not row:
        return ""
    parts = []
    if row.get("jurisdiction"):
        parts.append(_value_words(section_key, "jurisdiction", row["jurisdiction"], row, tests))
    for key in _ROW_KEYS[1:]:
        if row.get(key) not in (None, ""):
            parts.append(_value_words(section_key, key, row[key], row, tests))
            break
    for key in _ROW_DETAIL_KEYS:
        if row.get(key) not in (None, ""):
            value = _value_words(section_key, key, row[key], row, tests)
            parts.append(value if key == "phase" else f"{_words_of(section_key, key, row, tests).label} {value}")
    return " · ".join(parts)


def _values_words(section_key: str, row: dict, tests: dict[str, LabTest]) -> str:
    return "; ".join(
        f"{wording.sentence_case(_words_of(section_key, k, row, tests).label)}: "
        f"{_value_words(section_key, k, v, row, tests)}"
        for k, v in row.items()
        if v not in (None, "")
    )


def _changed_row(version: CatalogueVersion, section_key: str, label: str) -> dict:
    """The values of the row a change names, from the version's snapshot (the changes keep only its label)."""
    for row in (version.snapshot or {}).get("sections", {}).get(section_key, {}).values():
        if row_label(section_key, row) == label:
            return row
    return {}


def history_rows(version: CatalogueVersion, tests: dict[str, LabTest]) -> list[HistoryRow]:
    rows = []
    for change in version.changes or []:
        key = change.get("section", "drug")
        part = (
            _OWN_PARTS[key][0] if key in _OWN_PARTS else SECTIONS_BY_KEY[key].title if key in SECTIONS_BY_KEY else key
        )
        if change.get("change") == "changed":
            values = _changed_row(version, key, change.get("row", "")) if key != "drug" else {}
            field = change.get("field", "")
            rows.append(
                HistoryRow(
                    part=part,
                    row=_row_words(key, values, tests) or (change.get("row") or "—"),
                    change="Changed",
                    field=wording.sentence_case(_words_of(key, field, values, tests).label),
                    before=_value_words(key, field, change.get("old"), values, tests),
                    after=_value_words(key, field, change.get("new"), values, tests),
                )
            )
        else:
            values = change.get("values") or {}
            shown = _values_words(key, values, tests)
            added = change.get("change") == "added"
            rows.append(
                HistoryRow(
                    part=part,
                    row=(_row_words(key, values, tests) or change.get("row") or "—") if key != "drug" else "—",
                    change="Added" if added else "Removed",
                    field="",
                    before="" if added else shown,
                    after=shown if added else "",
                )
            )
    return rows


def drug_history(drug: Drug, page: int | str | None) -> Any:
    """One page of the drug's history in words (3 queries: the count, the versions, the lab tests' units)."""
    page_obj = Paginator(drug_versions(drug), HISTORY_PAGE_SIZE).get_page(page)
    tests: dict[str, Any] = _lab_tests_by_analyte() if any(v.changes for v in page_obj) else {}
    tests[DOSE_UNIT] = drug.dose_unit
    for version in page_obj:
        version.rows = history_rows(version, tests)
    return page_obj


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


def _catalogue_key(state: str, name: str) -> str:
    """The key of anything else built from the catalogue, keyed like the labels (``_label_key``)."""
    return f"drugs:{name}:{_LABEL_SCHEMA}:{state}"


def per_catalogue_version(name: str, build: Callable[[], T]) -> T | None:
    """``build()``, made once per catalogue version and kept in the cache like the labels (one query for the version
    and one cache read when cached). ``name`` says what is built and for which arguments ("page:abrocitinib:US");
    a result of None (nothing to show) is not kept."""
    key = _catalogue_key(_catalogue_state(), name)
    value = cache.get(key)
    if value is None:
        value = build()
        if value is not None:
            cache.set(key, value, LABEL_CACHE_SECONDS)
    return value


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


# The lab tests with their units and the lab thresholds, for pages that show results (the patient page's trends and
# timeline): the same cache and key scheme as the labels above, so an edit of a lab test, its units or a drug's
# thresholds (each a new catalogue version) is a new key. The fingerprint is of the models' fields: a cached
# instance of another release's model is never read.
_LAB_CATALOGUE_SCHEMA = hashlib.sha256(
    repr(
        [[f.attname for f in model._meta.concrete_fields] for model in (LabTest, LabUnit, LabThreshold, Drug)]
    ).encode()
).hexdigest()[:12]


@dataclass(frozen=True)
class LabCatalogue:
    tests: dict[int, LabTest]  # every lab test by id, its units loaded (``with_unit_labels``)
    thresholds: tuple[LabThreshold, ...]  # every drug's lab thresholds with their drugs, in the model's order


def _lab_catalogue_key(state: str) -> str:
    return f"drugs:lab_catalogue:{_LAB_CATALOGUE_SCHEMA}:{state}"


def lab_catalogue() -> LabCatalogue:
    """The catalogue's lab tests and thresholds at the current catalogue version: one query (the version) and a
    cache read when cached; otherwise 3 more queries, then cached."""
    key = _lab_catalogue_key(_catalogue_state())
    catalogue = cache.get(key)
    if catalogue is None:
        catalogue = LabCatalogue(
            tests={t.pk: t for t in LabTest.objects.with_unit_labels()},
            thresholds=tuple(LabThreshold.objects.select_related("drug")),
        )
        cache.set(key, catalogue, LABEL_CACHE_SECONDS)
    return catalogue


# --- Drug codes (RxNorm, ATC) ------------------------------------------------------------------------------------

RXNAV_URL = "https://mor.nlm.nih.gov/RxNav/search?searchBy=RXCUI&searchTerm={code}"
ATC_INDEX_URL = "https://atcddd.fhi.no/atc_ddd_index/?code={code}"


def drug_codes_for(drugs) -> dict[int, dict[str, DrugCode]]:
    """The terminology codes of ``drugs`` (Drug objects or ids), by drug id and then system ("rxnorm", "atc").
    One query for any number of drugs; a drug without codes maps to an empty dict."""
    ids = [getattr(d, "pk", d) for d in drugs]
    found: dict[int, dict[str, DrugCode]] = {drug_id: {} for drug_id in ids}
    for code in DrugCode.objects.filter(drug_id__in=ids).order_by("drug_id", "system"):
        found.setdefault(code.drug_id, {})[code.system] = code
    return found


@dataclass(frozen=True)
class CodeLine:
    """One code system of a drug as its pages show it: the code, or that there is none, and how to check it."""

    system: str
    label: str
    code: DrugCode | None
    lookup_url: str
    missing_note: str


def drug_code_lines(drug: Drug, codes: dict[str, DrugCode] | None = None) -> list[CodeLine]:
    codes = drug_codes_for([drug])[drug.pk] if codes is None else codes
    lines = []
    for system, label in DrugCode.System.choices:
        code = codes.get(system)
        template = RXNAV_URL if system == DrugCode.System.RXNORM else ATC_INDEX_URL
        missing = (
            "No RxNorm code: FHIR exports send the name only (and the ATC code, if any)."
            if system == DrugCode.System.RXNORM
            else "No ATC code: European systems receive the name and the RxNorm code only."
        )
        lines.append(
            CodeLine(
                system=system,
                label=str(label),
                code=code,
                lookup_url=template.format(code=code.code) if code else "",
                missing_note="" if code else missing,
            )
        )
    return lines


def drug_for_order(*, rxnorm_codes: Sequence[str], names: Sequence[str]) -> tuple[Drug | None, str]:
    """The catalogue drug an EHR's order is for, and how it was found: ``"rxnorm"`` when one of ``rxnorm_codes`` is
    the drug's RxNorm code (``DrugCode``), ``"name"`` when one of ``names`` (a code's display, the order's text) holds
    the generic name, a brand name or a search term as whole words, ``""`` (and None) when it is no catalogue drug.
    Two queries at most."""
    codes = [c.strip() for c in rxnorm_codes if c and c.strip()]
    if codes:
        row = (
            DrugCode.objects.select_related("drug")
            .filter(system=DrugCode.System.RXNORM, code__in=codes)
            .order_by("code")
            .first()
        )
        if row is not None:
            return row.drug, "rxnorm"
    texts = [" " + " ".join(_ORDER_WORDS.findall(n.lower())) + " " for n in names if n]
    if texts:
        for drug in Drug.objects.order_by("generic_name"):
            terms = {" ".join(_ORDER_WORDS.findall(t)) for t in _terms(drug)} - {""}
            if any(f" {term} " in text for term in terms for text in texts):
                return drug, "name"
    return None, ""
