"""Payout plans the nämnd decides (issue 11 item 1), as a user meets them: `iop` as a
subprocess, and the service layer on both backends.

The initiative OSN 2026/0142 (Mjölby, in dialogue, 2027-01-01 – 2031-12-31, 300 000 kr a
year) is taken to active with a plan of its own; the running agreement OSN 2024/0087
(2025–2027, two half-years) is renewed with another interval.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from test_cli_acceptance import EXAMPLES, Cli, copy_database

from iop_workflow.adapters.db import Database
from iop_workflow.domain.calendar import is_banking_day
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.steps import transition

NEW, RUNNING = "OSN 2026/0142", "OSN 2024/0087"
ANNA, PER, SVEN, LEILA = "Anna Berg", "Per Sandberg", "Sven Ek", "Leila Haddad"
DOCUMENT_KINDS = ("income_statement", "balance_sheet", "activity_report", "statistics")
STATISTICS = (
    "statistics.individkontakter=120",
    "statistics.unika besökare=40",
    "statistics.informationstillfällen=6",
)
YEAR_ORE = 300_000_00
EXIT_USAGE = 2


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_file = tmp_path_factory.mktemp("payout-plans") / "iop.db"
    cli = Cli(db_file)
    cli.ok("db", "upgrade")
    cli.ok("import", str(EXAMPLES / "mjolby.yaml"))
    return db_file


@pytest.fixture
def cli(prepared: Path, tmp_path: Path) -> Cli:
    copy_database(prepared, tmp_path / "iop.db")
    return Cli(tmp_path / "iop.db")


def to_active(cli: Cli, *plan: str, end: str | None = None) -> dict[str, Any]:
    """The initiative through its economic plan (with `plan`), decision and signing."""
    period = (f"end={end}",) if end else ()
    cli.step(NEW, "propose_plan", ANNA, "2026-10-20", *plan, *period)
    # The example's plan has support up to 2031: none after a shorter period.
    last = int(end[:4]) if end else 2031
    cli.step(
        NEW, "submit_for_decision", ANNA, "2026-10-21",
        *(f"support.{y}=0" for y in range(last + 1, 2032)),
    )  # fmt: skip
    cli.step(
        NEW,
        "approve_decision",
        PER,
        "2026-11-20",
        "meeting_date=2026-11-18",
        "paragraph=§ 177",
        "minutes_adjusted=2026-11-19",
    )
    cli.step(NEW, "sign", ANNA, "2026-11-23")
    cli.step(NEW, "sign", SVEN, "2026-11-24")
    cli.step(NEW, "activate", ANNA, "2026-11-25")
    show: dict[str, Any] = cli.json("show", NEW)
    return show


def by_year(payouts: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in payouts:
        if p["state"] != "cancelled":
            found[int(p["covers"][0][:4])].append(p)
    return dict(found)


def release_due(cli: Cli, ref: str, day: str) -> None:
    """Release, as the officer on `day`, every planned payout due by then."""
    for p in cli.json("show", ref)["payouts"]:
        if p["state"] == "planned" and p["due"] <= day:
            cli.step(ref, "release_payout", ANNA, day, f"payout={p['id']}")


def approve_follow_up(cli: Cli, ref: str, year: int, day: str, rep: str) -> None:
    y = f"year={year}"
    cli.step(ref, "open_follow_up", ANNA, day, y)
    for kind in DOCUMENT_KINDS:
        cli.step(ref, "receive_document", rep, day, y, f"kind={kind}")
    cli.step(ref, "submit_report", rep, day, y, *STATISTICS)
    cli.step(ref, "approve_follow_up", ANNA, day, y)


def test_a_quarterly_plan_pays_four_banking_day_instalments_a_year_summing_exactly(
    cli: Cli,
) -> None:
    show = to_active(cli, "payout_plan=quarterly")

    assert show["payout_plan"] == {"per_year": 4, "text": "quarterly (4 a year)"}
    years = by_year(show["payouts"])
    assert sorted(years) == [2027, 2028, 2029, 2030, 2031]
    for year, payouts in years.items():
        assert [p["covers"] for p in payouts] == [
            [f"{year}-01-01", f"{year}-03-31"],
            [f"{year}-04-01", f"{year}-06-30"],
            [f"{year}-07-01", f"{year}-09-30"],
            [f"{year}-10-01", f"{year}-12-31"],
        ]
        assert sum(p["amount_ore"] for p in payouts) == YEAR_ORE
        assert {p["amount_ore"] for p in payouts} == {75_000_00}
        for p in payouts:
            due = date.fromisoformat(p["due"])
            assert is_banking_day(due) and due >= date.fromisoformat(p["covers"][0])
    # 2027-01-01 is a holiday (nyårsdagen), so the first quarter is paid on 4 January;
    # 2028-07-01 is a Saturday: its quarter is paid on Monday 3 July.
    assert years[2027][0]["due"] == "2027-01-04"
    assert years[2028][2]["due"] == "2028-07-03"
    text = cli.ok("show", NEW).out
    assert "payout plan  quarterly (4 a year)" in text


def test_a_monthly_plan_over_a_partial_first_year_sums_exactly_per_year(cli: Cli) -> None:
    # Three years from 2027-01-01 with support that does not divide by twelve.
    cli.step(NEW, "propose_plan", ANNA, "2026-10-20", "payout_plan=12", "end=2029-12-31")
    cli.step(
        NEW,
        "submit_for_decision",
        ANNA,
        "2026-10-21",
        "support.2027=100 000,01",
        "support.2028=250 000",
        "support.2029=99 999,99",
        "support.2030=0",
        "support.2031=0",
    )
    show = cli.json("show", NEW)
    assert show["payout_plan"]["per_year"] == 12
    cli.step(
        NEW, "approve_decision", PER, "2026-11-20", "meeting_date=2026-11-18", "paragraph=§ 177"
    )
    cli.step(NEW, "sign", ANNA, "2026-11-23")
    cli.step(NEW, "sign", SVEN, "2026-11-24")
    cli.step(NEW, "activate", ANNA, "2026-11-25")
    years = by_year(cli.json("show", NEW)["payouts"])
    support = {2027: 100_000_01, 2028: 250_000_00, 2029: 99_999_99}
    for year, payouts in years.items():
        assert len(payouts) == 12
        amounts = [p["amount_ore"] for p in payouts]
        assert sum(amounts) == support[year]
        assert max(amounts) - min(amounts) <= 1  # remainders spread one öre at a time
        assert all(is_banking_day(date.fromisoformat(p["due"])) for p in payouts)


def test_an_explicit_list_of_dates_is_a_plan_and_each_instalment_covers_up_to_the_next(
    cli: Cli,
) -> None:
    show = to_active(
        cli, "payout_plan=2027-02-15,2027-09-15,2028-02-15,2028-09-15", end="2028-12-31"
    )
    covers = [(p["covers"], p["due"]) for p in show["payouts"]]
    assert covers == [
        (["2027-01-01", "2027-09-14"], "2027-02-15"),
        (["2027-09-15", "2027-12-31"], "2027-09-15"),
        (["2028-01-01", "2028-09-14"], "2028-02-15"),
        (["2028-09-15", "2028-12-31"], "2028-09-15"),
    ]
    for year in (2027, 2028):
        assert sum(p["amount_ore"] for p in by_year(show["payouts"])[year]) == YEAR_ORE


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("3", "'3' is not a payout interval: 1, 2, 4 or 12 instalments a year"),
        ("2027-05-01,2027-03-01", "the dates must be in order"),
        ("2027-05-01,2032-03-01", "2032-03-01 is outside the period 2027-01-01–2031-12-31"),
        ("2027-13-01", "'2027-13-01' is not a date (YYYY-MM-DD)"),
    ],
)
def test_a_bad_plan_is_bad_input_naming_the_field_and_changes_nothing(
    cli: Cli, value: str, message: str
) -> None:
    before = cli.json("show", NEW)
    run = cli.run(
        "transition", NEW, "propose_plan", "--actor", ANNA, "--as-of", "2026-10-20",
        "--set", f"payout_plan={value}",
    )  # fmt: skip
    assert run.code == EXIT_USAGE, run
    assert "payout_plan" in run.err and message in run.err, run
    assert "Traceback" not in run.err
    assert cli.json("show", NEW) == before


def test_an_instalment_is_never_due_after_the_agreement_has_ended(cli: Cli) -> None:
    # Ends 2027-03-15: the half-year's payout day (30 April) comes after it.
    show = to_active(cli, end="2027-03-15")
    (only,) = show["payouts"]
    assert only["covers"] == ["2027-01-01", "2027-03-15"]
    assert only["due"] == "2027-03-15"
    assert only["amount_ore"] == YEAR_ORE


def test_the_gate_holds_the_first_quarter_until_last_years_follow_up_is_approved(
    cli: Cli,
) -> None:
    to_active(cli, "payout_plan=4", end="2028-12-31")
    release_due(cli, NEW, "2027-12-31")
    years = by_year(cli.json("show", NEW)["payouts"])
    assert [p["state"] for p in years[2027]] == ["released"] * 4
    first = years[2028][0]
    assert first["due"] == "2028-01-03"
    refused = cli.run(
        "transition", NEW, "release_payout", "--actor", ANNA, "--as-of", "2028-01-03",
        "--set", f"payout={first['id']}",
    )  # fmt: skip
    assert refused.code == 3, refused
    assert "follow-up 2027" in refused.err, refused

    approve_follow_up(cli, NEW, 2027, "2028-02-10", SVEN)

    first = by_year(cli.json("show", NEW)["payouts"])[2028][0]
    assert first["state"] == "released"


def test_a_termination_mid_quarter_claims_back_the_days_after_it_pro_rata(cli: Cli) -> None:
    to_active(cli, "payout_plan=4")
    release_due(cli, NEW, "2027-04-01")
    cli.step(NEW, "terminate", ANNA, "2027-05-20", "date=2027-05-15", "reason=Verksamheten upphör")
    cli.step(NEW, "raise_claim", ANNA, "2027-05-20")
    show = cli.json("show", NEW)
    (claim,) = show["claims"]
    # The second quarter (91 days, 75 000 kr) was paid; 46 of its days lie after 15 May.
    assert claim["amount_ore"] == round(75_000_00 * 46 / 91)
    assert "× 46/91 days (2027-05-16–2027-06-30)" in claim["basis"]
    states = {p["covers"][0]: p["state"] for p in show["payouts"]}
    assert states["2027-01-01"] == states["2027-04-01"] == "released"
    assert states["2027-07-01"] == states["2027-10-01"] == "cancelled"


def test_an_amendment_of_a_quarterly_plan_re_splits_what_is_not_yet_paid(cli: Cli) -> None:
    to_active(cli, "payout_plan=4", end="2028-12-31")
    release_due(cli, NEW, "2027-04-01")
    cli.step(
        NEW, "amend", PER, "2027-05-01", "decided_on=2027-05-01", "paragraph=§ 12",
        "description=Utökat stöd", "support.2027=360 000",
    )  # fmt: skip
    quarters = by_year(cli.json("show", NEW)["payouts"])[2027]
    assert [(p["state"], p["amount_ore"]) for p in quarters] == [
        ("released", 75_000_00),
        ("released", 75_000_00),
        ("planned", 105_000_00),
        ("planned", 105_000_00),
    ]

    # A second tilläggsavtal changes the interval: the paid quarters stay, the rest of
    # 2027 is paid monthly from July, and 2028 monthly.
    cli.step(
        NEW, "amend", PER, "2027-06-01", "decided_on=2027-06-01", "paragraph=§ 13",
        "description=Månadsvis utbetalning", "payout_plan=monthly",
    )  # fmt: skip
    show = cli.json("show", NEW)
    years = by_year(show["payouts"])
    assert [p["covers"][0] for p in years[2027]] == [
        "2027-01-01", "2027-04-01", "2027-07-01", "2027-08-01", "2027-09-01", "2027-10-01",
        "2027-11-01", "2027-12-01",
    ]  # fmt: skip
    assert sum(p["amount_ore"] for p in years[2027]) == 360_000_00
    assert len(years[2028]) == 12 and sum(p["amount_ore"] for p in years[2028]) == YEAR_ORE
    last = show["amendments"][-1]
    assert last["new_payout_plan"] == {"per_year": 12, "text": "monthly (12 a year)"}
    assert "payout plan monthly (12 a year)" in cli.ok("show", NEW).out
    audit = cli.json("audit", NEW)
    assert [r["trigger"] for r in audit].count("amend") == 2


def test_a_renewal_changes_the_interval_of_the_new_period_only(cli: Cli) -> None:
    before = {p["covers"][0]: p for p in cli.json("show", RUNNING)["payouts"]}
    approve_follow_up(cli, RUNNING, 2026, "2027-02-10", LEILA)
    cli.step(RUNNING, "start_renewal", ANNA, "2027-02-15")
    cli.step(
        RUNNING, "renew", PER, "2027-06-01", "end=2029-12-31", "support.2028=320 000",
        "support.2029=320 000", "meeting_date=2027-05-26", "paragraph=§ 88", "payout_plan=4",
    )  # fmt: skip
    show = cli.json("show", RUNNING)
    assert show["payout_plan"]["per_year"] == 4
    years = by_year(show["payouts"])
    # The renewed period's years are quarterly; the first period keeps its half-years.
    for year in (2028, 2029):
        assert [p["covers"][0][5:] for p in years[year]] == ["01-01", "04-01", "07-01", "10-01"]
        assert sum(p["amount_ore"] for p in years[year]) == 320_000_00
    for year in (2025, 2026):
        assert [p["covers"][0][5:] for p in years[year]] == ["01-01", "07-01"]
        assert all(p == before[p["covers"][0]] for p in years[year])


# --- the service layer, on SQLite and PostgreSQL -----------------------------------------

NOW = datetime(2026, 12, 1, 9, tzinfo=UTC)


def fire(db: Database, ref: str, trigger: str, actor: str, day: str, **data: str) -> None:
    transition(
        db, ref, trigger, actor_name=actor, data=data, today=date.fromisoformat(day), now=NOW
    )


def test_a_monthly_plan_is_stored_planned_and_gated_on_both_backends(db: Database) -> None:
    db.mark_sandbox("test")
    import_file(db, str(EXAMPLES / "mjolby.yaml"), now=NOW)
    fire(db, NEW, "propose_plan", ANNA, "2026-10-20", payout_plan="12", end="2028-12-31")
    fire(
        db, NEW, "submit_for_decision", ANNA, "2026-10-21",
        **{f"support.{y}": "0" for y in (2029, 2030, 2031)},
    )  # fmt: skip
    fire(
        db, NEW, "approve_decision", PER, "2026-11-20", meeting_date="2026-11-18",
        paragraph="§ 177",
    )  # fmt: skip
    fire(db, NEW, "sign", ANNA, "2026-11-23")
    fire(db, NEW, "sign", SVEN, "2026-11-24")
    fire(db, NEW, "activate", ANNA, "2026-11-25")

    result = payout_run(db, as_of=date(2028, 1, 5), now=NOW)

    with db.read() as session:
        from iop_workflow.adapters.db import Repository

        agreement = Repository(session).agreement(NEW)
        assert agreement.payout_plan == {"per_year": 12}
        payouts = sorted(agreement.payouts, key=lambda p: p.covers_from)
    assert len(payouts) == 24
    assert [p.state.value for p in payouts[:12]] == ["released"] * 12
    assert payouts[12].state.value == "blocked"  # January 2028 waits for follow-up 2027
    assert all(p.state.value == "planned" for p in payouts[13:])
    assert sum(p.amount_ore for p in payouts[:12]) == YEAR_ORE
    assert result is not None


def test_an_imported_agreement_with_a_quarterly_plan_is_planned_quarterly(
    tmp_path: Path,
) -> None:
    import yaml

    document = yaml.safe_load((EXAMPLES / "mjolby.yaml").read_text(encoding="utf-8"))
    running = next(a for a in document["agreements"] if a["diarienummer"] == RUNNING)
    running["economic_plan"]["payout_plan"] = "quarterly"
    source = tmp_path / "quarterly.yaml"
    source.write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    cli = Cli(tmp_path / "iop.db")
    cli.ok("db", "upgrade")
    cli.ok("import", str(source))

    show = cli.json("show", RUNNING)
    assert show["payout_plan"]["per_year"] == 4
    years = by_year(show["payouts"])
    assert sorted(years) == [2025, 2026, 2027]
    assert all(len(payouts) == 4 for payouts in years.values())
    released = [p["covers"][0] for p in show["payouts"] if p["state"] == "released"]
    # Paid before the import through 2026-10-30: every quarter due by then.
    assert released == [f"{y}-{m}-01" for y in (2025, 2026) for m in ("01", "04", "07", "10")]


def test_a_quarterly_plan_amended_then_terminated_claims_pro_rata_on_both_backends(
    db: Database,
) -> None:
    from iop_workflow.adapters.db import Repository

    db.mark_sandbox("test")
    import_file(db, str(EXAMPLES / "mjolby.yaml"), now=NOW)
    fire(db, NEW, "propose_plan", ANNA, "2026-10-20", payout_plan="4")
    fire(db, NEW, "submit_for_decision", ANNA, "2026-10-21")
    fire(
        db, NEW, "approve_decision", PER, "2026-11-20", meeting_date="2026-11-18",
        paragraph="§ 177",
    )  # fmt: skip
    fire(db, NEW, "sign", ANNA, "2026-11-23")
    fire(db, NEW, "sign", SVEN, "2026-11-24")
    fire(db, NEW, "activate", ANNA, "2026-11-25")
    payout_run(db, as_of=date(2027, 4, 1), now=NOW)
    fire(
        db, NEW, "amend", PER, "2027-04-10", decided_on="2027-04-10", paragraph="§ 12",
        description="Utökat stöd", **{"support.2027": "360 000"},
    )  # fmt: skip
    fire(db, NEW, "terminate", ANNA, "2027-05-20", date="2027-05-15", reason="Upphör")
    fire(db, NEW, "raise_claim", ANNA, "2027-05-20")

    with db.read() as session:
        agreement = Repository(session).agreement(NEW)
        quarters = sorted(agreement.payouts, key=lambda p: p.covers_from)[:4]
        (claim,) = agreement.claims
    # Q1 and Q2 were paid 75 000 kr before the tilläggsavtal; Q3 and Q4 then shared the
    # rest of 360 000 kr, and the termination cancelled them.
    assert [(p.state.value, p.amount_ore) for p in quarters] == [
        ("released", 75_000_00),
        ("released", 75_000_00),
        ("cancelled", 105_000_00),
        ("cancelled", 105_000_00),
    ]
    assert claim.amount_ore == round(75_000_00 * 46 / 91)
