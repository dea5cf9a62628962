"""What ends both `daily-sweep` and `payout-run`: one definition, one behaviour."""

from __future__ import annotations

from typing import Any

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact

from iop_workflow.notify import deliver_pending
from iop_workflow.orchestration import delivery_report
from iop_workflow.orchestration.events import publish_events
from iop_workflow.orchestration.runtime import clock, database


@task(name="deliver-notifications", retries=1, retry_delay_seconds=[30])
def deliver(_: object = None) -> dict[str, Any]:
    # Failed sends are recorded and retried on later runs; only a broken config raises.
    # They are reported in the dashboard instead (a WARNING and an artifact).
    now = clock().now()
    report = deliver_pending(database(), now=now)
    delivery_report.publish(report, now=now)
    return report.as_dict()


@task(name="publish-events", retries=2, retry_delay_seconds=[5, 30])
def publish(_: object = None) -> dict[str, Any]:
    # What the Prefect server has not stored stays after the event cursor and goes out
    # with the next publish: said by a WARNING, never by failing the run.
    result = publish_events(database())
    if result.unconfirmed:
        get_run_logger().warning(result.warning())
    return result.as_dict()


def record_events(summary: dict[str, Any], published: dict[str, Any]) -> None:
    """The publish's numbers in a flow's summary: `events_published`, and
    `events_unconfirmed` when the server has not stored them all."""
    summary["events_published"] = published["published"]
    if published["unconfirmed"]:
        summary["events_unconfirmed"] = published["unconfirmed"]


def summarise(*, key: str, markdown: str, description: str, line: str) -> None:
    """End a flow run: the readable summary as a markdown artifact and as the last log line
    (texts from `iop_workflow.orchestration.run_summary`)."""
    create_markdown_artifact(key=key, markdown=markdown, description=description)
    get_run_logger().info(line)
