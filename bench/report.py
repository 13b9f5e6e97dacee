"""The benchmark report in Markdown: a table per page, the targets met or missed, the machine (pure functions)."""

from __future__ import annotations

TARGET_MEDIAN_MS = 100.0
TARGET_LIST_VS_ADMIN = 2.0
TARGET_WORKER_MB = 200.0


def _ms(us: float | None) -> str:
    return "–" if us is None else f"{us / 1000:.1f}"


def rps(page: dict) -> float:
    r = page["wrk"]
    return r["requests"] / (r["duration_us"] / 1e6) if r["duration_us"] else 0.0


def median_ms(pages: list[dict], key: str) -> float | None:
    for page in pages:
        if page["key"] == key and page.get("present") and page.get("wrk"):
            return page["wrk"]["p50_us"] / 1000
    return None


def page_verdict(page: dict) -> str:
    """ "met", or "missed: <reasons>" for a main page; "yardstick" for the baseline and comparison pages."""
    if page["kind"] != "main":
        return "yardstick"
    reasons = []
    r = page["wrk"]
    if r["p50_us"] / 1000 >= TARGET_MEDIAN_MS:
        reasons.append(f"median ≥ {TARGET_MEDIAN_MS:g} ms")
    if page.get("queries") is None or page.get("queries_tiny") is None:
        reasons.append("query count unknown")
    elif page["queries"] != page["queries_tiny"]:
        reasons.append("queries grow with data")
    if page.get("status") not in page.get("expect", [200]):
        reasons.append(f"answered {page.get('status')}")
    if r["errors_status"] or r["errors_connect"] or r["errors_timeout"]:
        reasons.append("errors under load")
    return "met" if not reasons else "missed: " + ", ".join(reasons)


def render_report(results: dict) -> str:
    pages = results["pages"]
    measured = [p for p in pages if p.get("present") and p.get("wrk")]
    absent = [p for p in pages if not p.get("present")]
    floor = median_ms(pages, "minimal")
    m = results["machine"]
    w = results["wrk"]
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
        "![Median and p95 latency per page](chart.svg)",
        "",
        f"| Page | Median ms | p95 ms | Req/s | × minimal view | Queries ({results['patients']:,}) "
        f"| Queries ({results['tiny_patients']}) | Status | Target |",
        "|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for page in measured:
        r = page["wrk"]
        ratio = f"{r['p50_us'] / 1000 / floor:.1f}" if floor else "–"
        errors = r["errors_status"] + r["errors_connect"] + r["errors_timeout"] + r["errors_read"]
        status = f"{page['status']}" + (f", {errors} errors" if errors else "")
        lines.append(
            f"| {page['title']} | {_ms(r['p50_us'])} | {_ms(r['p95_us'])} | {rps(page):.0f} | {ratio} "
            f"| {page.get('queries', '–')} | {page.get('queries_tiny', '–')} | {status} | {page_verdict(page)} |"
        )
    for page in absent:
        why = page.get("error") or "page not present in this build"
        lines.append(f"| {page['title']} | | | | | | | | not measured: {why} |")
    lines += ["", "## Targets", "", "| Target | Measured | Result |", "|---|---|---|"]
    main = [p for p in measured if p["kind"] == "main"]
    slow = [p["title"] for p in main if p["wrk"]["p50_us"] / 1000 >= TARGET_MEDIAN_MS]
    worst = max((p["wrk"]["p50_us"] / 1000 for p in main), default=None)
    lines.append(
        f"| Every main page under {TARGET_MEDIAN_MS:g} ms median | slowest {worst:.1f} ms | "
        + ("met" if not slow else "missed: " + ", ".join(slow))
        + " |"
        if worst is not None
        else "| Every main page under 100 ms median | nothing measured | missed |"
    )
    grow = [p["title"] for p in main if p.get("queries") != p.get("queries_tiny")]
    lines.append(
        f"| Queries per page do not grow with data ({results['tiny_patients']} vs {results['patients']:,} patients) | "
        f"{len(main) - len(grow)} of {len(main)} pages constant | "
        + ("met" if not grow else "missed: " + ", ".join(grow))
        + " |"
    )
    plist, admin = median_ms(pages, "patient_list"), median_ms(pages, "admin_changelist")
    if plist and admin:
        speedup = admin / plist
        verdict = "met" if speedup >= TARGET_LIST_VS_ADMIN else "missed"
        lines.append(
            f"| Patient list at least {TARGET_LIST_VS_ADMIN:g}× as fast as the admin change list | "
            f"{plist:.1f} ms vs {admin:.1f} ms ({speedup:.2f}×) | {verdict} |"
        )
    peak = results.get("peak_worker_mb")
    if peak is not None:
        verdict = "met" if peak < TARGET_WORKER_MB else "missed"
        lines.append(f"| Worker memory under {TARGET_WORKER_MB:g} MB (peak VmHWM) | {peak:.0f} MB | {verdict} |")
    if absent:
        lines += [
            "",
            "Not measured: "
            + "; ".join(f"{p['title']} ({p.get('error') or 'page not present in this build'})" for p in absent)
            + ".",
        ]
    lines += [
        "",
        "Latency is under load (wrk keeps every connection busy), so with more connections than workers it includes "
        "queueing; the × minimal-view column divides by the median of `/bench/ok`, a signed-in page through the whole "
        "middleware stack (session read and save, user) that does no work, so the ratios hold on a noisy machine. "
        "Query counts come from rendering each page once through Django's test client against each bench database.",
        "",
    ]
    return "\n".join(lines)
