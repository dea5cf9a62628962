"""Serve the three deployments from one process (`make run` starts this).

Needs a Prefect server that runs schedules (`prefect server start`); the temporary
in-process server does not. Each deployment allows one run at a time: a second
run of the same flow while one is going is cancelled, not queued.

`IOP_TEST_SCHEDULE_INTERVAL_SECONDS` (tests only) replaces every cron by an interval,
so that a test sees the scheduler create and start runs within a minute or two.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prefect import Flow, serve  # noqa: E402
from prefect.client.schemas.objects import (  # noqa: E402
    ConcurrencyLimitConfig,
    ConcurrencyLimitStrategy,
)
from prefect.deployments.runner import RunnerDeployment  # noqa: E402
from prefect.schedules import Cron, Interval, Schedule  # noqa: E402

from deployments.schedules import DEPLOYMENTS, TIMEZONE, schedule_slug  # noqa: E402
from flows.daily_sweep import daily_sweep  # noqa: E402
from flows.payout_run import payout_run  # noqa: E402
from flows.portfolio_report import portfolio_report  # noqa: E402
from iop_workflow.config import get_settings  # noqa: E402

FLOWS: dict[str, Flow[..., Any]] = {
    "daily-sweep": daily_sweep,
    "payout-run": payout_run,
    "portfolio-report": portfolio_report,
}
ONE_AT_A_TIME = ConcurrencyLimitConfig(
    limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
)


def schedule(name: str, cron: str) -> Schedule:
    seconds = get_settings().test_schedule_interval_seconds
    if seconds:
        # Anchored ahead, so the first runs are ones the scheduler creates, and staggered
        # as the crons are: three runs starting in the same second make the embedded
        # server's SQLite refuse some state changes ("database is locked").
        offset = 20 + 15 * list(DEPLOYMENTS).index(name)
        return Interval(
            timedelta(seconds=seconds),
            anchor_date=datetime.now(tz=UTC) + timedelta(seconds=offset),
            timezone=TIMEZONE,
            slug=f"test-every-{seconds}s-{TIMEZONE.lower().replace('/', '-')}",
        )
    return Cron(cron, timezone=TIMEZONE, slug=schedule_slug(name))


def deployments() -> list[RunnerDeployment]:
    found = [
        FLOWS[name].to_deployment(
            name=name,
            schedule=schedule(name, cron),
            description=description,
            tags=["iop"],
            concurrency_limit=ONE_AT_A_TIME,
        )
        for name, (_, cron, description) in DEPLOYMENTS.items()
    ]
    # to_deployment is sync outside an event loop; inside one it would return coroutines.
    if not all(isinstance(d, RunnerDeployment) for d in found):
        raise TypeError("deployments() must be called outside an event loop")
    return [d for d in found if isinstance(d, RunnerDeployment)]


if __name__ == "__main__":
    serve(*deployments(), limit=3, print_starting_message=False)
