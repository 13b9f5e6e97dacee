"""The patient list's table rows, built in Python.

Measured on the 10,000-patient bench (bench/profile_page.py patient_list): the rows' template loop (a Variable
lookup per cell, an inner loop per row for the courses and the risk flags) was about a third of the page's CPU
time. The page's structure stays in templates/patients/patient_list.html; only the rows are built here, every value
escaped by ``format_html``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString

from patients.selectors import PatientListRow
from portal.formats import date_text

NONE_SHOWN = "—"


def _therapy(row: PatientListRow) -> SafeString | str:
    if not row.courses:
        return NONE_SHOWN
    return format_html_join(
        "; ", "{}{}", ((text, format_html(" ({})", label) if label else "") for text, label in row.courses)
    )


class _Escaped(dict):
    """``conditional_escape`` of each distinct value once per page: risk flag labels and reasons, dermatologists,
    ages and names repeat from row to row, and escaping was most of the rows' time (bench: about 450 escapes for a
    page of 25 rows, 0.66 ms of CPU for the rows)."""

    def __missing__(self, value: Any) -> SafeString:
        escaped = self[value] = conditional_escape(value)
        return escaped


_NO_FLAGS = format_html('<span class="text-body-secondary small">{}</span>', "No risk flags")


def _badges(row: PatientListRow, esc: _Escaped) -> SafeString:
    if not row.badges:
        return _NO_FLAGS
    return format_html_join(
        "",
        '<span class="badge text-bg-warning badge-risk me-1" title="{}">Risk: {}</span>',
        ((esc[badge.reason], esc[badge.label]) for badge in row.badges),
    )


def patient_rows_html(rows: Iterable[PatientListRow]) -> SafeString:
    """The ``<tr>`` of each row: name (linked), record number, date of birth, age, dermatologist, open courses,
    risk flags (as ``patients/_badges.html`` shows them).

    A therapy cell is built once per distinct list of courses on the page (most patients share a drug and dose),
    and a repeated value escaped once (``_Escaped``): escaping was most of this function's time (bench: 11 distinct
    therapy cells on a page of 25)."""
    therapies: dict[tuple[tuple[str, str], ...], SafeString | str] = {}
    esc = _Escaped()

    def therapy(row: PatientListRow) -> SafeString | str:
        key = tuple(row.courses)
        if key not in therapies:
            therapies[key] = _therapy(row)
        return therapies[key]

    return format_html_join(
        "\n",
        '<tr><td><a href="{}">{}, {}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
        (
            (
                row.url,
                esc[row.family_name],
                esc[row.given_name],
                row.record_number,
                date_text(row.date_of_birth),
                esc[row.age],
                esc[row.dermatologist or NONE_SHOWN],
                therapy(row),
                _badges(row, esc),
            )
            for row in rows
        ),
    )


def options_html(choices: Iterable[tuple[Any, Any]], selected: Any) -> SafeString:
    """The ``<option>`` of each (value, label) of a filter, ``selected`` marked, as the template's loop wrote them
    (no separator). The three filters' option loops were a quarter of the page template's time (0.23 of 1.0 ms)."""
    return format_html_join(
        "",
        '<option value="{}"{}>{}</option>',
        ((value, " selected" if value == selected else "", label) for value, label in choices),
    )
