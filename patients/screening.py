"""Baseline screening checklist (clinical-reference §3.1): what is done, when, the result, and what is missing."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

# Item code, label, source tag. Codes are stored values: never rename one.
ITEMS = (
    ("tb", "TB test (IGRA or skin test)", "[S1][S21][S37]"),
    ("hbsag", "Hepatitis B surface antigen", "[S1][S21][S37]"),
    ("hbcab", "Hepatitis B core antibody", "[S1][S21][S37]"),
    ("hcv", "Hepatitis C antibody", "[S1][S21][S37]"),
    ("cbc", "Full blood count (incl. platelets)", "[S1][S21b][S37]"),
    ("lipids", "Lipids", "[S13][S21]"),
    ("liver", "Liver tests (ALT/AST)", "[S21b][S37]"),
    ("kidney", "Kidney function (eGFR)", "[S9][S20][S43]"),
    ("pregnancy", "Pregnancy test", "[S14b][S21][S45]"),
    ("vaccinations", "Vaccinations up to date (incl. recombinant zoster)", "[S1][S25][S48]"),
)
ITEM_LABELS = {code: label for code, label, _src in ITEMS}
PREGNANCY_AGE_RANGE = (12, 55)  # female of child-bearing age, unless recorded otherwise (local definition)


@dataclass(frozen=True)
class Result:
    performed_on: dt.date
    result: str
    result_label: str
    note: str = ""


@dataclass(frozen=True)
class ChecklistRow:
    code: str
    label: str
    source: str
    required: bool
    latest: Result | None

    @property
    def done(self) -> bool:
        return self.latest is not None


def pregnancy_test_relevant(*, sex_at_birth: str, age: int | None, no_childbearing_potential: bool) -> bool:
    low, high = PREGNANCY_AGE_RANGE
    return sex_at_birth == "female" and age is not None and low <= age <= high and not no_childbearing_potential


def checklist(*, latest: dict[str, Result], pregnancy_relevant: bool) -> list[ChecklistRow]:
    """One row per item in reference order; the pregnancy test is required only where relevant."""
    rows = []
    for code, label, source in ITEMS:
        required = pregnancy_relevant if code == "pregnancy" else True
        rows.append(ChecklistRow(code, label, source, required, latest.get(code)))
    return rows


def missing(rows: list[ChecklistRow]) -> list[str]:
    return [row.label for row in rows if row.required and not row.done]
