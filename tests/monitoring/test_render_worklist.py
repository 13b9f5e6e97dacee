"""monitoring.render_worklist: the worklist's patient groups and check rows built in Python (issue 16): what they
show, and every value escaped."""

import datetime as dt
import uuid
from types import SimpleNamespace

import pytest
from django.utils.text import Truncator

from monitoring.render_worklist import REASON_CHARS, _reason, worklist_groups

XSS = '<script>alert("x")</script>'
ESCAPED = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
ITEM_ID = uuid.UUID("00000000-0000-0000-0000-000000000001")
PATIENT_ID = uuid.UUID("00000000-0000-0000-0000-0000000000aa")


def _row(bucket="overdue", days_overdue=0, days_until=0, recalled=None, letter=None, **fields):
    row = {
        "public_id": ITEM_ID,
        "reason": "Baseline before the first dose",
        "check": "Full blood count",
        "bucket": bucket,
        "days_overdue": days_overdue,
        "days_until": days_until,
        "action_url": "/monitoring/labs/p/?panel=cbc",
        "action_label": "Enter results",
        "due_text": "2 Dec 2026",
        "course_url": "/therapy/courses/c/",
        "drug": "Abrocitinib",
        "last_recalled": recalled,
        "last_letter": letter,
    }
    row.update(fields)
    return row


def _group(rows, badges=(), dermatologist="Dr Derm", **patient):
    fields = {"public_id": PATIENT_ID, "family_name": "Doe", "given_name": "Jane", "record_number": "MRN-1"}
    fields.update(patient)
    return {
        "patient": SimpleNamespace(dermatologist=dermatologist, **fields),
        "patient_url": "/patients/p/",
        "badges": list(badges),
        "rows": rows,
    }


def test_a_group_shows_the_patient_their_flags_and_each_check():
    badge = SimpleNamespace(label="Smoker", reason="Current smoker")
    rows = [
        _row("overdue", days_overdue=3, recalled=dt.date(2026, 12, 1), letter=dt.date(2026, 12, 2)),
        _row("overdue", days_overdue=1, recalled=dt.date(2026, 12, 1)),
        _row("today", letter=dt.date(2026, 11, 30)),
        _row("upcoming", days_until=1),
        _row("upcoming", days_until=5, reason="x" * 100),
    ]
    html = worklist_groups([_group(rows, badges=[badge])], can_contact=True)
    assert html.startswith('\n  <tbody class="worklist-group">\n  <tr class="worklist-patient">')
    assert '<th scope="rowgroup" colspan="6">' in html
    assert f'name="patient" value="{PATIENT_ID}" id="p-{PATIENT_ID}"' in html
    assert f'<label class="visually-hidden" for="p-{PATIENT_ID}">All listed checks of MRN-1</label>' in html
    assert '<a href="/patients/p/">Doe, Jane</a>' in html
    assert "MRN-1 · Dr Derm · 5 checks</span>" in html
    assert '<span class="badge text-bg-warning badge-risk me-1" title="Current smoker">Risk: Smoker</span>' in html
    assert html.count('<tr class="due-overdue">') == 2
    assert "Overdue 3 days</span>" in html
    assert "Overdue 1 day</span>" in html
    assert '<span class="badge due-badge due-today">Due today</span>' in html
    assert "in 1 day</span>" in html
    assert "in 5 days</span>" in html
    assert (
        '<span class="text-nowrap">Recalled 1 Dec 2026</span><br><span class="text-nowrap">Letter 2 Dec 2026</span>'
    ) in html
    assert '<td data-label="Last recall / letter" class="small"><span class="text-nowrap">Letter 30 Nov 2026' in html
    assert "x" * 89 + "…</div>" in html
    assert "x" * 90 not in html
    assert f'name="item" value="{ITEM_ID}" id="i-{ITEM_ID}"' in html
    assert f'for="i-{ITEM_ID}">Full blood count due 2 Dec 2026 for MRN-1</label>' in html
    assert '<a href="/therapy/courses/c/">Abrocitinib</a>' in html
    assert (
        '<a class="btn btn-sm btn-outline-primary" href="/monitoring/labs/p/?panel=cbc">Enter results'
        '<span class="visually-hidden">: Full blood count for MRN-1</span></a>'
    ) in html
    assert html.endswith("</tr>\n  \n  </tbody>\n  ")


