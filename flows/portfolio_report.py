"""Each morning: the portfolio as Prefect artifacts, per municipality and overall."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task

from iop_workflow.orchestration.artifacts import publish
from iop_workflow.orchestration.runtime import business_day, database
from iop_workflow.service.report import portfolio


@task(name="publish-portfolio")
def publish_portfolio(as_of: date) -> list[str]:
    return publish(portfolio(database(), as_of))


@flow(name="portfolio-report")
def portfolio_report(as_of: date | None = None) -> list[str]:
    """Agreements per state, blocked payouts and what unblocks them, overdue follow-ups,
    deadlines in the next 90 days and money per year, as artifacts with stable keys."""
    day = business_day(as_of)
    keys = publish_portfolio(day)
    get_run_logger().info("portfolio report %s: %d artifacts", day, len(keys))
    return keys
