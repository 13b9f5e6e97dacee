"""Python renderers for the hot loops of the monitoring pages; the page structure stays in the templates.

The worklist's patient groups and check rows were about 3,000 template variable lookups and 260 filter calls a
page (bench/profile_page.py worklist, issue 16): a template round trip per cell. They are built here with
format_html, every value escaped, to the same HTML the template loop gave (tests/monitoring/test_render_worklist.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import dateformat
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString
from django.utils.text import Truncator

REASON_CHARS = 90  # the check's reason under its name, cut as truncatechars:90 cut it


def _plural(n: int) -> str:
    return "" if n == 1 else "s"


def _due_badge(row: dict) -> SafeString:
    if row["bucket"] == "overdue":
        days = row["days_overdue"]
        return format_html(
            '<span class="badge due-badge due-overdue">Overdue {} day{}</span>\n      ', days, _plural(days)
        )
    if row["bucket"] == "today":
        return format_html('<span class="badge due-badge due-today">{}</span>\n      ', "Due today")
    days = row["days_until"]
    return format_html('<span class="small text-body-secondary">in {} day{}</span>', days, _plural(days))


def _contacts(row: dict) -> SafeString:
    recalled, letter = row["last_recalled"], row["last_letter"]
    if not recalled and not letter:
        return format_html('<span class="text-body-secondary">{}</span>', "None")
    shown = [
        format_html('<span class="text-nowrap">{} {}</span>', label, dateformat.format(on, "j M Y"))
        for label, on in (("Recalled", recalled), ("Letter", letter))
        if on
    ]
    return format_html_join(format_html("<br>{}", ""), "{}", ((part,) for part in shown))


def _row(row: dict, record_number: str, *, can_contact: bool) -> SafeString:
    select = (
        format_html(
            '<td data-label="Select"><input class="form-check-input" type="checkbox" name="item" value="{0}" '
            'id="i-{0}"><label class="visually-hidden" for="i-{0}">{1} due {2} for {3}</label></td>',
            row["public_id"],
            row["check"],
            row["due_text"],
            record_number,
        )
        if can_contact
        else ""
    )
    return format_html(
        '\n  <tr class="due-{bucket}">\n    {select}\n    <td data-label="Due">{due}<br>\n      {badge}</td>\n'
        '    <td data-label="Check">{check}<div class="small text-body-secondary">{reason}</div></td>\n'
        '    <td data-label="Therapy"><a href="{course_url}">{drug}</a></td>\n'
        '    <td data-label="Last recall / letter" class="small">{contacts}</td>\n'
        '    <td data-label="Action"><a class="btn btn-sm btn-outline-primary" href="{action_url}">{action_label}'
        '<span class="visually-hidden">: {check} for {record_number}</span></a></td>\n  </tr>\n  ',
        bucket=row["bucket"],
        select=select,
        due=row["due_text"],
        badge=_due_badge(row),
        check=row["check"],
        reason=Truncator(row["reason"]).chars(REASON_CHARS),
        course_url=row["course_url"],
        drug=row["drug"],
        contacts=_contacts(row),
        action_url=row["action_url"],
        action_label=row["action_label"],
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


def _group(group: dict, *, can_contact: bool) -> SafeString:
    patient = group["patient"]
    rows = group["rows"]
    select = (
        format_html(
            '<input class="form-check-input" type="checkbox" name="patient" value="{0}" id="p-{0}">'
            '<label class="visually-hidden" for="p-{0}">All listed checks of {1}</label>',
            patient.public_id,
            patient.record_number,
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
        record_number=patient.record_number,
        dermatologist=dermatologist,
        n=len(rows),
        s=_plural(len(rows)),
        badges=_badges(group["badges"]),
        rows=format_html_join("", "{}", ((_row(row, patient.record_number, can_contact=can_contact),) for row in rows)),
    )


def worklist_groups(groups: Iterable[dict], *, can_contact: bool) -> SafeString:
    """The worklist table's patient groups (``monitoring.selectors.worklist_page``), each a tbody with its checks;
    ``can_contact``: the user may record recalls and letters (the tick boxes)."""
    return format_html_join("", "{}", ((_group(group, can_contact=can_contact),) for group in groups))
