"""`iop payouts`, `iop simulate`, `iop sweep` and `iop payouts run`, as the real console
script on a SQLite file with both examples imported (sweep and payout run go through the
flows, on the session's Prefect server)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from contextlib import closing
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from cli_runner import Run
from cli_runner import run_iop as iop
from flow_support import RUNNING_KRAMFORS, RUNNING_MJOLBY, flow_run_state, new_database, now

from iop_workflow.adapters.db import Database
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.sweep import daily_sweep


def sql_dump(db_file: Path) -> str:
    with closing(sqlite3.connect(db_file)) as conn:
        return "\n".join(conn.iterdump())


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    """A SQLite file at head with examples/mjolby.yaml and examples/kramfors.yaml."""
    db_file = tmp_path / "iop.db"
    new_database(f"sqlite:///{db_file}").dispose()
    return db_file


def test_payouts_json_gives_every_payout_its_gate_and_reason(examples: Path) -> None:
    run = iop(examples, "payouts", "--json")
    assert run.code == 0, str(run)
    payouts = json.loads(run.out)
    assert payouts and all({"gate", "reason", "state", "due"} <= set(p) for p in payouts)
    paid = [p for p in payouts if p["state"] == "released"]
    assert paid and all(p["gate"] == "n/a" and p["reason"] is None for p in paid)
    held = next(
        p for p in payouts if p["diarienummer"] == RUNNING_MJOLBY and p["due"] == "2027-04-30"
    )
    assert held["state"] == "planned" and held["gate"] == "closed"
    assert held["reason"] == (
        "follow-up 2026 is planned (report due 2027-03-31); "
        "payouts in 2027 are released when it is approved"
    )


def test_payouts_state_blocked_lists_only_the_blocked_ones_with_their_reasons(
    examples: Path,
) -> None:
    db = Database(f"sqlite:///{examples}")
    daily_sweep(db, as_of=date(2027, 4, 30), now=now())
    payout_run(db, as_of=date(2027, 4, 30), now=now())
    db.dispose()

    run = iop(examples, "payouts", "--state", "blocked", "--json")
    assert run.code == 0, str(run)
    blocked = json.loads(run.out)
    assert sorted(p["diarienummer"] for p in blocked) == [
        RUNNING_MJOLBY,
        RUNNING_KRAMFORS,
        RUNNING_KRAMFORS,
    ]
    assert all(p["state"] == "blocked" and p["gate"] == "closed" for p in blocked)
    mine = next(p for p in blocked if p["diarienummer"] == RUNNING_MJOLBY)
    assert mine["reason"].startswith("follow-up 2026 is overdue (report due 2027-03-31)")

    table = iop(examples, "payouts", "--state", "blocked")
    assert table.code == 0, str(table)
    header, *rows = table.out.strip().splitlines()
    assert header.split()[:3] == ["ID", "DIARIENUMMER", "DUE"] and "REASON" in header
    assert len(rows) == 3 and all(" blocked " in row for row in rows)
    assert any(RUNNING_MJOLBY in row and "follow-up 2026 is overdue" in row for row in rows)


def test_an_unknown_payout_state_exits_2_and_names_it(examples: Path) -> None:
    run = iop(examples, "payouts", "--state", "paid")
    assert run.code == 2, str(run)
    assert "'paid' is not a payout state" in run.err
    assert "released" in run.err and "blocked" in run.err  # what it could have been
    assert run.out == ""


def test_simulate_prints_two_years_of_dated_events_and_changes_nothing(examples: Path) -> None:
    before = sql_dump(examples)
    run = iop(examples, "simulate", "--from", "2027-01-01", "--to", "2028-12-31")
    assert run.code == 0, str(run)
    *lines, summary = run.out.strip().splitlines()
    assert summary == (
        f"{len(lines)} events from 2027-01-01 to 2028-12-31 "
        "(simulated on a copy; the database is unchanged)"
    )
    days = [line[:10] for line in lines]
    assert days == sorted(days) and days[0] >= "2027-01-01" and days[-1] <= "2028-12-31"
    assert all(re.match(r"\d{4}-\d\d-\d\d  \S", line) for line in lines)
    blocked = (
        "2027-04-30  OSN 2024/0087   payout {} BLOCKED: follow-up 2026 is overdue "
        "(report due 2027-03-31); payouts in 2027 are released when it is approved"
    )
    assert any(re.fullmatch(re.escape(blocked).replace(r"\{\}", r"\d+"), x) for x in lines)
    assert (
        "2027-04-01  OSN 2024/0087   reminder queued: report_overdue (overdue) "
        "to organisation, officer"
    ) in lines
    assert sql_dump(examples) == before


def flow_run_of(run: Run, server_url: str) -> UUID:
    """The flow run the command links to (Prefect logs 'View at <dashboard>/runs/...')."""
    found = re.search(re.escape(server_url) + r"/runs/flow-run/([0-9a-f-]{36})", run.err)
    assert found, f"no flow run on {server_url} mentioned:\n{run.err}"
    return UUID(found.group(1))


def test_sweep_and_payouts_run_go_through_the_flows_and_print_json(
    examples: Path, prefect_api: Any
) -> None:
    sweep = iop(examples, "sweep", "--as-of", "2027-04-01")
    assert sweep.code == 0, str(sweep)
    summary = json.loads(sweep.out)
    assert "temporary Prefect server" not in sweep.err  # it used the one in PREFECT_API_URL
    assert summary["as_of"] == "2027-04-01"
    assert summary["changes"] == {"mark_report_overdue": 1, "open_follow_up": 2, "start_renewal": 1}
    assert summary["events_published"] > 0
    assert flow_run_state(flow_run_of(sweep, prefect_api.url)) == "COMPLETED"

    payouts = iop(examples, "payouts", "run", "--as-of", "2027-04-30")
    assert payouts.code == 0, str(payouts)
    result = json.loads(payouts.out)
    assert result["as_of"] == "2027-04-30"
    assert result["released"] == 0 and result["blocked"] == 3
    assert any(
        r.startswith(f"{RUNNING_MJOLBY} payout") and "follow-up 2026 is overdue" in r
        for r in result["blocked_reasons"]
    )
    assert result["events_published"] == 3
    assert flow_run_state(flow_run_of(payouts, prefect_api.url)) == "COMPLETED"


def test_a_flow_command_without_prefect_api_url_says_it_uses_a_temporary_server(
    examples: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PREFECT_API_URL"}
    env["PREFECT_HOME"] = str(examples.parent / "prefect-home")  # no profile with a URL
    run = iop(examples, "report", "--as-of", "2027-05-01", env=env)
    assert run.code == 0, str(run)
    assert run.out.startswith("artifacts: portfolio-overall")
    notes = [line for line in run.err.splitlines() if "temporary Prefect server" in line]
    assert notes == [
        "PREFECT_API_URL is not set: running on a temporary Prefect server; this run and its "
        "artifacts are gone when the command ends (`make run` prints the URL to export)."
    ], run.err
