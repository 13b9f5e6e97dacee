"""Writing the audit trail. Every service that changes a record calls ``audit_record`` in its transaction."""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable
from typing import Any

from django.apps import apps
from django.db import models

from portal import wording
from portal.models import AuditEvent, User
from portal.wording import FieldWords


def audit_record(
    *,
    actor: User | None,
    action: str,
    obj: models.Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(obj.pk)
    real_actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.create(
        actor=real_actor,
        actor_username=real_actor.get_username() if real_actor else "",
        action=action,
        object_type=object_type,
        object_id=object_id,
        summary=summary[:300],
        changes=changes or {},
    )


# --- Changes in words: the models' labels and choices for ``portal.wording`` -----------------------------------------

_EXTRA_WORDS: dict[str, list[Callable[[], dict[str, FieldWords]]]] = {}


def register_field_words(object_type: str, words: Callable[[], dict[str, FieldWords]]) -> None:
    """Add words for keys an app stores on another object type's audit rows (the patient's rows hold risk-profile,
    assessment and screening keys too). Called from ``AppConfig.ready()``."""
    _EXTRA_WORDS.setdefault(object_type, []).append(words)
    _words_for.cache_clear()


def field_words(model: type[models.Model]) -> dict[str, FieldWords]:
    """Each concrete field's label, choice labels and kind, from its ``verbose_name`` and ``choices``."""
    words = {}
    for f in model._meta.concrete_fields:
        kind = wording.TEXT
        if isinstance(f, models.BooleanField):
            kind = wording.YES_NO
        elif isinstance(f, models.DateField) and not isinstance(f, models.DateTimeField):
            kind = wording.DATE
        elif isinstance(f, models.DecimalField | models.IntegerField | models.FloatField):
            kind = wording.NUMBER
        choices = {str(code): str(label) for code, label in f.flatchoices} if f.choices else {}
        words[f.name] = FieldWords(label=str(f.verbose_name), choices=choices, kind=kind)
        if f.is_relation:
            words[f.attname] = words[f.name]
    return words


@functools.cache
def _words_for(object_type: str) -> dict[str, FieldWords]:
    words: dict[str, FieldWords] = {}
    with contextlib.suppress(LookupError, ValueError):
        words.update(field_words(apps.get_model(object_type)))
    for extra in _EXTRA_WORDS.get(object_type, []):
        words.update(extra())
    return words


def describe_changes(changes: dict[str, Any] | None, object_type: str = "") -> list[str]:
    """An audit event's changes as sentences: field labels, choice labels, Yes/No, dates as the portal shows them,
    and no ids ("Hepatitis B: Never tested → Negative")."""
    return wording.change_lines(changes, _words_for(object_type) if object_type else {})


def record_label(object_type: str) -> str:
    """What kind of record an audit row is about, in words ("Patient", "Treatment course")."""
    try:
        return wording.sentence_case(str(apps.get_model(object_type)._meta.verbose_name))
    except (LookupError, ValueError):
        return object_type.rpartition(".")[2].replace("_", " ").capitalize() or "—"


def _record_names(model: type[models.Model], ids: set[str]) -> dict[str, str]:
    """pk -> how the audit page names the row: "record <number>" for a patient's rows (the only identifier of a
    patient it shows), else the row's own name (a drug, an account)."""
    names = {f.name for f in model._meta.concrete_fields}
    path = "record_number" if "record_number" in names else "patient__record_number" if "patient" in names else ""
    pks = [i for i in ids if i.isdigit()]
    rows = model._default_manager.filter(pk__in=pks)
    if path:
        return {str(pk): f"record {number}" for pk, number in rows.values_list("pk", path)}
    return {str(row.pk): str(row) for row in rows}


def describe_events(events: list[AuditEvent]) -> list[AuditEvent]:
    """Give each event ``record`` ("Patient, record CAN-0001", "Drug, Abrocitinib") and ``change_lines`` (its
    changes in words): one query per kind of record on the page, whatever the number of rows."""
    ids_by_type: dict[str, set[str]] = {}
    for event in events:
        if event.object_type and event.object_id:
            ids_by_type.setdefault(event.object_type, set()).add(event.object_id)
    numbers: dict[str, dict[str, str]] = {}
    for object_type, ids in ids_by_type.items():
        try:
            numbers[object_type] = _record_names(apps.get_model(object_type), ids)
        except (LookupError, ValueError):
            numbers[object_type] = {}
    for event in events:
        label = record_label(event.object_type) if event.object_type else ""
        number = numbers.get(event.object_type, {}).get(event.object_id)
        event.record = f"{label}, {number}" if number else label  # type: ignore[attr-defined]
        event.change_lines = describe_changes(event.changes, event.object_type)  # type: ignore[attr-defined]
    return events
