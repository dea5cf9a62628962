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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def today_in_stockholm(now: datetime | None = None) -> date:
    """The calendar day in Swedish local time (the product's notion of 'today')."""
    return (now or datetime.now(tz=STOCKHOLM)).astimezone(STOCKHOLM).date()
