"""The three amendment and closing gaps as a user meets them: `iop` as a subprocess.

Each test runs on its own copy of a SQLite database with examples/mjolby.yaml imported,
and uses the running agreement OSN 2024/0087 (2025-01-01 – 2027-12-31, payouts released
through 2026-10-30, the follow-up of 2025 approved).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_cli_acceptance import EXAMPLES, Cli, copy_database, transition_args

REF = "OSN 2024/0087"
ANNA, PER, LEILA = "Anna Berg", "Per Sandberg", "Leila Haddad"
STATISTICS = (
    "statistics.individkontakter=120",
    "statistics.unika besökare=40",
    "statistics.informationstillfällen=6",
)
DOCUMENT_KINDS = ("income_statement", "balance_sheet", "activity_report", "statistics")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_file = tmp_path_factory.mktemp("amendment-cli") / "iop.db"
    cli = Cli(db_file)
    cli.ok("db", "upgrade")
    cli.ok("import", str(EXAMPLES / "mjolby.yaml"))
    return db_file


@pytest.fixture
def cli(prepared: Path, tmp_path: Path) -> Cli:
    copy_database(prepared, tmp_path / "iop.db")
    return Cli(tmp_path / "iop.db")


def amend(cli: Cli, as_of: str, *sets: str) -> list[str]:
    return transition_args(
        REF,
        "amend",
        PER,
        as_of,
        f"decided_on={as_of}",
        "paragraph=§ 12",
        "description=Tilläggsavtal",
        *sets,
    )


def approve_follow_up(cli: Cli, year: int, day: str) -> None:
    y = f"year={year}"
    cli.step(REF, "open_follow_up", ANNA, day, y)
    for kind in DOCUMENT_KINDS:
        cli.step(REF, "receive_document", LEILA, day, y, f"kind={kind}")
    cli.step(REF, "submit_report", LEILA, day, y, *STATISTICS)
    cli.step(REF, "approve_follow_up", ANNA, day, y)


def of_year(show: dict[str, Any], year: int) -> tuple[str | None, list[tuple[str, int]]]:
    follow_up = next((f["state"] for f in show["follow_ups"] if f["year"] == year), None)
    payouts = [
        (p["state"], p["amount_ore"]) for p in show["payouts"] if p["covers"][0][:4] == str(year)
    ]
    return follow_up, payouts


def test_a_year_an_amendment_cut_is_planned_again_when_a_later_one_brings_it_back(
    cli: Cli,
) -> None:
    cli.ok(*amend(cli, "2027-02-01", "end=2028-12-31", "support.2028=470 000"))
    cli.ok(*amend(cli, "2027-03-01", "end=2027-12-31"))
    assert of_year(cli.json("show", REF), 2028) == ("cancelled", [("cancelled", 23_500_000)] * 2)

    run = cli.ok(*amend(cli, "2027-04-01", "end=2028-12-31", "support.2028=480 000"))

    assert run.code == 0
    assert of_year(cli.json("show", REF), 2028) == ("planned", [("planned", 24_000_000)] * 2)
    audit = cli.json("audit", REF)
    back = [(r["trigger"], r["from"], r["to"]) for r in audit if r["trigger"].startswith("rein")]
    assert back == [
        ("reinstate_follow_up", "cancelled", "planned"),
        ("reinstate_payout", "cancelled", "planned"),
        ("reinstate_payout", "cancelled", "planned"),
    ]


def test_a_period_cut_short_pays_its_last_instalment_inside_it_and_then_closes(
    cli: Cli,
) -> None:
    # Cut to 2027-03-31: the half-year's payout day (30 April) is after the end, so the
    # last instalment is due on the end date itself (docs/payout-plans.md). Approving
    # the last follow-up releases it, and nothing open is left to stop the closing.
    # (The refusal to close over an open payout, a row planned before that rule, is
    # tested in tests/unit/test_amendment_gaps.py.)
    cli.ok(*amend(cli, "2027-02-01", "end=2027-03-31"))
    (last,) = [p for p in cli.json("show", REF)["payouts"] if p["state"] == "planned"]
    assert (last["covers"], last["due"]) == (["2027-01-01", "2027-03-31"], "2027-03-31")
    approve_follow_up(cli, 2026, "2027-02-02")
    cli.step(REF, "end", ANNA, "2027-04-01")
    approve_follow_up(cli, 2027, "2027-04-02")
    paid = next(p for p in cli.json("show", REF)["payouts"] if p["id"] == last["id"])
    assert paid["state"] == "released"
    cli.step(REF, "close", ANNA, "2027-04-05")
    assert cli.json("show", REF)["state"] == "closed"


def test_lengthening_without_support_for_the_new_year_is_bad_input_naming_the_field(
    cli: Cli,
) -> None:
    before = cli.tables()

    run = cli.run(*amend(cli, "2027-02-01", "end=2028-12-31"))

    assert run.code == 2, str(run)
    assert run.err == (
        "error: step 'amend' field 'support.2028': no municipal support for 2028, a year of "
        "the amended period 2025-01-01 – 2028-12-31\n"
    )
    assert cli.tables() == before
