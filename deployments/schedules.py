"""The three deployments and their schedules (Europe/Stockholm), defined once.

`serve.py` serves them from one process; `prefect.yaml` declares the same for a
Prefect server with workers. A test checks that the two agree.
"""

from __future__ import annotations

TIMEZONE = "Europe/Stockholm"

# deployment name -> (entrypoint, cron, description). The description names the zone
# because the dashboard's deployment list shows the description, not the schedule's zone.
DEPLOYMENTS: dict[str, tuple[str, str, str]] = {
    "daily-sweep": (
        "flows/daily_sweep.py:daily_sweep",
        "0 6 * * *",
        "Every day at 06:00 Europe/Stockholm: follow-ups, overdue reports, renewal windows, "
        "ends, reminders",
    ),
    "payout-run": (
        "flows/payout_run.py:payout_run",
        "0 7 * * *",
        "Every day at 07:00 Europe/Stockholm: release payouts whose gate holds, block the "
        "rest with a reason",
    ),
    "portfolio-report": (
        "flows/portfolio_report.py:portfolio_report",
        "30 7 * * *",
        "Every day at 07:30 Europe/Stockholm: the portfolio as artifacts, per municipality "
        "and overall",
    ),
}


def schedule_slug(name: str) -> str:
    """The schedule's name in the dashboard, e.g. `daily-0600-europe-stockholm`."""
    hour_minute = DEPLOYMENTS[name][1].split()[:2]
    minute, hour = (int(part) for part in hour_minute)
    return f"daily-{hour:02d}{minute:02d}-{TIMEZONE.lower().replace('/', '-')}"
