"""Serve the three deployments from one process (`make run` starts this).

Needs a Prefect server that runs schedules (`prefect server start`); the temporary
in-process server does not. Each deployment allows one run at a time: a second
run of the same flow while one is going is cancelled, not queued.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prefect import serve  # noqa: E402
from prefect.client.schemas.objects import ConcurrencyLimitConfig  # noqa: E402
from prefect.schedules import Cron  # noqa: E402

from deployments.schedules import DEPLOYMENTS, TIMEZONE  # noqa: E402
from flows.daily_sweep import daily_sweep  # noqa: E402
from flows.payout_run import payout_run  # noqa: E402
from flows.portfolio_report import portfolio_report  # noqa: E402

FLOWS = {"daily-sweep": daily_sweep, "payout-run": payout_run, "portfolio-report": portfolio_report}


def deployments() -> list:  # type: ignore[type-arg]
    return [
        FLOWS[name].to_deployment(
            name=name,
            schedule=Cron(cron, timezone=TIMEZONE),
            description=description,
            tags=["iop"],
            concurrency_limit=ConcurrencyLimitConfig(limit=1, collision_strategy="CANCEL_NEW"),
        )
        for name, (_, cron, description) in DEPLOYMENTS.items()
    ]


if __name__ == "__main__":
    serve(*deployments(), limit=3)
