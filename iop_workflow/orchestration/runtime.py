"""Database, clock and business day for a flow run, from the composition root
(`iop_workflow.bootstrap`)."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from ..adapters.db import Database
from ..bootstrap import app
from ..clock import Clock
from ..config import data_folder, get_settings


def prefect_defaults() -> None:
    """Sensible Prefect settings for this product, unless the operator set them.

    A PREFECT_HOME in the product's data folder (`var/prefect-home` of a checkout, see
    `config.data_folder`) keeps runs out of the user's own profile, and the telemetry
    call would only fail loudly on a machine without internet.
    """
    home = Path(data_folder(get_settings()).where) / "prefect-home"
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "CRITICAL")


def database() -> Database:
    """The product database: one engine for the life of the process (a served runner
    lives long), `bootstrap.app`."""
    return app().database


def clock() -> Clock:
    """The moment (`clock().now()`) and the system's day (`clock().today()`)."""
    return app().clock


def business_day(as_of: date | None) -> date:
    return as_of or clock().today()
