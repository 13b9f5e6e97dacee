"""An SVG bar chart of median and 95th-percentile latency per page (plain Python, no dependencies)."""

from __future__ import annotations

from html import escape

ROW_H = 34
LABEL_W = 300
PLOT_W = 420
TOP = 40


def _measured(pages: list[dict]) -> list[dict]:
    return [p for p in pages if p.get("present") and p.get("wrk")]


def bar_chart_svg(pages: list[dict], *, target_ms: float | None = None, target_label: str = "") -> str:
    """Two bars per measured page (median, p95) on one linear millisecond scale, with the main pages' target
    (``target_ms``, named by ``target_label``) drawn in when given."""
    rows = _measured(pages)
    top_ms = max([target_ms or 1.0] + [p["wrk"]["p95_us"] / 1000 for p in rows]) * 1.1
    height = TOP + ROW_H * max(1, len(rows)) + 40
    width = LABEL_W + PLOT_W + 90

    def x(ms: float) -> float:
        return LABEL_W + PLOT_W * ms / top_ms

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12" role="img" '
        f'aria-labelledby="title"><title id="title">Latency per page: median and 95th percentile (ms)</title>',
        f'<rect width="{width}" height="{height}" fill="#fff"/>',
        f'<text x="{LABEL_W}" y="16" font-weight="bold">Latency per page (ms): median (dark) and p95 (light)</text>',
    ]
    for i, page in enumerate(rows):
        y = TOP + i * ROW_H
        p50 = page["wrk"]["p50_us"] / 1000
        p95 = page["wrk"]["p95_us"] / 1000
        parts.append(f'<text x="{LABEL_W - 8}" y="{y + 15}" text-anchor="end">{escape(page["title"])}</text>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 2}" width="{x(p50) - LABEL_W:.1f}" height="12" fill="#1f4e79"/>')
        parts.append(f'<rect x="{LABEL_W}" y="{y + 15}" width="{x(p95) - LABEL_W:.1f}" height="12" fill="#9dc3e6"/>')
        parts.append(f'<text x="{x(p50) + 4:.1f}" y="{y + 12}">{p50:.1f}</text>')
        parts.append(f'<text x="{x(p95) + 4:.1f}" y="{y + 25}">{p95:.1f}</text>')
    bottom = TOP + ROW_H * max(1, len(rows))
    if target_ms is not None:
        parts.append(
            f'<line x1="{x(target_ms):.1f}" y1="{TOP - 6}" x2="{x(target_ms):.1f}" y2="{bottom}" '
            'stroke="#c00000" stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{x(target_ms):.1f}" y="{bottom + 16}" text-anchor="middle" fill="#c00000">'
            f"{escape(target_label or 'target')} {target_ms:.1f} ms (median)</text>"
        )
    parts.append(f'<line x1="{LABEL_W}" y1="{TOP - 6}" x2="{LABEL_W}" y2="{bottom}" stroke="#000"/>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
