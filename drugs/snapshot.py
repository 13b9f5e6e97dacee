"""A drug's catalogue entry as plain data, and the difference between two such snapshots.

``diff_snapshots`` is pure: it works on dicts, so the history page's "what changed" is easy to test.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from drugs.sections import DRUG_FIELDS, SECTIONS, SECTIONS_BY_KEY


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    if hasattr(value, "analyte"):  # LabTest
        return value.analyte
    if hasattr(value, "code") and hasattr(value, "medicines"):  # InteractingClass
        return value.code
    return value


def drug_snapshot(drug) -> dict:
    """Everything the catalogue says about ``drug``; rows keyed by id so edits can be matched."""
    sections = {}
    for section in SECTIONS:
        rows = section.rows(drug)
        if section.model.__name__ == "LabThreshold":
            rows = rows.select_related("lab_test")
        elif section.key in ("interactions", "dose_adjustments"):
            rows = rows.select_related("interacting_class")
        sections[section.key] = {
            str(row.pk): {field: _plain(getattr(row, field)) for field in section.fields} for row in rows
        }
    return {"drug": {field: _plain(getattr(drug, field)) for field in DRUG_FIELDS}, "sections": sections}


def row_label(section_key: str, row: dict) -> str:
    parts = [str(row.get(key)) for key in ("jurisdiction",) if row.get(key)]
    for key in ("kind", "trigger", "component", "condition", "item", "check_type", "lab_test", "status", "term"):
        if row.get(key) not in (None, ""):
            parts.append(str(row[key]))
            break
    for key in ("phase", "interacting_class", "dose", "first_week"):
        if row.get(key) not in (None, ""):
            parts.append(f"{key.replace('_', ' ')} {row[key]}")
    return " · ".join(parts) or SECTIONS_BY_KEY[section_key].title


def diff_snapshots(before: dict, after: dict) -> list[dict]:
    """List of changes: {"section", "row", "change": added|removed|changed, "field", "old", "new"}."""
    changes: list[dict] = []
    for field in DRUG_FIELDS:
        old, new = before.get("drug", {}).get(field), after.get("drug", {}).get(field)
        if old != new:
            changes.append({"section": "drug", "row": "", "change": "changed", "field": field, "old": old, "new": new})
    for section in SECTIONS:
        old_rows = before.get("sections", {}).get(section.key, {})
        new_rows = after.get("sections", {}).get(section.key, {})
        for row_id, row in new_rows.items():
            if row_id not in old_rows:
                changes.append(
                    {"section": section.key, "row": row_label(section.key, row), "change": "added", "values": row}
                )
                continue
            for field in section.fields:
                old, new = old_rows[row_id].get(field), row.get(field)
                if old != new:
                    changes.append(
                        {
                            "section": section.key,
                            "row": row_label(section.key, row),
                            "change": "changed",
                            "field": field,
                            "old": old,
                            "new": new,
                        }
                    )
        for row_id, row in old_rows.items():
            if row_id not in new_rows:
                changes.append(
                    {"section": section.key, "row": row_label(section.key, row), "change": "removed", "values": row}
                )
    return changes
