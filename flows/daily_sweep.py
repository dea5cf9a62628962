"""Every morning: move deadlines forward and queue the reminders that fall due."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import flow, task

from flows.shared_tasks import deliver, publish, record_events, summarise
from iop_workflow.domain.roles import FLOW_ORIGIN
from iop_workflow.orchestration import run_summary
from iop_workflow.orchestration.runtime import business_day, clock, database
from iop_workflow.service.sweep import daily_sweep as sweep_service


@task(name="sweep-deadlines")
def sweep_deadlines(as_of: date) -> dict[str, Any]:
    result = sweep_service(database(), as_of=as_of, now=clock().now(), origin=FLOW_ORIGIN)
    triggers = sorted({c.trigger for c in result.changes})
    return {
        "as_of": as_of.isoformat(),
        "changes": {trigger: result.count(trigger) for trigger in triggers},
        "notifications_queued": result.notifications,
    }


@flow(name="daily-sweep", log_prints=False)
def daily_sweep(as_of: date | None = None) -> dict[str, Any]:
    """Open follow-ups, mark reports and claims overdue, open renewal windows, end
    agreements whose period is over, and queue every reminder due on `as_of`."""
    day = business_day(as_of)
    summary = sweep_deadlines(day)
    record_events(summary, publish(summary))
    summary["notifications"] = deliver(summary)
    summarise(
        key=run_summary.SWEEP_KEY,
        markdown=run_summary.sweep_markdown(summary),
        description=run_summary.sweep_description(summary),
        line=run_summary.sweep_line(summary),
    )
    return summary
