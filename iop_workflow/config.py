"""Settings, read once from the environment (prefix IOP_) and passed in from the edge."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

STOCKHOLM = ZoneInfo("Europe/Stockholm")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="IOP_", extra="ignore")

    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default: SQLite file var/iop.db"
    )
    base_url: str = Field(
        default="http://127.0.0.1:4200", description="Base address for links in messages"
    )
    # Notifications (docs/notifications.md). Without a config file nothing is sent and
    # the outbox keeps its rows: a missing config must not burn delivery attempts.
    apprise_config: str | None = Field(
        default=None, description="Path of the apprise YAML file with the notification targets"
    )
    notify_secret_block: str | None = Field(
        default=None,
        description="Prefect Secret block (a JSON object NAME -> value) consulted for "
        "${NAME} placeholders that are not set as environment variables",
    )
    notify_max_attempts: int = Field(
        default=6, ge=1, description="Delivery attempts before a notification is marked failed"
    )
    notify_backoff_seconds: int = Field(
        default=300, ge=1, description="Wait after the first failed attempt; doubles each time"
    )
    notify_backoff_max_seconds: int = Field(
        default=6 * 3600, ge=1, description="Longest wait between two attempts"
    )
    notify_lease_seconds: int = Field(
        default=900,
        ge=1,
        description="How long one delivery run holds the rows it claimed (a crashed run's "
        "rows are retried after this)",
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def today_in_stockholm(now: datetime | None = None) -> date:
    """The calendar day in Swedish local time (the product's notion of 'today')."""
    return (now or datetime.now(tz=STOCKHOLM)).astimezone(STOCKHOLM).date()