def test_without_the_contact_permission_no_tick_boxes_and_one_check_no_flags():
    html = worklist_groups([_group([_row("today")], dermatologist=None)], can_contact=False)
    assert '<th scope="rowgroup" colspan="5">' in html
    assert 'type="checkbox"' not in html
    assert "MRN-1 · 1 check</span>" in html  # no dermatologist: nothing for them
    assert '<span class="text-body-secondary small">No risk flags</span>' in html
    assert '<span class="text-body-secondary">None</span>' in html  # no recall, no letter


def test_no_groups_render_nothing():
    assert worklist_groups([], can_contact=True) == ""


def test_every_value_is_escaped():
    badge = SimpleNamespace(label=XSS, reason=XSS)
    shown = dict.fromkeys(("check", "reason", "drug", "due_text", "action_label"), XSS)
    row = _row("overdue", days_overdue=2, action_url='/x/?a=1&b="><script>', course_url='"><script>', **shown)
    group = _group([row], badges=[badge], dermatologist=XSS, family_name=XSS, given_name=XSS, record_number=XSS)
    group["patient_url"] = '"><script>'
    html = worklist_groups([group], can_contact=True)
    assert "<script" not in html
    assert ESCAPED in html
    assert 'href="/x/?a=1&amp;b=&quot;&gt;&lt;script&gt;"' in html
    assert 'href="&quot;&gt;&lt;script&gt;"' in html
    assert f'title="{ESCAPED}">Risk: {ESCAPED}</span>' in html


@pytest.mark.parametrize(
    "reason",
    ["Baseline", "x" * 90, "x" * 91, "e\u0301" * 60, "e\u0301" * 100, "\u00e9" * 95, XSS * 4, ""],
)
def test_a_reason_is_cut_exactly_as_truncatechars_cut_it(reason):
    assert _reason(reason) == Truncator(reason).chars(REASON_CHARS)


def test_values_shared_by_rows_are_built_once_and_each_row_keeps_its_own():
    """Due badges, contact cells, dates and escaped texts are reused across the rows and groups of a page."""
    first, second = dt.date(2026, 12, 1), dt.date(2026, 11, 2)
    rows = [
        _row("overdue", days_overdue=3, recalled=first, check=XSS),
        _row("overdue", days_overdue=3, letter=first, check=XSS),
        _row("overdue", days_overdue=2, recalled=first, letter=second, check="Lipids"),
        _row("upcoming", days_until=3, recalled=first, check="Lipids"),
    ]
    other = _group([_row("overdue", days_overdue=3, recalled=first)], record_number="MRN-2")
    html = worklist_groups([_group(rows, record_number="<b>"), other], can_contact=True)
    cells = html.split('<tr class="due-')[1:]  # from each row on
    expected = [
        ("overdue", "Overdue 3 days", "Recalled 1 Dec 2026</span></td>", ESCAPED, "&lt;b&gt;"),
        ("overdue", "Overdue 3 days", "Letter 1 Dec 2026</span></td>", ESCAPED, "&lt;b&gt;"),
        (
            "overdue",
            "Overdue 2 days",
            'Recalled 1 Dec 2026</span><br><span class="text-nowrap">Letter 2 Nov 2026',
            "Lipids",
            "&lt;b&gt;",
        ),
        ("upcoming", "in 3 days", "Recalled 1 Dec 2026</span></td>", "Lipids", "&lt;b&gt;"),
    ]
    assert len(cells) == 5  # four rows, then the second group's row
    for cell, (bucket, badge, contacts, check, record_number) in zip(cells, expected, strict=False):
        assert cell.startswith(f'{bucket}">')
        assert badge in cell
        assert contacts in cell
        assert f'<td data-label="Check">{check}<div' in cell
        assert f"{check} due 2 Dec 2026 for {record_number}</label>" in cell
        assert f": {check} for {record_number}</span>" in cell
    assert "<b>" not in html
    assert "Overdue 3 days" in cells[4]
    assert ": Full blood count for MRN-2</span>" in cells[4]
