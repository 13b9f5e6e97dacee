"""The patient page's trend figures, rendered in Python (monitoring.render): the page must read as it did when
monitoring/_trend_chart.html drew them (OLD_FIGURE below is that template, with its per-value loops), escaping
included."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.template import Context, Template

from monitoring import charts
from monitoring.render import trend_figure
from monitoring.selectors import _as_text, _table_row

OLD_FIGURE = (
    '<figure class="trend mb-0" aria-labelledby="{{ trend.id }}-cap">\n'
    '  <figcaption class="h6 mb-1" id="{{ trend.id }}-cap">{{ trend.title }}{% if trend.shown %} <sp'
    'an class="small fw-normal text-body-secondary">· {{ trend.shown }}</span>{% endif %}</figcaptio'
    "n>\n"
    '  <svg class="trend-chart" viewBox="0 0 {{ trend.chart.width }} {{ trend.chart.height }}" role='
    '"img" aria-labelledby="{{ trend.id }}-t {{ trend.id }}-d" xmlns="http://www.w3.org/2000/svg">\n'
    '    <title id="{{ trend.id }}-t">{{ trend.title }} over time</title>\n'
    '    <desc id="{{ trend.id }}-d">{{ trend.desc }}</desc>\n'
    '    {% for t in trend.chart.y_ticks %}<line class="grid" x1="{{ trend.chart.plot.x }}" x2="{{ t'
    'rend.chart.plot.right }}" y1="{{ t.y }}" y2="{{ t.y }}"/><text class="tick" x="{{ trend.chart.p'
    'lot.tick_x }}" y="{{ t.y }}" text-anchor="end" dominant-baseline="middle">{{ t.label }}</text>{'
    "% endfor %}\n"
    '    {% for t in trend.chart.x_ticks %}<text class="tick" x="{{ t.x }}" y="{{ trend.chart.plot.d'
    'ate_y }}" text-anchor="{{ t.anchor }}">{{ t.label }}</text>{% endfor %}\n'
    '    {% for e in trend.chart.events %}<line class="event event-{{ e.kind }}" x1="{{ e.x }}" x2="'
    '{{ e.x }}" y1="{{ e.y1 }}" y2="{{ e.y2 }}"><title>{{ e.on|date:"j M Y" }}: {{ e.label }}</title'
    "></line>{% endfor %}\n"
    '    {% for l in trend.chart.levels %}<line class="level level-{{ l.kind }}" x1="{{ l.x1 }}" x2='
    '"{{ l.x2 }}" y1="{{ l.y }}" y2="{{ l.y }}"><title>{{ l.label }}</title></line><text class="leve'
    'l-label level-label-{{ l.kind }}" x="{{ l.label_x }}" y="{{ l.label_y }}">{{ l.short }}</text>{'
    "% endfor %}\n"
    '    <polyline class="series" points="{{ trend.chart.path }}" fill="none"/>\n'
    '    {% for d in trend.chart.dots %}<circle class="dot" cx="{{ d.x }}" cy="{{ d.y }}" r="3.5"><t'
    "itle>{{ d.label }}</title></circle>{% endfor %}\n"
    "  </svg>\n"
    '  <div class="d-flex flex-wrap gap-3 align-items-baseline small">\n'
    '    {% if trend.history_url %}<a href="{{ trend.history_url }}">Full history ({{ trend.count }}'
    " result{{ trend.count|pluralize }})</a>{% endif %}\n"
    "    <details><summary>Values as a table ({{ trend.rows|length }})</summary>\n"
    '      <table class="table table-sm mt-2">\n'
    '        <caption class="visually-hidden">{{ trend.title }}: values, newest first</caption>\n'
    '        <thead><tr><th scope="col">Date</th><th scope="col">Value</th><th scope="col">Unit</th>'
    '<th scope="col">Flag</th></tr></thead>\n'
    "        <tbody>{% for r in trend.rows %}<tr><td>{{ r.date }}</td><td>{{ r.value }}</td><td>{{ t"
    'rend.unit }}</td><td>{{ r.flag|default:"—" }}{% if r.action %} · action level: {{ r.action }}{%'
    " endif %}</td></tr>{% endfor %}</tbody>\n"
    "      </table>\n"
    "    </details>\n"
    "  </div>\n"
    "</figure>\n"
)

EVIL = "<script>alert(\"x\")</script> & 'q'"


def _trend(
    *,
    title="WBC (×10³/µL)",
    unit="×10³/µL",
    levels=(),
    events=(),
    history_url="/p/1/labs/wbc/",
    count=3,
    shown="",
    flag="Low",
    action="interrupt",
    desc="WBC in ×10³/µL: 3 results.",
):
    points = [charts.Point(dt.date(2026, 1, n), D(v)) for n, v in ((1, "4.5"), (8, "12.25"), (15, "0.8"))]
    trend = {
        "id": "trend-wbc",
        "title": title,
        "desc": desc,
        "shown": shown,
        "chart": _as_text(charts.line_chart(points, levels=list(levels), events=list(events))),
        "rows": [
            _table_row(dt.date(2026, 1, 15), D("0.8"), flag, action),
            _table_row(dt.date(2026, 1, 8), D("12.25"), "", ""),
            _table_row(dt.date(2026, 1, 1), D("4.5"), "High", ""),
        ],
        "unit": unit,
        "count": count,
    }
    if history_url:
        trend["history_url"] = history_url
    return trend


LEVEL = charts.Level(D("2"), "Interrupt Abrocitinib (below 2 ×10³/µL)", "interrupt", "Abrocitinib: interrupt <2")
EVENTS = (
    charts.Event(dt.date(2025, 12, 20), "Abrocitinib start", "start"),
    charts.Event(dt.date(2026, 1, 9), "Abrocitinib dose change", "dose_change"),
)


@pytest.mark.parametrize(
    "trend",
    [
        _trend(),
        _trend(levels=[LEVEL], events=EVENTS, shown="the latest 60 of 412 results", count=412),
        _trend(history_url="", flag="", action=""),  # a score: no history link
        _trend(count=1),
        _trend(
            title=EVIL,
            unit=EVIL,
            desc=EVIL,
            shown=EVIL,
            flag=EVIL,
            action=EVIL,
            history_url='/x?a=1&b="2"',
            levels=[charts.Level(D("2"), EVIL, EVIL, EVIL)],
            events=[charts.Event(dt.date(2026, 1, 3), EVIL, EVIL)],
        ),
    ],
)
def test_trend_figure_is_what_the_template_printed(trend):
    expected = Template(OLD_FIGURE).render(Context({"trend": trend}))
    assert trend_figure(trend) == expected


def test_trend_figure_escapes_catalogue_and_label_text():
    trend = _trend(title=EVIL, unit=EVIL, levels=[charts.Level(D("2"), EVIL, "interrupt", EVIL)])
    html = trend_figure(trend)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#x27;q&#x27;" in html
    assert html.count("<circle ") == 3
    assert html.count("<tr><td>") == 3


def test_event_dates_are_shared_between_figures():
    """The page's figures share one memo of the events' dates as text."""
    dates: dict = {}
    first = trend_figure(_trend(events=EVENTS), dates)
    assert dates == {dt.date(2025, 12, 20): "20 Dec 2025", dt.date(2026, 1, 9): "9 Jan 2026"}
    assert trend_figure(_trend(events=EVENTS), dates) == first


@pytest.mark.parametrize(
    "values",
    [
        ["0.0001", "0.0002", "0.00015"],  # tiny values: coordinates near the plot's edges
        ["250000", "1", "999999.75"],  # large values (platelets in /µL)
        [str(n * 7 % 61) for n in range(60)],  # a full trend
    ],
)
def test_dots_print_their_coordinates_as_the_template_did(values):
    """The dots' numbers are printed without ``_number_text`` and without escaping (monitoring.render._dots):
    they must read as the template printed them, with no exponent, for values small and large."""
    points = [charts.Point(dt.date(2025, 1, 1) + dt.timedelta(days=7 * n), D(v)) for n, v in enumerate(values)]
    trend = {**_trend(), "chart": _as_text(charts.line_chart(points))}
    expected = Template(OLD_FIGURE).render(Context({"trend": trend}))
    assert trend_figure(trend) == expected
    assert "e-" not in expected.split("<circle", 1)[1].split("</svg>")[0]
    assert expected.count("<circle ") == len(values)


def test_history_links_are_what_reverse_gives():
    """patient_monitoring builds each trend's "Full history" link from one ``reverse`` a page."""
    import uuid
    from types import SimpleNamespace

    from django.urls import reverse

    from monitoring.selectors import _lab_history_urls

    patient = SimpleNamespace(public_id=uuid.UUID("12345678-1234-5678-1234-567812345678"))
    url_of = _lab_history_urls(patient)
    for analyte in ("hb", "platelets", "alt", "ldl_c", "analyte", "egfr-ckd"):
        assert url_of(analyte) == reverse("monitoring:lab_history", args=[patient.public_id, analyte])
