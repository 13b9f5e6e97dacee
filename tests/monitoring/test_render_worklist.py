"""monitoring.render_worklist: the worklist's patient groups and check rows built in Python (issue 16): what they
show, and every value escaped."""

import datetime as dt
import uuid
from types import SimpleNamespace

from monitoring.render_worklist import worklist_groups

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
