"""The smaller CLI gaps of issue 11 (item 5), as a user meets them: `iop` as a subprocess.

- an unknown TRIGGER is bad input (exit 2) naming the field and every step, not a refusal;
- `iop show` lists the decisions, the tilläggsavtal and the payouts with their ids;
- `iop payouts --agreement REF` lists one agreement's payouts;
- `iop audit` shows the day each step took effect next to when it was recorded.

Each test runs on its own copy of a SQLite database with both example files imported,
and uses the running agreement OSN 2024/0087 (2025-01-01 – 2027-12-31, entry decision
§ 124 of 2024-11-27, payouts released through 2026-10-30) and the initiative in
dialogue OSN 2026/0142 (no payouts yet).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_cli_acceptance import EXAMPLES, Cli, copy_database, transition_args

from iop_workflow.domain.machines import ENTITY_OF

REF = "OSN 2024/0087"
DIALOGUE_REF = "OSN 2026/0142"
ANNA, PER, MARIA = "Anna Berg", "Per Sandberg", "Maria Holm"
EXIT_USAGE, EXIT_NOT_FOUND = 2, 4

# The keys `iop show --json` had before issue 11: a contract, kept as they were.
SHOW_KEYS = {
    "id", "diarienummer", "municipality", "committee", "title", "state", "period",
    "organisation", "officer", "purpose", "target_group", "goals", "values", "indicators",
    "period_no", "first_start", "version", "parties", "criteria", "economic_plan",
    "decisions", "signatures", "follow_ups", "payouts", "claims", "terminated_on",
    "termination_reason",
}  # fmt: skip
DECISION_KEYS = {
    "kind", "body", "meeting_date", "paragraph", "outcome", "minutes_adjusted", "period_no",
}  # fmt: skip
PAYOUT_KEYS = {"id", "organisation", "covers", "due", "amount_ore", "state", "blocked_reason"}


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    db_file = tmp_path_factory.mktemp("cli-gaps") / "iop.db"
    cli = Cli(db_file)
    cli.ok("db", "upgrade")
    for name in ("mjolby.yaml", "kramfors.yaml"):
        cli.ok("import", str(EXAMPLES / name))
    return db_file


@pytest.fixture
def cli(prepared: Path, tmp_path: Path) -> Cli:
    copy_database(prepared, tmp_path / "iop.db")
    return Cli(tmp_path / "iop.db")


def amend(as_of: str, *sets: str) -> list[str]:
    return transition_args(
        REF,
        "amend",
        PER,
        as_of,
        f"decided_on={as_of}",
        "paragraph=§ 12",
        "description=Ett år till",
        *sets,
    )


# --- 1. an unknown trigger is bad input -------------------------------------------------


@pytest.mark.parametrize(
    ("ref", "actor", "extra"),
    [
        (REF, ANNA, []),
        (REF, ANNA, ["--json"]),
        (REF, ANNA, ["--set", "payout=5", "--set", "reason=x"]),
        (DIALOGUE_REF, MARIA, []),  # an auditor, who may fire nothing: still bad input
    ],
)
def test_an_unknown_trigger_is_bad_input_naming_the_field_and_every_step(
    cli: Cli, ref: str, actor: str, extra: list[str]
) -> None:
    before = cli.tables()

    run = cli.run(*transition_args(ref, "approve_everything", actor, "2026-11-30"), *extra)

    assert run.code == EXIT_USAGE, str(run)
    assert run.out == ""
    assert run.err.startswith(
        "error: TRIGGER: 'approve_everything' is not a step; the steps are: "
    ), str(run)
    assert "refused" not in run.err
    listed = run.err.strip().split("the steps are: ", 1)[1].split(", ")
    assert listed == list(ENTITY_OF)
    assert run.err.count("\n") == 1, "one message"
    assert cli.tables() == before


def test_an_unknown_trigger_reads_as_iop_steps_says_it(cli: Cli) -> None:
    step = cli.run(*transition_args(REF, "approve", ANNA, "2026-11-30"))
    schema = cli.run("steps", "approve")
    assert step.code == schema.code == EXIT_USAGE
    assert step.err == schema.err


def test_a_known_step_not_allowed_now_is_still_a_refusal(cli: Cli) -> None:
    before = cli.tables()
    run = cli.run(*transition_args(DIALOGUE_REF, "activate", ANNA, "2026-11-30"))
    assert run.code == 3, str(run)
    assert "'dialogue'" in run.err and "propose_plan, withdraw" in run.err
    assert cli.tables() == before


def test_an_unknown_agreement_still_comes_before_the_trigger(cli: Cli) -> None:
    run = cli.run(*transition_args("OSN 9999/0001", "approve_everything", ANNA, "2026-11-30"))
    assert run.code == EXIT_NOT_FOUND and "OSN 9999/0001" in run.err


# --- 2. iop show: decisions, tilläggsavtal, payout ids ----------------------------------


def test_show_lists_the_decisions(cli: Cli) -> None:
    text = cli.ok("show", REF).out
    view = cli.json("show", REF)

    assert view["decisions"] == [
        {
            "kind": "entry",
            "body": "Omsorgs- och socialnämnden",
            "meeting_date": "2024-11-27",
            "paragraph": "§ 124",
            "outcome": "approved",
            "minutes_adjusted": "2024-12-03",
            "period_no": 1,
        }
    ]
    assert (
        "  decision entry (period 1): approved, Omsorgs- och socialnämnden 2024-11-27 § 124, "
        "minutes adjusted 2024-12-03"
    ) in text.splitlines()
    assert view["amendments"] == []
    assert "tilläggsavtal" not in text


def test_show_lists_the_amendments_with_their_changes(cli: Cli) -> None:
    cli.ok(*amend("2027-02-01", "end=2028-12-31", "support.2028=470 000"))
    cli.ok(*amend("2027-03-01"))

    view = cli.json("show", REF)
    text = cli.ok("show", REF).out.splitlines()

    assert [{k: v for k, v in m.items() if k != "id"} for m in view["amendments"]] == [
        {
            "decided_on": "2027-02-01",
            "paragraph": "§ 12",
            "description": "Ett år till",
            "new_end": "2028-12-31",
            "support_changes_ore": {"2028": 47_000_000},
            "new_payout_plan": None,
            "recorded_by": PER,
        },
        {
            "decided_on": "2027-03-01",
            "paragraph": "§ 12",
            "description": "Ett år till",
            "new_end": None,
            "support_changes_ore": {},
            "new_payout_plan": None,
            "recorded_by": PER,
        },
    ]
    assert all(isinstance(m["id"], int) for m in view["amendments"])
    assert (
        "  tilläggsavtal 2027-02-01 § 12: Ett år till "
        "(new end 2028-12-31; support 2028 470 000,00 kr)"
    ) in text
    assert "  tilläggsavtal 2027-03-01 § 12: Ett år till" in text


def test_show_keeps_its_json_keys_and_only_adds(cli: Cli) -> None:
    view = cli.json("show", REF)
    assert SHOW_KEYS <= set(view)
    assert set(view) - SHOW_KEYS == {"amendments", "dialogue", "payout_plan"}
    assert all(set(d) == DECISION_KEYS for d in view["decisions"])
    assert view["payouts"] and all(set(p) == PAYOUT_KEYS for p in view["payouts"])


def test_a_payout_is_named_by_the_id_show_prints(cli: Cli) -> None:
    view = cli.json("show", REF)
    text = cli.ok("show", REF).out
    for payout in view["payouts"]:
        assert f"  payout {payout['id']} due {payout['due']} " in text
    planned = next(p for p in view["payouts"] if p["state"] == "planned")

    cli.step(REF, "cancel_payout", ANNA, "2026-11-30", f"payout={planned['id']}", "reason=x")

    after = {p["id"]: p["state"] for p in cli.json("show", REF)["payouts"]}
    assert after[planned["id"]] == "cancelled"


# --- 3. iop payouts --agreement REF ------------------------------------------------------


def test_payouts_of_one_agreement_by_diarienummer_or_id(cli: Cli) -> None:
    every = cli.json("payouts")
    own = [row for row in every if row["diarienummer"] == REF]
    assert own and len(own) < len(every), "the examples hold payouts of other agreements"
    agreement_id = cli.json("show", REF)["id"]

    assert cli.json("payouts", "--agreement", REF) == own
    assert cli.json("payouts", "--agreement", f"#{agreement_id}") == own
    assert cli.json("payouts", "--agreement", REF, "--state", "planned") == [
        row for row in own if row["state"] == "planned"
    ]
    table = cli.ok("payouts", "--agreement", REF).out.splitlines()
    assert table[0].split()[:2] == ["ID", "DIARIENUMMER"]
    assert [line.split()[0] for line in table[1:]] == [str(row["id"]) for row in own]


def test_payouts_of_an_agreement_without_payouts_is_empty(cli: Cli) -> None:
    assert cli.json("payouts", "--agreement", DIALOGUE_REF) == []
    assert cli.ok("payouts", "--agreement", DIALOGUE_REF).out.strip() == "(none)"


@pytest.mark.parametrize("ref", ["OSN 9999/0001", "#999"])
def test_payouts_of_an_unknown_agreement_is_not_found(cli: Cli, ref: str) -> None:
    for extra in ([], ["--json"]):
        run = cli.run("payouts", "--agreement", ref, *extra)
        assert run.code == EXIT_NOT_FOUND, str(run)
        assert run.out == ""
        assert run.err == f"error: no agreement '{ref}'\n"


# --- 4. iop audit: the effective day next to the time recorded --------------------------


def test_audit_shows_the_day_each_step_took_effect_next_to_when_recorded(cli: Cli) -> None:
    cli.step(REF, "open_follow_up", ANNA, "2026-11-20", "year=2026")

    records = cli.json("audit", REF)
    table = cli.ok("audit", REF).out.splitlines()

    assert all("effective_date" in r and "at" in r for r in records)
    opened = records[-1]
    assert (opened["trigger"], opened["effective_date"]) == ("open_follow_up", "2026-11-20")
    header = table[0].split()
    assert header[:2] == ["AT", "DAY"]
    last = table[-1].split()
    # AT is "YYYY-MM-DD HH:MM:SS CET": three words; the effective day follows it.
    assert last[3] == "2026-11-20" and "open_follow_up" in last
    assert last[0] == opened["at"][:10]
