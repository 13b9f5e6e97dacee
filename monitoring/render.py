"""The patient page's monitoring panel: its trend figures rendered in Python.

Why (issue 16, measured with bench/profile_page.py on the 10,000-patient bench database): the heavy record's page
drew 14 trends of up to ``TREND_POINTS_PER_TEST`` values each through ``monitoring/_trend_chart.html``: an include per
trend, a template lookup per SVG attribute, and ``format_html`` / ``conditional_escape`` per dot and per table cell
(about 1,700 of each). That was 20 ms CPU of a 52 ms page. Here each figure is one string join, with every value
escaped exactly as the template escaped it (``_esc`` is ``conditional_escape`` without its lazy-string wrapper);
the rest of the panel stays in ``monitoring/_patient_panel.html``. tests/monitoring/test_render.py checks the output
against the template this replaced, escaping included.
"""

from __future__ import annotations

import html
from typing import Any

from django.utils import dateformat
from django.utils.safestring import SafeString, mark_safe

from monitoring.selectors import patient_monitoring


def _esc(value: Any) -> str:
    """``conditional_escape`` as text: the value's own HTML when it has one, else the escaped ``str``."""
    if hasattr(value, "__html__"):
        return value.__html__()
    return html.escape(str(value))


def _dots(dots: list[dict]) -> str:
    """One circle per value (up to ``TREND_POINTS_PER_TEST`` per trend, most of a heavy page's figure text), with
    nothing escaped: every part is ours and holds no markup. ``x`` and ``y`` are floats rounded to one decimal inside
    the viewBox (``charts.line_chart``; ``_as_text`` leaves the dots as numbers), which ``str`` prints as the
    template did (``selectors._number_text``: never an exponent in that range); ``label`` is an ISO date and a
    number (``charts.fmt_number``). Measured: escaping them was a third of the heavy page's figure time."""
    return "".join(
        f'<circle class="dot" cx="{d["x"]}" cy="{d["y"]}" r="3.5"><title>{d["label"]}</title></circle>' for d in dots
    )


def _rows(rows: list[dict], unit: str) -> str:
    unit_text = _esc(unit)
    shown: dict[tuple[str, str], str] = {}  # flag and action cells: a handful of distinct pairs per trend
    out = []
    for r in rows:
        key = (r["flag"], r["action"])
        cell = shown.get(key)
        if cell is None:
            action = f" · action level: {_esc(r['action'])}" if r["action"] else ""
            cell = shown[key] = f"{_esc(r['flag'] or '—')}{action}"
        # date (ISO) and value (a decimal we formatted: selectors._table_row) hold no markup: not escaped
        out.append(f"<tr><td>{r['date']}</td><td>{r['value']}</td><td>{unit_text}</td><td>{cell}</td></tr>")
    return "".join(out)


def trend_figure(trend: dict, event_dates: dict | None = None) -> SafeString:
    """One trend (a lab test's or a score's, from ``patient_monitoring``) as the figure the page shows: caption,
    SVG chart with its title and description, the link to the full history, the values as a table.
    ``event_dates`` memoises the therapy events' dates as text (every chart of a page draws the same events)."""
    dates = {} if event_dates is None else event_dates
    chart = trend["chart"]
    plot = chart.plot
    tid = _esc(trend["id"])
    title = _esc(trend["title"])
    shown = (
        f' <span class="small fw-normal text-body-secondary">· {_esc(trend["shown"])}</span>'
        if trend.get("shown")
        else ""
    )
    y_ticks = "".join(
        f'<line class="grid" x1="{_esc(plot["x"])}" x2="{_esc(plot["right"])}" '
        f'y1="{_esc(t["y"])}" y2="{_esc(t["y"])}"/>'
        f'<text class="tick" x="{_esc(plot["tick_x"])}" y="{_esc(t["y"])}" text-anchor="end" '
        f'dominant-baseline="middle">{_esc(t["label"])}</text>'
        for t in chart.y_ticks
    )
    x_ticks = "".join(
        f'<text class="tick" x="{_esc(t["x"])}" y="{_esc(plot["date_y"])}" text-anchor="{_esc(t["anchor"])}">'
        f"{_esc(t['label'])}</text>"
        for t in chart.x_ticks
    )
    events = []
    for e in chart.events:
        on = dates.get(e["on"])
        if on is None:
            on = dates[e["on"]] = _esc(dateformat.format(e["on"], "j M Y"))
        events.append(
            f'<line class="event event-{_esc(e["kind"])}" x1="{_esc(e["x"])}" x2="{_esc(e["x"])}" y1="{_esc(e["y1"])}" '
            f'y2="{_esc(e["y2"])}"><title>{on}: {_esc(e["label"])}</title></line>'
        )
    levels = "".join(
        f'<line class="level level-{_esc(lv["kind"])}" x1="{_esc(lv["x1"])}" x2="{_esc(lv["x2"])}" '
        f'y1="{_esc(lv["y"])}" y2="{_esc(lv["y"])}"><title>{_esc(lv["label"])}</title></line>'
        f'<text class="level-label level-label-{_esc(lv["kind"])}" x="{_esc(lv["label_x"])}" '
        f'y="{_esc(lv["label_y"])}">{_esc(lv["short"])}</text>'
        for lv in chart.levels
    )
    history = ""
    if trend.get("history_url"):
        count = trend["count"]
        history = (
            f'<a href="{_esc(trend["history_url"])}">Full history ({_esc(count)} result{"" if count == 1 else "s"})</a>'
        )
    return mark_safe(  # noqa: S308  every text above went through _esc; numbers and dates of ours need none
        f'<figure class="trend mb-0" aria-labelledby="{tid}-cap">\n'
        f'  <figcaption class="h6 mb-1" id="{tid}-cap">{title}{shown}</figcaption>\n'
        f'  <svg class="trend-chart" viewBox="0 0 {_esc(chart.width)} {_esc(chart.height)}" role="img" '
        f'aria-labelledby="{tid}-t {tid}-d" xmlns="http://www.w3.org/2000/svg">\n'
        f'    <title id="{tid}-t">{title} over time</title>\n'
        f'    <desc id="{tid}-d">{_esc(trend["desc"])}</desc>\n'
        f"    {y_ticks}\n"
        f"    {x_ticks}\n"
        f"    {''.join(events)}\n"
        f"    {levels}\n"
        f'    <polyline class="series" points="{_esc(chart.path)}" fill="none"/>\n'
        f"    {_dots(chart.dots)}\n"
        "  </svg>\n"
        '  <div class="d-flex flex-wrap gap-3 align-items-baseline small">\n'
        f"    {history}\n"
        f"    <details><summary>Values as a table ({len(trend['rows'])})</summary>\n"
        '      <table class="table table-sm mt-2">\n'
        f'        <caption class="visually-hidden">{title}: values, newest first</caption>\n'
        '        <thead><tr><th scope="col">Date</th><th scope="col">Value</th><th scope="col">Unit</th>'
        '<th scope="col">Flag</th></tr></thead>\n'
        f"        <tbody>{_rows(trend['rows'], trend['unit'])}</tbody>\n"
        "      </table>\n"
        "    </details>\n"
        "  </div>\n"
        "</figure>\n"
    )


def patient_panel(patient, user=None) -> dict:
    """The monitoring panel's context (registered in apps.py): ``patient_monitoring`` with each trend's figure
    as ``trend.html``."""
    context = patient_monitoring(patient, user)
    event_dates: dict = {}
    for trend in (*context["lab_charts"], *context["score_charts"]):
        trend["html"] = trend_figure(trend, event_dates)
    return context
