"""The benchmark report in Markdown: a table per page, the targets met or missed, the machine (pure functions).

The targets are issue 16's, relative to the minimal signed-in view (``/bench/ok``) measured in the same run, so
they hold on a faster or slower machine: each main page's median within its ``target`` multiple of the minimal
view's (bench/pages.py: 6, the heavy patient page 8), a page with ``faster_than`` at least that many times as fast
as the page it names (the patient list: 4 times the Django admin change list), the same query count at both
database sizes, no errors under load, and every worker under TARGET_WORKER_MB. A main page that could not be
measured misses its targets.
"""

from __future__ import annotations

TARGET_WORKER_MB = 200.0
BASELINE_KEY = "minimal"


def _ms(us: float | None) -> str:
    return "–" if us is None else f"{us / 1000:.1f}"


def rps(page: dict) -> float:
    r = page["wrk"]
    return r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0


def _measured(page: dict) -> bool:
    return bool(page.get("present") and page.get("wrk"))


def median_ms(pages: list[dict], key: str) -> float | None:
    for page in pages:
        if page["key"] == key and _measured(page):
            return page["wrk"]["p50_us"] / 1000
    return None


def _title(pages: list[dict], key: str) -> str:
    return next((p["title"] for p in pages if p["key"] == key), key)


def multiple(page: dict, floor: float | None) -> float | None:
    """The page's median as a multiple of the minimal view's (None when either is not measured)."""
    if not floor or not _measured(page):
        return None
    return page["wrk"]["p50_us"] / 1000 / floor


def speedup(page: dict, pages: list[dict]) -> tuple[float | None, float | None, float | None]:
    """For a page with ``faster_than``: (this median, the other page's median, how many times as fast)."""
    if not page.get("faster_than"):
        return None, None, None
    mine = page["wrk"]["p50_us"] / 1000 if _measured(page) else None
    other = median_ms(pages, page["faster_than"][0])
    return mine, other, (other / mine if mine and other else None)


def target_text(page: dict, pages: list[dict]) -> str:
    """The page's targets in short: "≤ 6×", and "≥ 4× faster than <title>" where it has one."""
    parts = []
    if page.get("target") is not None:
        parts.append(f"≤ {page['target']:g}×")
    if page.get("faster_than"):
        key, factor = page["faster_than"]
        parts.append(f"≥ {factor:g}× faster than {_title(pages, key)}")
    return ", ".join(parts) or "–"


def multiple_miss(page: dict, pages: list[dict]) -> str | None:
    """Why a measured page misses its multiple of the minimal view, or None."""
    if page.get("target") is None:
        return None
    times = multiple(page, median_ms(pages, BASELINE_KEY))
    if times is None:
        return "minimal view not measured"
    return f"{times:.1f}× > {page['target']:g}×" if times > page["target"] else None


def speedup_miss(page: dict, pages: list[dict]) -> str | None:
    """Why a measured page is not as many times as fast as its ``faster_than`` page, or None."""
    if not page.get("faster_than"):
        return None
    key, factor = page["faster_than"]
    mine, other, times = speedup(page, pages)
    if mine is None:
        return "not measured"
    if other is None or times is None:
        return f"{_title(pages, key)} not measured"
    return f"only {times:.2f}× as fast as {_title(pages, key)} (≥ {factor:g}×)" if times < factor else None


def _answers_wrong(page: dict) -> list[str]:
    reasons = []
    if page.get("status") not in page.get("expect", [200]):
        reasons.append(f"answered {page.get('status')}")
    r = page["wrk"]
    if r["errors_status"] or r["errors_connect"] or r["errors_timeout"]:
        reasons.append("errors under load")
    return reasons


def _queries_miss(page: dict) -> str | None:
    if page.get("queries") is None or page.get("queries_tiny") is None:
        return "query count unknown"
    if page["queries"] != page["queries_tiny"]:
        return f"queries grow with data ({page['queries_tiny']} → {page['queries']})"
    return None


def missed_reasons(page: dict, pages: list[dict]) -> list[str]:
    """Why a main page misses its targets; empty when it meets them all."""
    if not _measured(page):
        return [_not_measured(page)]
    found = [multiple_miss(page, pages), speedup_miss(page, pages), _queries_miss(page)]
    return [r for r in found if r] + _answers_wrong(page)


def _not_measured(page: dict) -> str:
    return f"not measured ({page.get('error') or 'page not present in this build'})"


def page_verdict(page: dict, pages: list[dict]) -> str:
    """ "met", or "missed: <reasons>" for a main page; "yardstick" for the baseline and comparison pages."""
    if page["kind"] != "main":
        return "yardstick"
    reasons = missed_reasons(page, pages)
    return "met" if not reasons else "missed: " + ", ".join(reasons)


