"""Trend chart geometry: pure functions from dated values to SVG coordinates (no Django, no JavaScript).

The template draws what ``line_chart`` returns: a polyline with a dot per value, horizontal lines for the drug's
action levels (a short label inside the plot, the full one as the line's tooltip and in the chart's description) and
vertical lines for therapy events (named once above the charts). Coordinates are SVG user units.

Every text stays inside the viewBox: nothing is drawn in a margin that the SVG's edge could cut, so the chart can be
scaled down to a phone's width (the labels are sized for a chart about 360 px wide).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

WIDTH = 420
HEIGHT = 160
LEFT = 44  # room for the y-axis numbers
RIGHT = 10
TOP = 10
BOTTOM = 24  # room for the first and last date
LABEL_HEIGHT = 12  # a label's line height in user units (the stylesheet's font size is 11)


@dataclass(frozen=True)
class Point:
    on: date
    value: Decimal


@dataclass(frozen=True)
class Level:
    value: Decimal
    label: str  # in full, for the tooltip: "Discontinue Abrocitinib (below 50 ×10³/µL)"
    kind: str = "interrupt"  # css modifier: discontinue / interrupt / target
    short: str = ""  # inside the plot, a few words: "Abrocitinib: discontinue <50"; the full label when empty


@dataclass(frozen=True)
class Event:
    on: date
    label: str
    kind: str = "start"  # start / dose_change / interruption / resumption / stop


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    path: str
    dots: list[dict] = field(default_factory=list)
    levels: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    y_ticks: list[dict] = field(default_factory=list)
    x_ticks: list[dict] = field(default_factory=list)
    plot: dict = field(default_factory=dict)


def _r(value: float) -> float:
    return round(value, 1)


def nice_step(span: float, ticks: int = 4) -> float:
    """A 1-2-5 step that gives about ``ticks`` gridlines over ``span``."""
    if span <= 0:
        return 1.0
    raw = span / ticks
    base = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if base * multiple >= raw:
            return base * multiple
    return base * 10


def date_label(on: date) -> str:
    """ "1 Jul 2026": shorter than ISO on a phone, and unambiguous in every locale."""
    return f"{on.day} {on:%b %Y}"


def fmt_number(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return text or "0"


def line_chart(
    points: Sequence[Point],
    *,
    levels: Sequence[Level] = (),
    events: Sequence[Event] = (),
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Geometry for one analyte or score over time. Needs at least one point."""
    if not points:
        raise ValueError("a chart needs at least one value")
    points = sorted(points, key=lambda p: p.on)
    first, last = points[0].on, points[-1].on
    in_range = [e for e in events if first - timedelta(days=365) <= e.on <= last]
    start = min([first, *(e.on for e in in_range)])
    end = last
    if (end - start).days < 14:
        start, end = start - timedelta(days=7), end + timedelta(days=7)
    values = [float(p.value) for p in points] + [float(level.value) for level in levels]
    low, high = min(0.0, min(values)), max(values)
    if high == low:
        high = low + 1
    step = nice_step(high - low)
    high = (int(high / step) + 1) * step
    plot_w, plot_h = width - LEFT - RIGHT, height - TOP - BOTTOM
    days = max((end - start).days, 1)

    def x(on: date) -> float:
        return _r(LEFT + plot_w * (on - start).days / days)

    def y(value: float) -> float:
        return _r(TOP + plot_h * (1 - (value - low) / (high - low)))

    coords = [(x(p.on), y(float(p.value))) for p in points]
    path = " ".join(f"{cx},{cy}" for cx, cy in coords)
    dots = [
        {"x": cx, "y": cy, "label": f"{p.on.isoformat()}: {fmt_number(float(p.value))}"}
        for (cx, cy), p in zip(coords, points, strict=True)
    ]
    level_rows = []
    for level in levels:
        ly = y(float(level.value))
        # The short label sits just above its line, or just below it when the line runs along the top.
        label_y = ly - 3 if ly - LABEL_HEIGHT >= TOP else ly + LABEL_HEIGHT - 2
        level_rows.append(
            {
                "y": ly,
                "x1": LEFT,
                "x2": LEFT + plot_w,
                "label": level.label,
                "short": level.short or level.label,
                "label_x": LEFT + 4,
                "label_y": _r(label_y),
                "kind": level.kind,
            }
        )
    event_rows = [
        {"x": x(e.on), "y1": TOP, "y2": TOP + plot_h, "label": e.label, "kind": e.kind, "on": e.on} for e in in_range
    ]
    y_ticks = []
    tick = low
    while tick <= high + step / 1000:
        y_ticks.append({"y": y(tick), "label": fmt_number(tick)})
        tick += step
    x_ticks = [
        {"x": x(start), "label": date_label(start), "anchor": "start"},
        {"x": x(end), "label": date_label(end), "anchor": "end"},
    ]
    return Chart(
        width=width,
        height=height,
        path=path,
        dots=dots,
        levels=level_rows,
        events=event_rows,
        y_ticks=y_ticks,
        x_ticks=x_ticks,
        plot={
            "x": LEFT,
            "y": TOP,
            "w": plot_w,
            "h": plot_h,
            "bottom": TOP + plot_h,
            "right": LEFT + plot_w,
            "tick_x": LEFT - 5,  # the y-axis numbers end here
            "date_y": TOP + plot_h + LABEL_HEIGHT + 4,  # the dates' baseline, inside the viewBox
        },
    )
