"""The portfolio's money chart: bars as tall as their amounts, Swedish labels, escaped text."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from iop_workflow.entrypoints.web.money_chart import money_chart_svg, money_table_rows

SVG = "{http://www.w3.org/2000/svg}"
ROWS = [
    {"year": 2026, "planned": 450_000_00, "released": 450_000_00, "blocked": 0, "claimed": 0},
    {
        "year": 2027,
        "planned": 1_300_000_00,
        "released": 230_000_00,
        "blocked": 230_000_00,
        "claimed": 12_500_50,
    },
]


def bars(svg: str) -> dict[tuple[str, str], float]:
    root = ET.fromstring(svg)
    return {
        (r.get("data-year", ""), r.get("data-kind", "")): float(r.get("height", "0"))
        for r in root.iter(f"{SVG}rect")
        if r.get("class") == "bar"
    }


def test_each_year_has_five_bars_as_tall_as_their_amounts() -> None:
    found = bars(money_chart_svg(ROWS))
    assert len(found) == 10  # planned, released, paid, blocked, claimed; two years
    assert found[("2027", "paid")] == 0  # the rows give no paid amount
    assert found[("2027", "planned")] > found[("2027", "released")] > 0
    assert found[("2026", "blocked")] == 0
    ratio = found[("2027", "planned")] / found[("2027", "released")]
    assert abs(ratio - 1_300_000 / 230_000) < 0.01


def test_the_chart_is_labelled_in_swedish_for_screen_readers() -> None:
    root = ET.fromstring(money_chart_svg(ROWS))
    assert root.get("role") == "img"
    title = root.find(f"{SVG}title")
    assert title is not None and "planerat, frisläppt, betalt, spärrat och återkrävt" in (
        title.text or ""
    )
    text = "".join(root.itertext())
    for label in ("Planerat", "Frisläppt", "Betalt", "Spärrat", "Återkrävt", "1 300 000 kr"):
        assert label in text


def test_no_amounts_says_so_and_the_table_formats_kronor() -> None:
    assert "Inga belopp att visa" in money_chart_svg([])
    table = money_table_rows(ROWS)
    assert table[1]["planned"] == "1 300 000 kr" and table[1]["claimed"] == "12 500,50 kr"


def test_text_is_escaped() -> None:
    svg = money_chart_svg([{"year": "<2027&>", "planned": 1}])
    ET.fromstring(svg)  # well-formed
    assert "<2027&>" not in svg
