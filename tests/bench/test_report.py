"""Pure formatting of the benchmark report and chart (no server, no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.chart import bar_chart_svg
from bench.pages import MAIN, PAGES
from bench.report import BASELINE_KEY, page_verdict, render_report


def wrk(p50_ms, p95_ms, requests=1000, seconds=10):
    return {
        "requests": requests, "duration_us": seconds * 1_000_000, "errors_connect": 0, "errors_read": 0,
        "errors_write": 0, "errors_status": 0, "errors_timeout": 0, "p50_us": p50_ms * 1000, "p90_us": p95_ms * 1000,
        "p95_us": p95_ms * 1000, "p99_us": p95_ms * 1000, "mean_us": p50_ms * 1000, "max_us": p95_ms * 1000,
    }  # fmt: skip


def page(key, kind="main", p50=10, p95=20, queries=5, tiny=5, status=200, target=6.0, **extra):
    return {
        "key": key, "title": f"Page <{key}>", "kind": kind, "present": True, "wrk": wrk(p50, p95), "queries": queries,
        "queries_tiny": tiny, "status": status, "expect": [200], "target": target if kind == "main" else None, **extra,
    }  # fmt: skip


def results(*pages, peak=80.0):
    return {
        "date": "2026-01-01 00:00 UTC",
        "patients": 10_000,
        "tiny_patients": 20,
        "machine": {"cpu": "Test CPU", "cores": 2, "ram_gb": 4.0, "python": "3.11"},
        "wrk": {"threads": 2, "connections": 2, "seconds": 10, "warmup": 2},
        "workers": 2,
        "generate_s": 30,
        "total_s": 200,
        "peak_worker_mb": peak,
        "pages": list(pages),
    }


MINIMAL = page("minimal", kind="baseline", p50=5)
ADMIN = page("admin_changelist", kind="comparison", p50=60)
RESULTS = results(
    MINIMAL,
    page("patient_list", p50=12, faster_than=["admin_changelist", 4.0]),  # 2.4×, 5× faster: met
    ADMIN,
    page("patient", p50=31, queries=9, tiny=7),  # 6.2× > 6×
    page("patient_heavy", p50=40, target=8.0),  # exactly 8×: met
    {"key": "worklist", "title": "Nurse worklist", "kind": "main", "present": False, "target": 6.0},
)


def test_verdicts_judge_the_multiple_of_the_minimal_view():
    pages = [MINIMAL, ADMIN]
    assert page_verdict(page("a", p50=30), pages) == "met"  # 6× exactly
    assert page_verdict(page("a", p50=31), pages) == "missed: 6.2× > 6×"
    assert page_verdict(page("a", p50=39, target=8.0), pages) == "met"
    assert page_verdict(page("a", kind="baseline"), pages) == "yardstick"
    verdict = page_verdict(page("a", p50=150, queries=9, tiny=7, status=500), pages)
    assert verdict == "missed: 30.0× > 6×, queries grow with data (7 → 9), answered 500"
    assert page_verdict(page("a", p50=10), [ADMIN]) == "missed: minimal view not measured"


def test_verdict_of_a_page_that_must_beat_another():
    pages = [MINIMAL, ADMIN]
    assert page_verdict(page("a", p50=15, faster_than=["admin_changelist", 4.0]), pages) == "met"  # 4× exactly
    slow = page("a", p50=20, faster_than=["admin_changelist", 4.0])
    assert page_verdict(slow, pages) == ("missed: only 3.00× as fast as Page <admin_changelist> (≥ 4×)")
    assert page_verdict(slow, [MINIMAL]) == "missed: admin_changelist not measured"


def test_report_table_targets_and_absent_pages():
    text = render_report(RESULTS)
    expected_lines = (
        "| Page <patient_list> | 12.0 | 20.0 | 100 | 2.4 | ≤ 6×, ≥ 4× faster than Page <admin_changelist> | 5 | 5 "
        "| 200 | met |",
        "| Page <patient> | 31.0 | 20.0 | 100 | 6.2 | ≤ 6× | 9 | 7 | 200 | missed: 6.2× > 6×, queries grow",
        "| Page <patient_heavy> | 40.0 | 20.0 | 100 | 8.0 | ≤ 8× | 5 | 5 | 200 | met |",
        "| Nurse worklist | | | | | ≤ 6× | | | | not measured: page not present in this build |",
        "| Page <minimal> | 5.0 | 20.0 | 100 | 1.0 | – | 5 | 5 | 200 | yardstick |",
        "| 12.0 ms vs 60.0 ms (5.00×) | met |",
        "| Worker memory ≤ 200 MB (peak VmHWM) | 80 MB | met |",
        "![Median and p95 latency per page](chart.svg)",
    )
    missing = [line for line in expected_lines if line not in text]
    assert not missing, text


def test_report_says_exactly_which_targets_are_missed():
    text = render_report(RESULTS)
    assert "**Targets missed: 2 of 5.**" in text
    assert (
        "| Every main page's median ≤ 6× the minimal view's (Page <patient_heavy> ≤ 8×) "
        "| minimal view 5.0 ms; slowest Page <patient_heavy> 8.0× "
        "| missed: Page <patient> (6.2× > 6×), Nurse worklist (not measured (page not present in this build)) |"
    ) in text
    assert "| 2 of 3 measured main pages constant | missed: Page <patient> (queries grow with data (7 → 9)) |" in text
    assert "| Every main page answers as expected, without errors under load | 3 of 3 measured main pages | met |" in (
        text
    )


def test_report_all_met_and_the_failures_of_the_other_targets():
    assert "**All targets met.**" in render_report(results(MINIMAL, ADMIN, page("a", p50=12)))
    text = render_report(
        results(MINIMAL, page("a", p50=20, faster_than=["admin_changelist", 4.0], status=302), ADMIN, peak=250.0)
    )
    assert "| Page <a> at least 4× as fast as Page <admin_changelist> | 20.0 ms vs 60.0 ms (3.00×) " in text
    assert "| missed: Page <a> (only 3.00× as fast as Page <admin_changelist> (≥ 4×)) |" in text
    assert "| Worker memory ≤ 200 MB (peak VmHWM) | 250 MB | missed: worker memory |" in text
    assert "| 0 of 1 measured main pages | missed: Page <a> (answered 302) |" in text
    assert "**Targets missed: 3 of 5.**" in text


def test_chart_is_valid_svg_with_two_bars_per_measured_page():
    svg = bar_chart_svg(RESULTS["pages"], target_ms=30.0, target_label="target 6× minimal view:")
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 1 + 2 * 5  # background + median and p95 for each measured page
    assert "Page &lt;patient&gt;" in svg
    assert "target 6× minimal view: 30.0 ms (median)" in svg
    assert "target" not in bar_chart_svg(RESULTS["pages"]).split("</title>", 1)[1]


def test_page_specs_are_unique_and_complete():
    keys = [p.key for p in PAGES]
    assert len(keys) == len(set(keys))
    assert {"minimal", "patient_list", "admin_changelist", "worklist", "alerts", "lab_panel_post"} <= set(keys)
    assert all(p.form is not None for p in PAGES if p.method == "POST")
    by_key = {p.key: p for p in PAGES}
    assert {p.key for p in PAGES if p.kind != MAIN} == {"minimal", "healthz", "admin_changelist"}
    assert all(p.target is None for p in PAGES if p.kind != MAIN)
    assert {p.key: p.target for p in PAGES if p.kind == MAIN and p.target != 6.0} == {"patient_heavy": 8.0}
    assert by_key["patient_list"].faster_than == ("admin_changelist", 4.0)
    assert by_key["minimal"].key == BASELINE_KEY
