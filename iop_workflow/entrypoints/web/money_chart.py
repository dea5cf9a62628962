"""The portfolio's chart of money per year (planned, released, paid, blocked, claimed) as an
inline SVG: no script, no external file, so the page's Content-Security-Policy holds.
The same numbers go in a table beside it (`money_table_rows`); the chart has a title
and a description for screen readers, and colours of at least 3:1 against white
(WCAG 1.4.11) that differ in lightness too."""

from __future__ import annotations

from html import escape
from typing import Any

from .render import kr

KINDS = (
    ("planned", "Planerat", "#1f4e79"),
    ("released", "Frisläppt", "#2e7d32"),
    ("paid", "Betalt", "#8a4b00"),
    ("blocked", "Spärrat", "#b3261e"),
    ("claimed", "Återkrävt", "#6a3d9a"),
)
WIDTH, HEIGHT = 760, 320
LEFT, RIGHT, TOP, BOTTOM = 120, 20, 20, 70
TITLE = "Pengar per år: planerat, frisläppt, betalt, spärrat och återkrävt"


def money_table_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The chart's numbers, formatted for its table: "1 300 000 kr"."""
    return [{"year": r["year"], **{k: kr(int(r.get(k, 0))) for k, _, _ in KINDS}} for r in rows]


def _ticks(top: int) -> list[int]:
    """Round steps (1, 2 or 5 times a power of ten) from 0 to at least `top`, at most six."""
    if top <= 0:
        return [0]
    power = 1
    while True:
        for step in (power, 2 * power, 5 * power):
            if step * 5 >= top:
                return [step * i for i in range(6) if step * (i - 1) < top]
        power *= 10


def money_chart_svg(rows: list[dict[str, Any]]) -> str:
    """Grouped bars, one group per year, one bar per kind; öre in, kronor shown."""
    if not rows:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="60" '
            f'viewBox="0 0 {WIDTH} 60" aria-labelledby="chart-title">'
            f'<title id="chart-title">{escape(TITLE)}</title>'
            '<text x="10" y="35" font-size="16" fill="#1b1b1b">Inga belopp att visa</text></svg>'
        )
    ticks = _ticks(max(int(r.get(k, 0)) for r in rows for k, _, _ in KINDS))
    top = ticks[-1] or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    group = plot_w / len(rows)
    bar = min(28.0, group * 0.8 / len(KINDS))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" aria-labelledby="chart-title chart-desc">',
        f'<title id="chart-title">{escape(TITLE)}</title>',
        f'<desc id="chart-desc">{escape(_describe(rows))}</desc>',
    ]
    for tick in ticks:
        y = TOP + plot_h - plot_h * tick / top
        parts.append(
            f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#767676" '
            'stroke-width="0.5"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" font-size="12" text-anchor="end" '
            f'fill="#1b1b1b">{escape(kr(tick))}</text>'
        )
    for i, row in enumerate(rows):
        x0 = LEFT + group * i + (group - bar * len(KINDS)) / 2
        for j, (key, label, colour) in enumerate(KINDS):
            value = int(row.get(key, 0))
            h = plot_h * value / top
            tip = escape(f"{label} {row['year']}: {kr(value)}")
            parts.append(
                f'<rect class="bar" data-kind="{key}" data-year="{escape(str(row["year"]))}" '
                f'data-ore="{value}" x="{x0 + bar * j:.1f}" y="{TOP + plot_h - h:.1f}" '
                f'width="{bar - 2:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{tip}</title></rect>"
            )
        parts.append(
            f'<text x="{LEFT + group * (i + 0.5):.1f}" y="{TOP + plot_h + 18}" font-size="13" '
            f'text-anchor="middle" fill="#1b1b1b">{escape(str(row["year"]))}</text>'
        )
    for j, (_, label, colour) in enumerate(KINDS):
        x = LEFT + j * 150
        parts.append(
            f'<rect x="{x}" y="{HEIGHT - 28}" width="14" height="14" fill="{colour}"/>'
            f'<text x="{x + 20}" y="{HEIGHT - 16}" font-size="13" fill="#1b1b1b">'
            f"{escape(label)}</text>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _describe(rows: list[dict[str, Any]]) -> str:
    return "; ".join(
        f"{r['year']}: "
        + ", ".join(f"{label.lower()} {kr(int(r.get(k, 0)))}" for k, label, _ in KINDS)
        for r in rows
    )
