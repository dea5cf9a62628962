"""The flows' run summaries (log line and markdown artifact), rendered without Prefect."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from dataclasses import replace
from datetime import date
from typing import Any

from iop_workflow.domain.gate import GateBlock, GateKind
from iop_workflow.domain.states import FollowUpState
from iop_workflow.orchestration import run_summary as rs
from iop_workflow.service.report import Portfolio, Scope

RUNNING = "OSN 2024/0087"
KRAMFORS = "VFN 2025/0031"
SUBMITTED_BLOCK = GateBlock(
    GateKind.FOLLOW_UP_NOT_APPROVED,
    "follow-up 2026 is submitted (report due 2027-03-31)",
    "payouts in 2027 are released when it is approved",
    follow_up_year=2026,
    follow_up_state=FollowUpState.SUBMITTED,
    report_due=date(2027, 3, 31),
)
OVERDUE_BLOCK = replace(
    SUBMITTED_BLOCK,
    condition="follow-up 2026 is overdue (report due 2027-03-31)",
    follow_up_state=FollowUpState.OVERDUE,
)
SUBMITTED, OVERDUE = SUBMITTED_BLOCK.reason, OVERDUE_BLOCK.reason
NOT_CONFIGURED: dict[str, Any] = {"configured": False, "claimed": 0}


def sweep_summary(**changes: int) -> dict[str, Any]:
    """What `flows.daily_sweep.daily_sweep` returns."""
    return {
        "as_of": "2027-04-01",
        "changes": changes,
        "notifications_queued": 3,
        "events_published": 4,
        "notifications": NOT_CONFIGURED,
    }


def payout_summary(released: int = 0, blocked: int = 0, **extra: Any) -> dict[str, Any]:
    """What `flows.payout_run.payout_run` returns."""
    return {
        "as_of": "2027-05-03",
        "released": released,
        "blocked": blocked,
        "blocked_reasons": [],
        "notifications_queued": 0,
        "events_published": released + blocked,
        "notifications": {"configured": True, "claimed": 0},
        **extra,
    }


def blocked_row(
    diarienummer: str, due: str, block: GateBlock | str, ore: int = 23_000_000
) -> dict[str, Any]:
    """One row of `service.payouts.list_payouts(db, "blocked", with_block=True)` (the fields
    read here); a text alone is a reason stored without the gate's current decision."""
    return {
        "id": 1,
        "diarienummer": diarienummer,
        "municipality": "mjolby",
        "due": due,
        "amount_ore": ore,
        "state": "blocked",
        "gate": "closed",
        "reason": block if isinstance(block, str) else block.reason,
        "block": None if isinstance(block, str) else block,
    }


THREE_BLOCKED = [
    blocked_row(RUNNING, "2027-04-30", SUBMITTED_BLOCK),
    blocked_row(KRAMFORS, "2027-04-30", OVERDUE_BLOCK, ore=5_000_000),
    blocked_row(RUNNING, "2027-10-29", SUBMITTED_BLOCK),
]


def test_the_module_renders_without_importing_prefect() -> None:
    code = "import sys, iop_workflow.orchestration.run_summary; print('prefect' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout.strip() == "False", done.stderr


def test_sweep_line_says_per_kind_what_changed_in_plain_english() -> None:
    summary = sweep_summary(start_renewal=1, open_follow_up=2, mark_report_overdue=1)
    line = rs.sweep_line(summary)
    assert line == (
        "daily sweep 2027-04-01: 2 follow-ups opened, 1 report marked overdue, "
        "1 renewal window opened; 3 notifications queued, 4 events published; "
        "notifications not sent: IOP_APPRISE_CONFIG is not set, they wait in the outbox"
    )
    assert "{" not in line and "open_follow_up" not in line


def test_sweep_markdown_has_a_row_per_kind_of_change_in_the_sweeps_order() -> None:
    summary = sweep_summary(mark_claim_overdue=1, end=2, open_follow_up=5)
    text = rs.sweep_markdown(summary)
    assert text.startswith("# Daily sweep — 2027-04-01\n")
    rows = [line for line in text.splitlines() if line.startswith("| ") and "count" not in line]
    assert rows == [
        "| follow-ups opened | 5 |",
        "| agreements ended (period over) | 2 |",
        "| repayment claims marked overdue | 1 |",
    ]
    assert "- 3 notifications queued" in text and "- 4 events published" in text
    assert "IOP_APPRISE_CONFIG is not set" in text
    assert rs.sweep_description(summary) == "Daily sweep 2027-04-01: 8 changes"


def test_a_sweep_that_changes_nothing_says_so() -> None:
    summary = sweep_summary()
    summary.update(notifications_queued=0, events_published=0)
    assert rs.sweep_line(summary).startswith("daily sweep 2027-04-01: nothing changed; ")
    assert "Nothing changed: every deadline was already up to date." in rs.sweep_markdown(summary)
    assert rs.sweep_description(summary) == "Daily sweep 2027-04-01: 0 changes"


def test_an_unknown_kind_of_change_is_still_counted() -> None:
    line = rs.sweep_line(sweep_summary(open_follow_up=1, some_new_trigger=2))
    assert "1 follow-up opened, 2 some_new_trigger" in line


