"""Database and business day for a flow run."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path

from ..adapters.db import Database, default_database_url
from ..config import data_folder, get_settings, today_in_stockholm


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


@lru_cache(maxsize=4)
def _database(url: str) -> Database:
    return Database(url)


def database() -> Database:
    """One engine per database URL for the life of the process (a served runner lives long)."""
    return _database(default_database_url(get_settings()))


def business_day(as_of: date | None) -> date:
    return as_of or today_in_stockholm()


def now_utc() -> datetime:
    return datetime.now(tz=UTC)
