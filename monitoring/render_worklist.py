"""Python renderers for the hot loops of the monitoring pages; the page structure stays in the templates.

The worklist's patient groups and check rows were about 3,000 template variable lookups and 260 filter calls a
page (bench/profile_page.py worklist, issue 16): a template round trip per cell. They are built here with
format_html, every value escaped, to the same HTML the template loop gave (tests/monitoring/test_render_worklist.py).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable

from django.utils import dateformat
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

REASON_CHARS = 90  # the check's reason under its name, cut as truncatechars:90 cut it

# Second round (issue 16): the rows were still a third of the view's CPU time, most of it escaping the same values
# again and again (a check name three times a row, the same due dates, drugs and badges on many rows) and
# Truncator on reasons that fit. Each distinct value is now escaped once a page (``_Escaped``), a row is one
# format_html, and the due badge and contacts cell are built once per distinct value.

_ROW = (
    '\n  <tr class="due-{bucket}">\n    {select}\n    <td data-label="Due">{due}<br>\n      {badge}</td>\n'
    '    <td data-label="Check">{check}<div class="small text-body-secondary">{reason}</div></td>\n'
    '    <td data-label="Therapy"><a href="{course_url}">{drug}</a></td>\n'
    '    <td data-label="Last recall / letter" class="small">{contacts}</td>\n'
    '    <td data-label="Action"><a class="btn btn-sm btn-outline-primary" href="{action_url}">{action_label}'
    '<span class="visually-hidden">: {check} for {record_number}</span></a></td>\n  </tr>\n  '
)
_SELECT = (
    '<td data-label="Select"><input class="form-check-input" type="checkbox" name="item" value="{item_id}" '
    'id="i-{item_id}"><label class="visually-hidden" for="i-{item_id}">{check} due {due} for {record_number}'
    "</label></td>"
)
_ROW_WITH_SELECT = _ROW.replace("{select}", _SELECT)
_ROW_WITHOUT_SELECT = _ROW.replace("{select}", "")


class _Escaped(dict):
    """Each value escaped once (conditional_escape), then reused: the values a page repeats on many rows."""

    def __missing__(self, value: str) -> SafeString:
        escaped = self[value] = conditional_escape(value)
        return escaped


class _DateTexts(dict):
    """A date as the rows show it ("2 Dec 2026", escaped), formatted once a page."""

    def __missing__(self, on: dt.date) -> SafeString:
        text = self[on] = conditional_escape(dateformat.format(on, "j M Y"))
        return text


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _due_badge(bucket: str, days: int) -> SafeString:
    if bucket == "overdue":
        return format_html(
            '<span class="badge due-badge due-overdue">Overdue {} day{}</span>\n      ', days, _plural(days)
        )
    if bucket == "today":
        return format_html('<span class="badge due-badge due-today">{}</span>\n      ', "Due today")
    return format_html('<span class="small text-body-secondary">in {} day{}</span>', days, _plural(days))


def _contacts(recalled: dt.date | None, letter: dt.date | None, dates: _DateTexts) -> SafeString:
    if not recalled and not letter:
        return format_html('<span class="text-body-secondary">{}</span>', "None")
    shown = [
        format_html('<span class="text-nowrap">{} {}</span>', label, dates[on])
        for label, on in (("Recalled", recalled), ("Letter", letter))
        if on
    ]
    return format_html_join(format_html("<br>{}", ""), "{}", ((part,) for part in shown))


def _reason(reason: str) -> str:
    """Truncator(reason).chars(REASON_CHARS), without building a Truncator for a reason that fits unchanged."""
    if len(reason) <= REASON_CHARS and unicodedata.is_normalized("NFC", reason):
        return reason
    return Truncator(reason).chars(REASON_CHARS)


class _RowParts:
    """What rows share within one page: escaped values, due badges, contact cells and date texts."""

    def __init__(self) -> None:
        self.escaped = _Escaped()
        self.dates = _DateTexts()
        self.badges: dict[tuple[str, int], SafeString] = {}
        self.contacts: dict[tuple, SafeString] = {}

    def badge(self, row: dict) -> SafeString:
        days = row["days_overdue"] if row["bucket"] == "overdue" else row["days_until"]
        key = (row["bucket"], days)
        if key not in self.badges:
            self.badges[key] = _due_badge(*key)
        return self.badges[key]

    def contact_cell(self, row: dict) -> SafeString:
        key = (row["last_recalled"], row["last_letter"])
        if key not in self.contacts:
            self.contacts[key] = _contacts(*key, self.dates)
        return self.contacts[key]


def _row(row: dict, record_number: SafeString, parts: _RowParts, *, can_contact: bool) -> SafeString:
    escaped = parts.escaped
    return format_html(
        _ROW_WITH_SELECT if can_contact else _ROW_WITHOUT_SELECT,
        item_id=row["public_id"],
        bucket=row["bucket"],
        due=escaped[row["due_text"]],
        badge=parts.badge(row),
        check=escaped[row["check"]],
        reason=_reason(row["reason"]),
        course_url=escaped[row["course_url"]],
        drug=escaped[row["drug"]],
        contacts=parts.contact_cell(row),
        action_url=row["action_url"],
        action_label=escaped[row["action_label"]],
        record_number=record_number,
    )


def _badges(badges) -> SafeString:
    """patients/_badges.html, as the worklist inlined it."""
    if not badges:
        return format_html('<span class="text-body-secondary small">{}</span>', "No risk flags")
    return format_html_join(
        "",
        '<span class="badge text-bg-warning badge-risk me-1" title="{}">Risk: {}</span>',
        ((b.reason, b.label) for b in badges),
    )


def _group(group: dict, parts: _RowParts, *, can_contact: bool) -> SafeString:
    patient = group["patient"]
    record_number = conditional_escape(patient.record_number)
    rows = group["rows"]
    select = (
        format_html(
            '<input class="form-check-input" type="checkbox" name="patient" value="{0}" id="p-{0}">'
            '<label class="visually-hidden" for="p-{0}">All listed checks of {1}</label>',
            patient.public_id,
            record_number,
        )
        if can_contact
        else ""
    )
    dermatologist = format_html(" · {}", patient.dermatologist) if patient.dermatologist else ""
    return format_html(
        '\n  <tbody class="worklist-group">\n  <tr class="worklist-patient">\n'
        '    <th scope="rowgroup" colspan="{colspan}">\n'
        '      <div class="d-flex flex-wrap align-items-center gap-2">\n      {select}\n'
        '      <a href="{url}">{family}, {given}</a>\n'
        '      <span class="small fw-normal text-body-secondary">{record_number}{dermatologist} · {n} check{s}</span>\n'
        '      <span class="fw-normal">{badges}\n</span>\n      </div>\n    </th>\n  </tr>\n  {rows}\n  </tbody>\n  ',
        colspan=6 if can_contact else 5,
        select=select,
        url=group["patient_url"],
        family=patient.family_name,
        given=patient.given_name,
        record_number=record_number,
        dermatologist=dermatologist,
        n=len(rows),
        s=_plural(len(rows)),
        badges=_badges(group["badges"]),
        rows=format_html_join("", "{}", ((_row(row, record_number, parts, can_contact=can_contact),) for row in rows)),
    )


def worklist_groups(groups: Iterable[dict], *, can_contact: bool) -> SafeString:
    """The worklist table's patient groups (``monitoring.selectors.worklist_page``), each a tbody with its checks;
    ``can_contact``: the user may record recalls and letters (the tick boxes)."""
    parts = _RowParts()
    return format_html_join("", "{}", ((_group(group, parts, can_contact=can_contact),) for group in groups))
