"""On payout days: release what may be paid; block with a reason what may not."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from flows.shared_tasks import deliver, publish, record_events, summarise
from iop_workflow.domain.roles import FLOW_ORIGIN
from iop_workflow.orchestration import run_summary
from iop_workflow.orchestration.runtime import business_day, clock, database
from iop_workflow.service.payouts import list_payouts
from iop_workflow.service.payouts import payout_run as payout_service


@task(name="decide-payouts")
def decide_payouts(as_of: date) -> dict[str, Any]:
    result = payout_service(database(), as_of=as_of, now=clock().now(), origin=FLOW_ORIGIN)
    blocked = [c for c in result.changes if c.trigger == "block_payout"]
    return {
        "as_of": as_of.isoformat(),
        "released": result.count("release_payout"),
        # Newly blocked today; a blocked payout whose reason moved on is counted apart.
        "blocked": sum(1 for c in blocked if c.from_state != "blocked"),
        "reasons_changed": sum(1 for c in blocked if c.from_state == "blocked"),
        "blocked_reasons": [f"{c.diarienummer} payout {c.key}: {c.reason}" for c in blocked],
        "notifications_queued": result.notifications,
    }


@flow(name="payout-run")
def payout_run(as_of: date | None = None) -> dict[str, Any]:
    """Release every due payout whose gate holds; block the rest with the exact reason.

    A payout blocked earlier is released by the first run after its gate holds.
    """
    day = business_day(as_of)
    summary = decide_payouts(day)
    record_events(summary, publish(summary))
    summary["notifications"] = deliver(summary)
    # What stays blocked after this run, and why: said even when the run changed nothing.
    blocked = list_payouts(database(), state="blocked", with_block=True)
    summarise(
        key=run_summary.PAYOUT_KEY,
        markdown=run_summary.payout_markdown(summary, blocked),
        description=run_summary.payout_description(summary, blocked),
        line=run_summary.payout_line(summary, blocked),
    )
    return summary
