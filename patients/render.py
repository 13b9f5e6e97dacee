"""Hot loops of the patient page rendered in Python: the access history (50 rows), the severity assessments
(20 rows), the baseline screening checklist and the timeline's events (20 on the patient page, 50 a page on the
timeline page), each row as the template printed it.

Why (issue 16, measured with bench/profile_page.py on the bench database): the history and the assessments were
about 400 of the page's 700 template variable lookups and 240 filter calls (a ``date``, ``default`` or ``join`` per
cell); the checklist was about 150 of the 450 lookups left; the timeline's 20 events were 160 of the 340 left
(about 1.5 ms of CPU, a third of the page's template render). Each
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

from portal.formats import date_text

ASSESSMENT_SCORES = ("easi", "viga", "itch_nrs", "poem", "dlqi", "scorad")  # the table's columns, in order


def _text(value: Any) -> str:
    """A value as ``{{ value }}`` prints it."""
    return conditional_escape(localize(value))


def _date(value: dt.date | dt.datetime, fmt: str) -> str:
    """``{{ value|date:fmt }}``: a datetime in the current time zone first. A plain date in the portal's two
    numeric formats is written directly (the same text): ``dateformat`` parses the format on every call, and that
    was most of a row's cost (the timeline's 20 items: 0.4 of 0.8 ms)."""
    if type(value) is dt.date:
        if fmt == "d/m/Y":
            return date_text(value)
        if fmt == "Y-m-d":
            return value.isoformat()
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


def timeline_rows(events: Iterable) -> SafeString:
    """The timeline's items (``patients.timeline.TimelineEvent``, newest first), or the one "nothing recorded" item:
    what templates/patients/_timeline.html prints inside its list, on the patient page and the timeline page."""
    out = []
    for e in events:
        title = _text(e.title)
        if e.url:
            title = f'<a href="{_text(e.url)}">{title}</a>'
        detail = f'<span class="d-block small text-body-secondary ms-md-5">{_text(e.detail)}</span>' if e.detail else ""
        out.append(
            f'\n  <li class="mb-2"><time datetime="{_date(e.on, "Y-m-d")}">{_date(e.on, "d/m/Y")}</time>\n'
            f'    <span class="badge text-bg-light border">{_text(e.kind_label)}</span>\n'
            f"    {title}{detail}</li>\n  "
        )
    if not out:
        return mark_safe('\n  <li class="text-body-secondary">Nothing recorded yet.</li>\n  ')
    return mark_safe("".join(out))  # noqa: S308  every value is escaped by _text / _date
