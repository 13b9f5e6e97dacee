"""Audit changes in words (pure): ``{"hepatitis_b": ["never_tested", "negative"]}`` becomes
"Hepatitis B: Never tested → Negative".

The services store codes, ISO dates and plain values in ``AuditEvent.changes``. What each key means (its label, its
choice labels, whether it is a yes/no or a date, its unit) comes in as ``FieldWords``, built from the models'
``verbose_name`` and ``choices`` by ``portal.audit.field_words``. Keys that only point at another record by its id
(``REFERENCE_KEYS``) are left out: the page names that record itself, and ids mean nothing to a clinician.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from portal.formats import date_text, decimal_text

TEXT, YES_NO, DATE, NUMBER = "text", "yes_no", "date", "number"
EMPTY = "—"
REFERENCE_KEYS = frozenset({"event", "course", "alert", "item", "lab_result", "symptom_check", "id", "pk"})
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_CODE_ON_DATE = re.compile(r"^(?P<code>[\w-]+) on (?P<on>\d{4}-\d{2}-\d{2})$")  # what screening records store
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


@dataclass(frozen=True)
class FieldWords:
    """How one key of a changes dict reads: its label, the labels of its codes, its kind and unit."""

    label: str
    choices: Mapping[str, str] = field(default_factory=dict)
    kind: str = TEXT
    unit: str = ""


def sentence_case(text: str) -> str:
    """The first letter capitalised, unless the first word is a name written with capitals inside (vIGA-AD, eGFR)."""
    first = text.split(" ", 1)[0]
    if any(c.isupper() for c in first[1:]):
        return text
    return text[:1].upper() + text[1:]


def _default_words(key: str) -> FieldWords:
    return FieldWords(label=key.replace("_", " "))


def value_text(value: Any, words: FieldWords | None = None) -> str:
    """One stored value in words: a choice label, Yes/No, a date in the portal's format, a number with its unit."""
    words = words or FieldWords(label="")
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if words.kind == YES_NO and str(value) in ("True", "False"):
        return "Yes" if value == "True" else "No"
    text = str(value)
    if text in words.choices:
        return words.choices[text]
    if words.kind == DATE or _ISO_DATE.match(text):
        try:
            return date_text(text)
        except ValueError:
            return text
    match = _CODE_ON_DATE.match(text)
    if match and words.choices:
        code = match["code"]
        return f"{words.choices.get(code, code.replace('_', ' '))} on {date_text(match['on'])}"
    if isinstance(value, int | float | Decimal) or words.kind == NUMBER:
        try:
            number = decimal_text(Decimal(text))
        except (InvalidOperation, ValueError):
            return text
        return f"{number} {words.unit}".rstrip() if words.unit else number
    if isinstance(value, list | tuple):
        return ", ".join(value_text(v, words) for v in value) or EMPTY
    return text


def change_line(key: str, value: Any, words: FieldWords | None = None) -> str | None:
    """One line for one key, or None for a key that only names another record by its id."""
    words = words or _default_words(key)
    if key in REFERENCE_KEYS or (isinstance(value, str) and _UUID.match(value)):
        return None
    label = sentence_case(words.label)
    if isinstance(value, dict) and set(value) == {"from", "to"}:  # what the admin's account changes store
        value = [value["from"], value["to"]]
    if isinstance(value, list | tuple) and len(value) == 2:
        before, after = value
        if before is None or before == "":
            return f"{label}: {value_text(after, words)}"
        return f"{label}: {value_text(before, words)} → {value_text(after, words)}"
    if isinstance(value, dict):  # a snapshot ("before"/"after" of an account): its keys in words
        inner = [change_line(k, v) for k, v in value.items()]
        return f"{label}: " + ("; ".join(line for line in inner if line) or EMPTY)
    return f"{label}: {value_text(value, words)}"


def change_lines(changes: Mapping[str, Any] | None, fields: Mapping[str, FieldWords] | None = None) -> list[str]:
    """The lines for an audit event's changes, in the order stored, without the id-only keys."""
    fields = fields or {}
    lines = []
    for key, value in (changes or {}).items():
        line = change_line(str(key), value, fields.get(str(key)))
        if line is not None:
            lines.append(line)
    return lines
