"""The three deployments and their schedules (Europe/Stockholm), defined once.

`serve.py` serves them from one process; `prefect.yaml` declares the same for a
Prefect server with workers. A test checks that the two agree.
"""

from __future__ import annotations

TIMEZONE = "Europe/Stockholm"

# deployment name -> (entrypoint, cron, description)
DEPLOYMENTS: dict[str, tuple[str, str, str]] = {
    "daily-sweep": (
        "flows/daily_sweep.py:daily_sweep",
        "0 6 * * *",
        "06:00 every day: follow-ups, overdue reports, renewal windows, ends, reminders",
    ),
    "payout-run": (
        "flows/payout_run.py:payout_run",
        "0 7 * * *",
        "07:00 every day: release payouts whose gate holds, block the rest with a reason",
    ),
    "portfolio-report": (
        "flows/portfolio_report.py:portfolio_report",
        "30 7 * * *",
        "07:30 every day: the portfolio as artifacts, per municipality and overall",
    ),
}