def test_delivery_is_reported_as_delivered_and_failed_counts() -> None:
    report = {
        "configured": True,
        "claimed": 5,
        "sent": 3,
        "failed": 1,
        "retrying": 1,
        "deferred": 0,
        "messages_failed": 2,
        "problems": [],
    }
    assert rs.delivery_text(report) == (
        "notifications: 3 delivered, 1 failed, 1 to be retried, 0 deferred to tomorrow's "
        "digest (reasons in artifact notification-delivery)"
    )
    assert rs.delivery_text({"configured": True, "claimed": 0}) == (
        "notifications: none due for delivery"
    )
    clean = {**report, "failed": 0, "retrying": 0, "messages_failed": 0, "sent": 5}
    assert "reasons in artifact" not in rs.delivery_text(clean)


def test_a_payout_run_that_changes_nothing_still_says_what_remains_blocked_and_why() -> None:
    summary = payout_summary()
    line = rs.payout_line(summary, THREE_BLOCKED)
    assert line.startswith("payout run 2027-05-03: 0 payouts released, 0 newly blocked; ")
    assert line.endswith(
        "3 payouts (510 000,00 kr) remain blocked — "
        f"2 of {RUNNING}: follow-up 2026 is submitted (report due 2027-03-31); "
        f"1 of {KRAMFORS}: follow-up 2026 is overdue (report due 2027-03-31)"
    )

    text = rs.payout_markdown(summary, THREE_BLOCKED)
    assert text.startswith("# Payout run — 2027-05-03\n")
    assert "Nothing changed: no payout was released or blocked today." in text
    assert "## 3 payouts (510 000,00 kr) remain blocked" in text
    groups = [line for line in text.splitlines() if line.startswith("- ") and "of **" in line]
    assert groups == [
        f"- 2 payouts of **{RUNNING}** (460 000,00 kr, first due 2027-04-30): "
        "follow-up 2026 is submitted (report due 2027-03-31); "
        "payouts in 2027 are released when it is approved",
        f"- 1 payout of **{KRAMFORS}** (50 000,00 kr, due 2027-04-30): "
        "follow-up 2026 is overdue (report due 2027-03-31); "
        "payouts in 2027 are released when it is approved",
    ]
    assert rs.payout_description(summary, THREE_BLOCKED) == (
        "Payout run 2027-05-03: 0 released, 0 newly blocked, "
        "3 payouts (510 000,00 kr) remain blocked"
    )


def test_a_payout_run_with_decisions_and_nothing_blocked() -> None:
    summary = payout_summary(released=2)
    text = rs.payout_markdown(summary, [])
    assert "| released | 2 |" in text and "| blocked today | 0 |" in text
    assert "## No payout is blocked" in text
    assert rs.payout_line(summary, []).endswith("; no payout is blocked")
    assert "2 events published" in rs.payout_line(summary, [])


def test_one_blocked_payout_is_singular() -> None:
    one = [blocked_row(RUNNING, "2027-04-30", OVERDUE_BLOCK)]
    assert "1 payout (230 000,00 kr) remains blocked" in rs.payout_line(payout_summary(), one)
    assert "## 1 payout (230 000,00 kr) remains blocked" in rs.payout_markdown(
        payout_summary(), one
    )


def test_long_lists_are_cut_in_the_artifact_and_in_the_log_line() -> None:
    many = [
        blocked_row(f"OSN 2025/{5000 + n:04d}", "2027-04-30", OVERDUE_BLOCK)
        for n in range(rs.LISTED + 7)
    ]
    text = rs.payout_markdown(payout_summary(), many)
    listed = [line for line in text.splitlines() if line.startswith("- 1 payout of **")]
    assert len(listed) == rs.LISTED
    assert (
        "- … and 7 payouts more, for 7 more agreements or reasons "
        "(`iop payouts --state blocked` lists every one)"
    ) in text
    line = rs.payout_line(payout_summary(), many)
    assert line.count("1 of OSN 2025/") == rs.LOGGED
    assert line.endswith(f"{rs.LISTED + 7 - rs.LOGGED} more reasons in artifact payout-run-summary")


def test_reasons_cannot_turn_into_markup() -> None:
    rows = [blocked_row(RUNNING, "2027-04-30", "held *by hand* | see [note]")]
    text = rs.payout_markdown(payout_summary(), rows)
    assert r"held \*by hand\* \| see \[note\]" in text


def test_portfolio_line_gives_the_overall_figures() -> None:
    overall = Scope("overall", agreements_by_state=Counter({"active": 3, "dialogue": 1}))
    overall.blocked_payouts = [{"diarienummer": RUNNING}] * 3
    overall.overdue_follow_ups = [{"diarienummer": RUNNING}]
    mjolby = Scope("mjolby", agreements_by_state=Counter({"active": 1, "dialogue": 1}))
    kramfors = Scope("kramfors", agreements_by_state=Counter({"active": 2}))
    report = Portfolio(
        date(2027, 4, 30), {"overall": overall, "mjolby": mjolby, "kramfors": kramfors}
    )
    assert rs.portfolio_line(report, ["a", "b"]) == (
        "portfolio report 2027-04-30: 4 agreements (kramfors 2, mjolby 2), "
        "3 blocked payouts, 1 overdue follow-up, 0 deadlines in the next 90 days; "
        "2 artifacts published, the summary is portfolio-overall"
    )


def test_a_block_reason_that_moved_on_is_said_apart_from_the_newly_blocked() -> None:
    line = rs.payout_line(payout_summary(blocked=1, reasons_changed=2), THREE_BLOCKED)
    assert "0 payouts released, 1 newly blocked, 2 block reasons changed; " in line
    assert "changed" not in rs.payout_line(payout_summary(blocked=1), THREE_BLOCKED)
