"""Pure formatting of the benchmark report and chart (no server, no database)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bench.chart import bar_chart_svg
from bench.pages import PAGES
from bench.report import page_verdict, render_report


def wrk(p50_ms, p95_ms, requests=1000, seconds=10):
    return {
        "requests": requests, "duration_us": seconds * 1_000_000, "errors_connect": 0, "errors_read": 0,
        "errors_write": 0, "errors_status": 0, "errors_timeout": 0, "p50_us": p50_ms * 1000, "p90_us": p95_ms * 1000,
        "p95_us": p95_ms * 1000, "p99_us": p95_ms * 1000, "mean_us": p50_ms * 1000, "max_us": p95_ms * 1000,
    }  # fmt: skip


def page(key, kind="main", p50=10, p95=20, queries=5, tiny=5, status=200, **extra):
    return {
        "key": key, "title": f"Page <{key}>", "kind": kind, "present": True, "wrk": wrk(p50, p95), "queries": queries,
        "queries_tiny": tiny, "status": status, "expect": [200], **extra,
    }  # fmt: skip


RESULTS = {
    "date": "2026-01-01 00:00 UTC",
    "patients": 10_000,
    "tiny_patients": 20,
    "machine": {"cpu": "Test CPU", "cores": 2, "ram_gb": 4.0, "python": "3.11"},
    "wrk": {"threads": 2, "connections": 8, "seconds": 10, "warmup": 2},
    "workers": 2,
    "generate_s": 30,
    "total_s": 200,
    "peak_worker_mb": 80.0,
    "pages": [
        page("minimal", kind="baseline", p50=5),
        page("patient_list", p50=20),
        page("admin_changelist", kind="comparison", p50=60),
        page("patient", p50=150, queries=9, tiny=7),
        {"key": "worklist", "title": "Nurse worklist", "kind": "main", "present": False},
    ],
}


def test_verdicts():
    assert page_verdict(page("a")) == "met"
    assert page_verdict(page("a", kind="baseline")) == "yardstick"
    verdict = page_verdict(page("a", p50=150, queries=9, tiny=7, status=500))
    assert verdict == "missed: median ≥ 100 ms, queries grow with data, answered 500"


def test_report_table_targets_and_absent_pages():
    text = render_report(RESULTS)
    assert "| Page <patient_list> | 20.0 | 20.0 | 100 | 4.0 | 5 | 5 | 200 | met |" in text
    assert "| Nurse worklist | | | | | | | | not measured: page not present in this build |" in text
    assert "20.0 ms vs 60.0 ms (3.00×) | met |" in text
    assert "| Worker memory under 200 MB (peak VmHWM) | 80 MB | met |" in text
    assert "missed: Page <patient>" in text
    assert "![Median and p95 latency per page](chart.svg)" in text


def test_chart_is_valid_svg_with_two_bars_per_measured_page():
    svg = bar_chart_svg(RESULTS["pages"])
    root = ET.fromstring(svg)  # noqa: S314 (our own output)
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert len(rects) == 1 + 2 * 4  # background + median and p95 for each measured page
    assert "Page &lt;patient&gt;" in svg


def test_page_specs_are_unique_and_complete():
    keys = [p.key for p in PAGES]
    assert len(keys) == len(set(keys))
    assert {"minimal", "patient_list", "admin_changelist", "worklist", "alerts", "lab_panel_post"} <= set(keys)
    assert all(p.form is not None for p in PAGES if p.method == "POST")
