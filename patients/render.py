"""Hot loops of the patient page rendered in Python: the access history (50 rows), the severity assessments
(20 rows) and the baseline screening checklist, each row as the template printed it.

Why (issue 16, measured with bench/profile_page.py on the bench database): the history and the assessments were
about 400 of the page's 700 template variable lookups and 240 filter calls (a ``date``, ``default`` or ``join`` per
cell); the checklist was about 150 of the 450 lookups left. Each
value goes through ``_text``, which is what the template did with a variable: localtime for a datetime, localize,
then ``conditional_escape``. tests/patients/test_render.py compares the output with the template loops they
replace, escaping included. The page's structure stays in templates/patients/patient_detail.html.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.utils import dateformat, timezone
from django.utils.formats import localize
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

ASSESSMENT_SCORES = ("easi", "viga", "itch_nrs", "poem", "dlqi", "scorad")  # the table's columns, in order


def _text(value: Any) -> str:
    """A value as ``{{ value }}`` prints it."""
    return conditional_escape(localize(value))


def _date(value: dt.date | dt.datetime, fmt: str) -> str:
    """``{{ value|date:fmt }}``: a datetime in the current time zone first."""
    if isinstance(value, dt.datetime) and timezone.is_aware(value):
        value = timezone.localtime(value)
    return conditional_escape(dateformat.format(value, fmt))


def history_rows(events: Iterable) -> SafeString:
    """The access and change history's rows (``patient_history``'s events)."""
    return mark_safe(  # noqa: S308  every value is escaped by _text / _date
        "".join(
            f"\n    <tr><td>{_date(e.at, 'd/m/Y H:i')}</td><td>{_text(e.actor_username or 'system')}</td>"
            f"<td>{_text(e.action_label)}: {_text(e.summary)}</td>\n"
            f'      <td class="small">{"; ".join(_text(line) for line in e.change_lines)}</td></tr>\n    '
            for e in events
        )
    )


def assessment_rows(assessments: Iterable) -> SafeString:
    """The severity assessments' rows: date, the six scores ("—" when not scored), who recorded it."""
    rows = []
    for a in assessments:
        scores = "".join(
            f"<td>{'—' if (v := getattr(a, name)) is None else _text(v)}</td>" for name in ASSESSMENT_SCORES
        )
        by = _text(a.recorded_by) if a.recorded_by else ""
        rows.append(f"\n    <tr><td>{_date(a.assessed_on, 'd/m/Y')}</td>{scores}<td>{by}</td></tr>\n    ")
    return mark_safe("".join(rows))  # noqa: S308  every value is escaped by _text / _date


def checklist_rows(rows: Iterable) -> SafeString:
    """The baseline screening checklist's rows (``screening.ChecklistRow``): item, status (bold when a required
    item is not done), when, result, where it was recorded from, note, reference."""
    out = []
    for row in rows:
        evidence = row.evidence
        status = _text(row.status_label)
        if row.required and not row.done:
            status = f"<strong>{status}</strong>"
        if evidence is None:
            on = result = source = "—"
            note = ""
        else:
            on = _date(evidence.on, "d/m/Y") if evidence.on else "not recorded"
            result = _text(evidence.result_label) if evidence.result_label else "—"
            source = f"{_text(evidence.source_label)}: {_text(evidence.detail)}"
            note = _text(evidence.note) if evidence.note else ""
        out.append(
            f"\n    <tr>\n      <td>{_text(row.label)}</td>\n      <td>{status}</td>\n      <td>{on}</td>\n"
            f"      <td>{result}</td>\n      <td>{source}</td>\n      <td>{note}</td>\n"
            f'      <td class="small text-body-secondary">{_text(row.reference)}</td>\n    </tr>\n    '
        )
    return mark_safe("".join(out))  # noqa: S308  every value is escaped by _text / _date
