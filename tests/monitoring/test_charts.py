"""Trend chart geometry, without Django."""

import datetime as dt
from decimal import Decimal as D

import pytest

from monitoring import charts

DAY = dt.date(2026, 1, 1)


def test_values_map_inside_the_plot_and_lower_values_sit_lower():
    chart = charts.line_chart([charts.Point(DAY, D(200)), charts.Point(DAY + dt.timedelta(days=30), D(45))])
    (x1, y1), (x2, y2) = (tuple(map(float, p.split(","))) for p in chart.path.split())
    assert charts.LEFT <= x1 < x2 <= chart.width - charts.RIGHT
    assert y2 > y1  # SVG y grows downwards
    assert all(charts.TOP <= d["y"] <= chart.plot["bottom"] for d in chart.dots)


def test_action_level_is_a_horizontal_line_in_range():
    chart = charts.line_chart(
        [charts.Point(DAY, D(200)), charts.Point(DAY + dt.timedelta(days=30), D(120))],
        levels=[charts.Level(D(50), "Discontinue abrocitinib (<50)", "discontinue")],
    )
    level = chart.levels[0]
    assert level["x1"] < level["x2"]
    assert charts.TOP <= level["y"] <= chart.plot["bottom"]
    assert level["y"] > max(d["y"] for d in chart.dots)  # 50 is below both values
    assert level["kind"] == "discontinue"


def test_therapy_events_are_vertical_lines_at_their_date():
    chart = charts.line_chart(
        [charts.Point(DAY, D(5)), charts.Point(DAY + dt.timedelta(days=60), D(6))],
        events=[
            charts.Event(DAY + dt.timedelta(days=30), "stop", "stop"),
            charts.Event(DAY - dt.timedelta(days=900), "old"),
        ],
    )
    assert len(chart.events) == 1  # events long before the first value are left out
    event = chart.events[0]
    assert event["x"] == pytest.approx((chart.dots[0]["x"] + chart.dots[1]["x"]) / 2, abs=0.2)
    assert event["y1"] < event["y2"]


def test_single_point_and_flat_series_do_not_divide_by_zero():
    chart = charts.line_chart([charts.Point(DAY, D(3))])
    assert len(chart.dots) == 1
    assert chart.y_ticks


def test_empty_series_is_refused():
    with pytest.raises(ValueError, match="at least one"):
        charts.line_chart([])


@pytest.mark.parametrize(("span", "step"), [(250, 100), (10, 5), (0.3, 0.1), (72, 20)])
def test_nice_step(span, step):
    assert charts.nice_step(span) == pytest.approx(step)


def test_every_label_stays_inside_the_svg():
    """Labels used to run into a right margin and were cut at the SVG's edge on narrow screens."""
    chart = charts.line_chart(
        [charts.Point(DAY, D(200)), charts.Point(DAY + dt.timedelta(days=30), D(120))],
        levels=[
            charts.Level(D(50), "Discontinue abrocitinib (below 50 ×10³/µL)", "discontinue", "Abrocitinib: <50"),
            charts.Level(D(290), "A level along the top of the plot", "interrupt"),
        ],
    )
    for level in chart.levels:
        assert level["label_y"] - charts.LABEL_HEIGHT + 2 >= charts.TOP  # the label's top
        assert level["label_y"] <= chart.plot["bottom"]
        assert level["label_x"] > charts.LEFT
    assert [lv["short"] for lv in chart.levels] == ["Abrocitinib: <50", "A level along the top of the plot"]
    first, last = chart.x_ticks
    assert (first["anchor"], last["anchor"]) == ("start", "end")  # the dates grow into the plot, not off it
    assert last["x"] <= chart.width
    assert chart.plot["date_y"] <= chart.height
    assert first["label"] == "1 Jan 2026"


@pytest.mark.parametrize("value", [0, 7, 360, 12.5, -3.25, 0.1, 1e-07, 123456.75, 2.0])
def test_chart_numbers_as_text_match_the_template(value):
    """The chart's numbers are turned into text once (monitoring.selectors._number_text); the page must read
    as it did when the template localized each one."""
    from django.template import Context, Template

    from monitoring.selectors import _number_text

    assert _number_text(value) == Template("{{ v }}").render(Context({"v": value}))
