"""The patient page's hot tables rendered in Python (patients.render): the page must read as when the template
looped over them (the loops below are the template's, as they were), escaping included."""

import datetime as dt
from decimal import Decimal
from types import SimpleNamespace

from django.template import Context, Template

from patients import screening
from patients.render import assessment_rows, checklist_rows, history_rows, timeline_rows
from patients.timeline import TimelineEvent

OLD_ASSESSMENT_ROWS = (
    '{% for a in assessments %}\n    <tr><td>{{ a.assessed_on|date:"d/m/Y" }}</td>'
    '<td>{{ a.easi|default_if_none:"—" }}</td><td>{{ a.viga|default_if_none:"—" }}</td>'
    '<td>{{ a.itch_nrs|default_if_none:"—" }}</td><td>{{ a.poem|default_if_none:"—" }}</td>'
    '<td>{{ a.dlqi|default_if_none:"—" }}</td><td>{{ a.scorad|default_if_none:"—" }}</td>'
    '<td>{{ a.recorded_by|default:"" }}</td></tr>\n    {% endfor %}'
)
OLD_HISTORY_ROWS = (
    '{% for event in history %}\n    <tr><td>{{ event.at|date:"d/m/Y H:i" }}</td>'
    '<td>{{ event.actor_username|default:"system" }}</td><td>{{ event.action_label }}: {{ event.summary }}</td>\n'
    '      <td class="small">{{ event.change_lines|join:"; " }}</td></tr>\n    {% endfor %}'
)
OLD_CHECKLIST_ROWS = (
    "{% for row in checklist %}\n"
    "    <tr>\n"
    "      <td>{{ row.label }}</td>\n"
    "      <td>{% if row.required and not row.done %}<strong>{{ row.status_label }}</strong>"
    "{% else %}{{ row.status_label }}{% endif %}</td>\n"
    '      <td>{% if row.evidence.on %}{{ row.evidence.on|date:"d/m/Y" }}'
    "{% elif row.evidence %}not recorded{% else %}—{% endif %}</td>\n"
    '      <td>{{ row.evidence.result_label|default:"—" }}</td>\n'
    "      <td>{% if row.evidence %}{{ row.evidence.source_label }}: "
    "{{ row.evidence.detail }}{% else %}—{% endif %}</td>\n"
    '      <td>{{ row.evidence.note|default:"" }}</td>\n'
    '      <td class="small text-body-secondary">{{ row.reference }}</td>\n'
    "    </tr>\n"
    "    {% endfor %}"
)
EVIL = "<img src=x onerror=\"alert(1)\"> & 'q'"


class Person:
    def __init__(self, name):
        self.name = name

    def __str__(self):
        return self.name


def _assessment(on, by=None, **scores):
    values = dict.fromkeys(("easi", "viga", "itch_nrs", "poem", "dlqi", "scorad"))
    values.update(scores)
    return SimpleNamespace(assessed_on=on, recorded_by=by, **values)


def test_assessment_rows_are_what_the_template_loop_printed():
    assessments = [
        _assessment(dt.date(2026, 3, 4), Person(EVIL), easi=Decimal("12.4"), viga=3, itch_nrs=7, scorad=Decimal("41")),
        _assessment(dt.date(2025, 12, 31), None, easi=Decimal("0.0"), poem=0, dlqi=30),
        _assessment(dt.date(2025, 1, 2)),
    ]
    expected = Template(OLD_ASSESSMENT_ROWS).render(Context({"assessments": assessments}))
    html = assessment_rows(assessments)
    assert html == expected
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#x27;q&#x27;" in html
    assert html.count("<td>—</td>") == 11  # 2 + 3 + 6 scores not recorded


def test_history_rows_are_what_the_template_loop_printed(settings):
    settings.TIME_ZONE = "Europe/Berlin"  # the rows show local time, as the date filter did
    events = [
        SimpleNamespace(
            at=dt.datetime(2026, 6, 30, 23, 30, tzinfo=dt.UTC),  # 1 July in Berlin
            actor_username=EVIL,
            action_label=EVIL,
            summary=EVIL,
            change_lines=[EVIL, "EASI: 12 → 8"],
        ),
        SimpleNamespace(
            at=dt.datetime(2026, 1, 2, 8, 5, tzinfo=dt.UTC),
            actor_username="",
            action_label="Viewed",
            summary="Patient record viewed",
            change_lines=[],
        ),
    ]
    expected = Template(OLD_HISTORY_ROWS).render(Context({"history": events}))
    html = history_rows(events)
    assert html == expected
    assert "<img" not in html
    assert "<td>system</td>" in html


