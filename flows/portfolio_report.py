"""Each morning: the portfolio as Prefect artifacts, per municipality and overall."""

from __future__ import annotations

from datetime import date

from prefect import flow, get_run_logger, task

from iop_workflow.orchestration.artifacts import publish
from iop_workflow.orchestration.run_summary import portfolio_line
from iop_workflow.orchestration.runtime import business_day, database
from iop_workflow.service.report import portfolio


@task(name="publish-portfolio")
def publish_portfolio(as_of: date) -> tuple[list[str], str]:
    """The artifacts' keys, and the run's summary line."""
    report = portfolio(database(), as_of)
    keys = publish(report)
    return keys, portfolio_line(report, keys)


@flow(name="portfolio-report")
def portfolio_report(as_of: date | None = None) -> list[str]:
    """Agreements per state, blocked payouts and what unblocks them, overdue follow-ups,
    deadlines in the next 90 days and money per year, as artifacts with stable keys."""
    day = business_day(as_of)
    keys, line = publish_portfolio(day)
    get_run_logger().info(line)
    return keys
