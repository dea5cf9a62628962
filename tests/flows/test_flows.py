"""The three Prefect flows against a real Prefect server, read back through its API.

Each test has a fresh SQLite product database with both example files imported
(IOP_DATABASE_URL), runs the flows for given business days as the schedule would, and
checks what an officer would see in Prefect: the artifacts, the events, the task runs
of a flow run, and the summaries the flows return.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import sqlalchemy as sa
from flow_support import (
    RUNNING_KRAMFORS,
    RUNNING_MJOLBY,
    artifacts_of,
    assert_audit_intact,
    bulk_copies_yaml,
    flow_run_id,
    new_database,
    now,
    product_database,
    table_counts,
    task_run_names,
    using_server,
    wait_for_events,
    wait_for_log,
)

from flows.daily_sweep import daily_sweep
from flows.payout_run import payout_run
from flows.portfolio_report import portfolio_report
from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.orchestration import run_summary
from iop_workflow.service.importer import import_file

COPIES = 100  # 4 agreements, then 104: set-wise work, a fixed number of tasks
PAYOUT_DAY = date(2027, 4, 30)  # OSN 2024/0087's first 2027 payout: follow-up 2026 overdue


@dataclass
class Morning:
    """One business day run as scheduled: sweep 06:00, payouts 07:00, report 07:30."""

    db: Database
    started: datetime
    finished: datetime
    sweep: dict[str, Any]
    payouts: dict[str, Any]
    report_run: UUID
    report_keys: list[str]


def agreement_id(db: Database, diarienummer: str) -> int:
    a = t.agreements
    with db.read() as session:
        return int(
            session.execute(sa.select(a.c.id).where(a.c.diarienummer == diarienummer)).scalar_one()
        )


@pytest.fixture(scope="module")
def morning(prefect_server: Any, tmp_path_factory: pytest.TempPathFactory) -> Morning:
    """One product database, run through 2027-04-30 once for the tests that read it."""
    url = f"sqlite:///{tmp_path_factory.mktemp('morning') / 'iop.db'}"
    db = new_database(url)
    started = now()
    with pytest.MonkeyPatch.context() as patch, using_server(prefect_server.api_url, patch):
        with product_database(url, patch):
            sweep = daily_sweep(as_of=PAYOUT_DAY)
            payouts = payout_run(as_of=PAYOUT_DAY)
            report_state = portfolio_report(as_of=PAYOUT_DAY, return_state=True)
    return Morning(
        db,
        started,
        now(),
        sweep,
        payouts,
        flow_run_id(report_state),
        report_state.result(),
    )


def test_portfolio_report_publishes_overall_and_per_municipality_artifacts(
    morning: Morning, prefect_api: Any
) -> None:
    artifacts = artifacts_of(morning.report_run)
    wanted = ["portfolio-overall", "portfolio-mjolby", "portfolio-kramfors"]
    wanted.append("blocked-payouts-overall")
    assert set(wanted) <= set(artifacts), sorted(artifacts)
    assert set(morning.report_keys) == set(artifacts)

    overall = artifacts["portfolio-overall"].data
    assert "# IOP portfolio — overall — 2027-04-30" in overall
    assert RUNNING_MJOLBY in overall and RUNNING_KRAMFORS in overall
    assert "## Blocked payouts (3)" in overall
    assert "Audit trail: intact (" in overall

    mjolby = artifacts["portfolio-mjolby"].data
    assert RUNNING_MJOLBY in mjolby and RUNNING_KRAMFORS not in mjolby
    kramfors = artifacts["portfolio-kramfors"].data
    assert RUNNING_KRAMFORS in kramfors and RUNNING_MJOLBY not in kramfors


def test_blocked_payouts_table_names_the_reason_and_what_unblocks_it(
    morning: Morning, prefect_api: Any
) -> None:
    table = json.loads(artifacts_of(morning.report_run)["blocked-payouts-overall"].data)
    blocked = [row for row in table if row["diarienummer"] == RUNNING_MJOLBY]
    assert len(blocked) == 1, table
    row = blocked[0]
    assert row["due"] == "2027-04-30"
    assert row["amount"] == "230 000,00 kr"
    assert row["reason"].startswith("follow-up 2026 is overdue (report due 2027-03-31)")
    assert row["unblocks"] == "approval of follow-up 2026"
    # The payout flow said the same in its summary.
    assert morning.payouts["blocked"] == 3
    assert any(
        r.startswith(f"{RUNNING_MJOLBY} payout") and "follow-up 2026 is overdue" in r
        for r in morning.payouts["blocked_reasons"]
    )


def test_sweep_and_payout_run_emit_events_about_each_agreement(
    morning: Morning, prefect_api: Any
) -> None:
    running = agreement_id(morning.db, RUNNING_MJOLBY)
    resource = f"iop.agreement.{running}"
    names = ["iop.payout.blocked", "iop.follow-up.overdue"]
    events = wait_for_events(
        prefect_api.api_url,
        since=morning.started,
        names=names,
        resource_ids=[resource],
        at_least=2,
    )
    events = [e for e in events if e["occurred"] <= morning.finished.isoformat()]
    assert sorted(e["event"] for e in events) == sorted(names), events
    for event in events:
        assert event["resource"]["prefect.resource.name"] == RUNNING_MJOLBY
        assert event["resource"]["iop.municipality"] == "mjolby"
    blocked = next(e for e in events if e["event"] == "iop.payout.blocked")
    assert blocked["payload"]["reason"].startswith("follow-up 2026 is overdue")
    assert blocked["related"][0]["prefect.resource.role"] == "payout"
    # The follow-ups the sweep opened are one summary event (docs/events.md), naming them.
    [opened] = [
        e
        for e in wait_for_events(
            prefect_api.api_url, since=morning.started, names=["iop.summary.follow-up.open"]
        )
        if e["occurred"] <= morning.finished.isoformat()
    ]
    assert opened["payload"]["count"] == morning.sweep["changes"]["open_follow_up"]
    assert resource in [r["prefect.resource.id"] for r in opened["related"]]
    assert morning.sweep["events_published"] >= 2 and morning.payouts["events_published"] == 3


def test_the_flows_audit_through_the_flow_channel_and_keep_the_chain(morning: Morning) -> None:
    a = t.audit_log
    with morning.db.read() as session:
        rows = session.execute(sa.select(a.c.actor, a.c.channel, a.c.effective_date)).all()
    flow_rows = {(r.channel, r.effective_date) for r in rows if r.channel != "import"}
    assert flow_rows == {("flow", PAYOUT_DAY)}
    assert {r.actor for r in rows if r.channel == "flow"} == {"system"}
    assert_audit_intact(morning.db)


def test_a_payout_run_has_as_many_task_runs_for_100_more_agreements(
    prefect_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    db = new_database(url)
    with product_database(url, monkeypatch):
        small = payout_run(as_of=PAYOUT_DAY, return_state=True)
        import_file(db, str(bulk_copies_yaml(tmp_path / "bulk.yaml", COPIES)), now=now())
        large = payout_run(as_of=PAYOUT_DAY, return_state=True)

    assert small.result()["blocked"] == 3
    # Each copy of OSN 2024/0087 has its 2027-04-30 payout held by follow-up 2026.
    assert large.result()["blocked"] == COPIES
    few, many = task_run_names(flow_run_id(small)), task_run_names(flow_run_id(large))
    # decide-payouts, publish-events, deliver-notifications: fixed, whatever the count.
    assert len(few) == len(many) == 3, (few, many)
    assert [n.rsplit("-", 1)[0] for n in few] == [n.rsplit("-", 1)[0] for n in many]


def test_running_the_same_day_again_adds_no_rows_and_reports_no_changes(
    prefect_api: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    db = new_database(url)
    day = date(2027, 10, 29)  # follow-ups of 2026 overdue, second 2027 payouts due
    with product_database(url, monkeypatch):
        first_sweep_run = daily_sweep(as_of=day, return_state=True)
        first_payouts = payout_run(as_of=day)
        before = table_counts(db)
        again_sweep = daily_sweep(as_of=day)
        again_payouts_run = payout_run(as_of=day, return_state=True)
    first_sweep, again_payouts = first_sweep_run.result(), again_payouts_run.result()
    # Nothing is configured to deliver to here: the delivery step sends nothing.
    for summary in (again_sweep, again_payouts):
        assert summary.pop("notifications")["messages_sent"] == 0
    after = table_counts(db)

    assert first_sweep["changes"] and first_payouts["blocked"] > 0  # there was work to do
    assert first_payouts["notifications_queued"] > 0
    assert after == before
    assert set(before) == {table.name for table in t.metadata.sorted_tables}
    assert again_sweep == {
        "as_of": "2027-10-29",
        "changes": {},
        "notifications_queued": 0,
        "events_published": 0,
    }
    assert again_payouts == {
        "as_of": "2027-10-29",
        "released": 0,
        "blocked": 0,
        "reasons_changed": 0,
        "blocked_reasons": [],
        "notifications_queued": 0,
        "events_published": 0,
    }

    # Each run ends with a readable summary: an artifact and a log line. The second payout
    # run changed nothing, and still says which payouts remain blocked and why.
    sweep_run = flow_run_id(first_sweep_run)
    sweep_text = artifacts_of(sweep_run)["daily-sweep-summary"].data
    assert sweep_text.startswith("# Daily sweep — 2027-10-29\n")
    for trigger, count in first_sweep["changes"].items():
        label = run_summary.SWEEP_CHANGES[trigger][1]
        assert f"| {label} | {count} |" in sweep_text, sweep_text
    logs = [log.message for log in wait_for_log(sweep_run, "daily sweep 2027-10-29: ")]
    assert any(m.startswith("daily sweep 2027-10-29: ") and "{" not in m for m in logs), logs

    payout_run_id = flow_run_id(again_payouts_run)
    summary_artifact = artifacts_of(payout_run_id)["payout-run-summary"]
    assert summary_artifact.description.startswith("Payout run 2027-10-29: 0 released, ")
    payout_text = summary_artifact.data
    assert "Nothing changed: no payout was released or blocked today." in payout_text
    remaining = first_payouts["blocked"]
    assert remaining > 0
    assert f"## {remaining} payouts (" in payout_text, payout_text
    assert f"of **{RUNNING_MJOLBY}**" in payout_text
    assert "follow-up 2026 is overdue (report due 2027-03-31)" in payout_text
    logs = [log.message for log in wait_for_log(payout_run_id, "payout run 2027-10-29: ")]
    line = next(m for m in logs if m.startswith("payout run 2027-10-29: "))
    assert line.startswith("payout run 2027-10-29: 0 payouts released, 0 newly blocked; ")
    assert f"{remaining} payouts (" in line and RUNNING_MJOLBY in line, line
