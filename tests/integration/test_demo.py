"""`iop demo` (`make demo`): what it prints is readable without knowing the code."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_runner import Run, run_iop

ORGANISATION = "Föreningen Öppna Dörren i Mjölby (802471-3052)"


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Run, Path]:
    folder = tmp_path_factory.mktemp("demo")  # the demo writes var/demo.db here
    return run_iop(folder / "unused.db", "demo"), folder


def line_with(out: str, *parts: str) -> str:
    found = [line for line in out.splitlines() if all(part in line for part in parts)]
    assert len(found) == 1, (parts, found)
    return found[0]


def test_the_demo_walks_the_agreement_to_closed(demo: tuple[Run, Path]) -> None:
    run, folder = demo
    assert run.code == 0, run
    assert "Final state: closed" in run.out
    demo_db = folder / "var" / "demo.db"
    assert demo_db.exists()
    assert f"IOP_DATABASE_URL=sqlite:///{demo_db.resolve()} .venv/bin/iop audit" in run.out


def test_organisations_are_named_not_only_numbered(demo: tuple[Run, Path]) -> None:
    out = demo[0].out
    assert f"  {ORGANISATION}, 2027-01-01 – 2031-12-31, state dialogue" in out
    assert f"not signed yet by: municipality, {ORGANISATION}" in out
    assert line_with(out, "Anna Berg", " sign ").endswith("signs for the municipality")
    assert line_with(out, "Sven Ek", " sign ").endswith(f"signs for {ORGANISATION}")
    # The organisationsnummer never stands alone.
    assert out.count("802471-3052") == out.count(ORGANISATION) > 0


def test_cascaded_is_explained_where_it_is_printed(demo: tuple[Run, Path]) -> None:
    lines = demo[0].out.splitlines()
    approval = next(n for n, line in enumerate(lines) if "(+1 cascaded)" in line)
    assert "approve_follow_up" in lines[approval]
    assert "the payout it held back is released at once" in lines[approval]
    assert lines[approval + 1].strip().startswith("cascaded = moved by this same step at once")
    assert lines[approval + 2].strip() == (
        "payout 2028-04-28: planned → released (follow-up 2027 approved)"
    )
    termination = next(n for n, line in enumerate(lines) if "(+10 cascaded)" in line)
    assert lines[termination + 1].strip().startswith("cascaded = ")
    assert lines[termination + 2].strip() == (
        "3 follow-ups 2029, 2030, 2031: planned → cancelled (terminated)"
    )
    assert lines[termination + 3].strip().startswith("7 payouts 2028-10-31, 2029-04-30, ")
    # The approval released the held payout: the script does not try again by hand.
    assert "is not allowed in state 'released'" not in demo[0].out


def test_the_termination_date_is_printed(demo: tuple[Run, Path]) -> None:
    out = demo[0].out
    assert line_with(out, "2028-06-10", "terminate").endswith(
        "termination date 2028-05-31, its last active day"
    )
    assert line_with(out, "raise_claim").endswith(
        "for the days after the termination date 2028-05-31: 24 725,27 kr"
    )
    assert (
        "Final state: closed (terminated as of 2028-05-31: Föreningen avvecklar mötesplatsen)"
        in out
    )