def _evidence(**overrides):
    values = {
        "item": "hbv",
        "source": screening.LAB,
        "test": "hbsag",
        "on": dt.date(2026, 11, 2),
        "result": screening.NEGATIVE,
        "result_label": "Negative",
        "detail": "HBsAg negative",
    }
    values.update(overrides)
    return screening.Evidence(**values)


def test_checklist_rows_are_what_the_template_loop_printed():
    rows = [
        screening.ChecklistRow("hbv", "Hepatitis B", "[S1]", True, _evidence()),
        screening.ChecklistRow(
            "tb", EVIL, EVIL, True, _evidence(result=screening.INDETERMINATE, result_label=EVIL, detail=EVIL, note=EVIL)
        ),
        screening.ChecklistRow(
            "egfr", "Kidney function", "", False, _evidence(source=screening.PROFILE, on=None, result_label="")
        ),
        screening.ChecklistRow("pregnancy", "Pregnancy test", "[S2]", True, None),
        screening.ChecklistRow("lipids", "Lipids", "[S3]", False, None),
    ]
    expected = Template(OLD_CHECKLIST_ROWS).render(Context({"checklist": rows}))
    html = checklist_rows(rows)
    assert html == expected
    assert "<img" not in html
    assert "<strong>Missing</strong>" in html
    assert "<strong>Repeat (indeterminate)</strong>" in html
    assert "<td>not recorded</td>" in html


def test_empty_tables_have_no_rows():
    assert assessment_rows([]) == ""
    assert history_rows([]) == ""
    assert checklist_rows([]) == ""


OLD_TIMELINE_ITEMS = (
    "{% for e in events %}\n"
    '  <li class="mb-2"><time datetime="{{ e.on|date:\'Y-m-d\' }}">{{ e.on|date:"d/m/Y" }}</time>\n'
    '    <span class="badge text-bg-light border">{{ e.kind_label }}</span>\n'
    '    {% if e.url %}<a href="{{ e.url }}">{{ e.title }}</a>{% else %}{{ e.title }}{% endif %}'
    '{% if e.detail %}<span class="d-block small text-body-secondary ms-md-5">{{ e.detail }}</span>{% endif %}</li>\n'
    "  {% empty %}\n"
    '  <li class="text-body-secondary">Nothing recorded yet.</li>\n'
    "  {% endfor %}"
)


def test_timeline_rows_are_what_the_template_loop_printed():
    events = [
        TimelineEvent(on=dt.date(2026, 3, 4), kind="lab", title=EVIL, detail=EVIL),
        TimelineEvent(on=dt.date(2026, 3, 3), kind="therapy", title="Abrocitinib started", url=f"/c/?a=1&b={EVIL}"),
        TimelineEvent(on=dt.date(2026, 3, 2), kind=EVIL, title="Registered"),
    ]
    rows = timeline_rows(events)
    assert rows == Template(OLD_TIMELINE_ITEMS).render(Context({"events": events}))
    assert "<img" not in rows
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt; &amp; &#x27;q&#x27;" in rows
    assert 'href="/c/?a=1&amp;b=&lt;img' in rows
    assert '<time datetime="2026-03-04">04/03/2026</time>' in rows
    assert "Lab result" in rows  # the kind in words
    assert rows.count("<li") == 3


def test_an_empty_timeline_says_so():
    assert timeline_rows([]) == Template(OLD_TIMELINE_ITEMS).render(Context({"events": []}))
    assert "Nothing recorded yet." in timeline_rows([])


def test_plain_dates_print_as_the_date_filter_prints_them():
    """patients.render writes a plain date's two numeric formats itself: the same text as ``|date``."""
    from patients.render import _date

    for day in (dt.date(2026, 1, 2), dt.date(1999, 12, 31), dt.date(2030, 10, 9)):
        for fmt in ("d/m/Y", "Y-m-d", "j M Y"):
            assert _date(day, fmt) == Template("{{ d|date:f }}").render(Context({"d": day, "f": fmt}))