def target_rows(results: dict) -> list[tuple[str, str, list[str]]]:
    """(target, measured, what misses it) for each target of the run; an empty list means met."""
    pages = results["pages"]
    main = [p for p in pages if p["kind"] == "main"]
    measured = [p for p in main if _measured(p)]
    floor = median_ms(pages, BASELINE_KEY)
    rows = []

    judged = [p for p in main if p.get("target") is not None]
    limits = sorted({p["target"] for p in judged})
    limit_text = " (" + "; ".join(
        f"{', '.join(p['title'] for p in judged if p['target'] == t)} ≤ {t:g}×" for t in limits[1:]
    ) + ")" if len(limits) > 1 else ""  # fmt: skip
    multiples = [(times, p) for p in judged if (times := multiple(p, floor)) is not None]
    worst = max(multiples, key=lambda pair: pair[0], default=None)
    rows.append(
        (
            f"Every main page's median ≤ {limits[0]:g}× the minimal view's{limit_text}" if limits else "–",
            f"minimal view {floor:.1f} ms; slowest {worst[1]['title']} {worst[0]:.1f}×"
            if floor and worst
            else "minimal view not measured",
            [
                f"{p['title']} ({why})"
                for p in judged
                if (why := multiple_miss(p, pages) if _measured(p) else _not_measured(p))
            ],
        )
    )
    for page in main:
        if not page.get("faster_than"):
            continue
        key, factor = page["faster_than"]
        mine, other, times = speedup(page, pages)
        rows.append(
            (
                f"{page['title']} at least {factor:g}× as fast as {_title(pages, key)}",
                f"{mine:.1f} ms vs {other:.1f} ms ({times:.2f}×)" if mine and other and times else "not measured",
                []
                if times and times >= factor
                else [f"{page['title']} ({speedup_miss(page, pages) or 'not measured'})"],
            )
        )
    grow = [p for p in measured if _queries_miss(p)]
    rows.append(
        (
            f"Queries per page equal at both sizes ({results['tiny_patients']} and {results['patients']:,} patients)",
            f"{len(measured) - len(grow)} of {len(measured)} measured main pages constant",
            [f"{p['title']} ({_queries_miss(p)})" for p in grow],
        )
    )
    wrong = [p for p in measured if _answers_wrong(p)]
    rows.append(
        (
            "Every main page answers as expected, without errors under load",
            f"{len(measured) - len(wrong)} of {len(measured)} measured main pages",
            [f"{p['title']} ({', '.join(_answers_wrong(p))})" for p in wrong],
        )
    )
    peak = results.get("peak_worker_mb")
    rows.append(
        (
            f"Worker memory ≤ {TARGET_WORKER_MB:g} MB (peak VmHWM)",
            f"{peak:.0f} MB" if peak is not None else "not read",
            [] if peak is not None and peak <= TARGET_WORKER_MB else ["worker memory"],
        )
    )
    return rows


def render_report(results: dict) -> str:
    pages = results["pages"]
    measured = [p for p in pages if _measured(p)]
    absent = [p for p in pages if not _measured(p)]
    floor = median_ms(pages, BASELINE_KEY)
    m = results["machine"]
    w = results["wrk"]
    targets = target_rows(results)
    missed = [(target, misses) for target, _, misses in targets if misses]
    lines = [
        "# JAK Portal benchmark",
        "",
        f"{results['date']}: {results['patients']:,} synthetic patients (about {4 * results['patients']:,} courses, "
        f"{100 * results['patients']:,} lab results, {10 * results['patients']:,} scheduled checks). "
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['ram_gb']} GB RAM, Python {m['python']}. "
        f"gunicorn {results['workers']} sync workers on 127.0.0.1, DJANGO_DEBUG=0; "
        f"wrk -t{w['threads']} -c{w['connections']} -d{w['seconds']}s after a {w['warmup']} s warm-up per page. "
        f"Data build {results['generate_s']:.0f} s (0 when reused); whole run {results['total_s']:.0f} s.",
        "",
        "**All targets met.**"
        if not missed
        else f"**Targets missed: {len(missed)} of {len(targets)}.** "
        + " ".join(f"{target}: {', '.join(misses)}." for target, misses in missed),
        "",
        "![Median and p95 latency per page](chart.svg)",
        "",
        f"| Page | Median ms | p95 ms | Req/s | × minimal view | Target | Queries ({results['patients']:,}) "
        f"| Queries ({results['tiny_patients']}) | Status | Result |",
        "|---|---:|---:|---:|---:|---|---:|---:|---|---|",
    ]
    for page in measured:
        r = page["wrk"]
        times = multiple(page, floor)
        errors = r["errors_status"] + r["errors_connect"] + r["errors_timeout"] + r["errors_read"]
        status = f"{page['status']}" + (f", {errors} errors" if errors else "")
        lines.append(
            f"| {page['title']} | {_ms(r['p50_us'])} | {_ms(r['p95_us'])} | {rps(page):.0f} "
            f"| {'–' if times is None else f'{times:.1f}'} | {target_text(page, pages)} "
            f"| {page.get('queries', '–')} | {page.get('queries_tiny', '–')} | {status} | {page_verdict(page, pages)} |"
        )
    for page in absent:
        why = page.get("error") or "page not present in this build"
        lines.append(f"| {page['title']} | | | | | {target_text(page, pages)} | | | | not measured: {why} |")
    lines += ["", "## Targets", "", "| Target | Measured | Result |", "|---|---|---|"]
    for target, measured_text, misses in targets:
        lines.append(f"| {target} | {measured_text} | {'met' if not misses else 'missed: ' + ', '.join(misses)} |")
    lines += [
        "",
        "Latency is under load (wrk keeps every connection busy), so with more connections than workers it includes "
        "queueing; the × minimal-view column divides by the median of `/bench/ok`, a signed-in page through the whole "
        "middleware stack (session read and save, user) that does no work, so the ratios and the targets hold on a "
        "noisy machine. Query counts come from rendering each page once through Django's test client against each "
        "bench database. Every POST request sends a body of its own (its own date, values and one-time token), so "
        "each one is a save.",
        "",
    ]
    return "\n".join(lines)
