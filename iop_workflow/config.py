"""Settings, read once from the environment (prefix IOP_) and passed in from the edge."""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

STOCKHOLM = ZoneInfo("Europe/Stockholm")
PACKAGE_DIR = Path(__file__).resolve().parent
APP_NAME = "iop-workflow"
DATABASE_FILE = "iop.db"
WEB_PORT = 8000


def _set_when_not_empty(value: object) -> object:
    """IOP_DEBUG as it has always been read: any non-empty value switches it on."""
    return bool(value) if isinstance(value, str) else value


class _DebugSetting(BaseSettings):
    """The setting that says how to report an error, readable even when another setting
    is invalid (`debug_enabled`)."""

    model_config = SettingsConfigDict(env_prefix="IOP_", extra="ignore")

    debug: Annotated[bool, BeforeValidator(_set_when_not_empty)] = Field(
        default=False,
        description="Any non-empty value: an unexpected error in a command shows its "
        "traceback instead of one line",
    )


class Settings(_DebugSetting):
    """Every IOP_ setting of the product, one field each (the variable is IOP_ + the
    field name in capitals)."""

    model_config = SettingsConfigDict(env_prefix="IOP_", extra="ignore")

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: the SQLite file iop.db in the data folder "
        "(see `data_folder`)",
    )
    data_dir: str | None = Field(
        default=None,
        description="The product's own folder (default database, embedded Prefect home); "
        "default: var/ of the checkout, else the user data folder",
    )
    base_url: str = Field(
        default=f"http://127.0.0.1:{WEB_PORT}",
        description="Base address of the web application: every link in every message "
        "opens a page under it (default: `iop web` on its default port)",
    )
    web_port: int = Field(
        default=WEB_PORT, ge=1, le=65535, description="Port `iop web` and `make run` serve on"
    )
    auth_mode: Literal["local", "oidc"] = Field(
        default="local",
        description="How people sign in to the web application: `local` (passwords set "
        "with `iop users password`) or `oidc` (the municipality's identity provider)",
    )
    oidc_issuer: str | None = Field(
        default=None, description="OpenID Connect issuer URL (auth_mode oidc)"
    )
    oidc_client_id: str | None = Field(default=None, description="OpenID Connect client id")
    oidc_client_secret: str | None = Field(
        default=None, description="OpenID Connect client secret (never logged or shown)"
    )
    session_secret: str | None = Field(
        default=None,
        description="Key that signs the web sessions; set it in production (unset: a "
        "random key per process, so a restart signs everyone out)",
    )
    document_dir: str | None = Field(
        default=None,
        description="Folder of the document store: the files organisations hand in, by "
        "SHA-256 (default: documents/ in the data folder)",
    )
    max_document_mb: int = Field(
        default=20, ge=1, le=500, description="Largest file an organisation may upload, in MB"
    )
    prefect_port: int = Field(
        default=4200,
        ge=1,
        le=65535,
        description="Port `make run` gives the embedded Prefect server (a free one if taken)",
    )
    test_schedule_interval_seconds: int | None = Field(
        default=None,
        ge=60,
        description="Tests only: serve every deployment on this interval instead of its cron",
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


def debug_enabled() -> bool:
    """`Settings.debug`; when some other setting is invalid (that is the error being
    reported), IOP_DEBUG alone."""
    try:
        return get_settings().debug
    except ValidationError:
        return _DebugSetting().debug


@dataclass(frozen=True)
class Location:
    """Where something is, what decided it, and that in words (shown by `iop db info`)."""

    where: str
    source: str
    detail: str


def checkout_root(package_dir: Path = PACKAGE_DIR) -> Path | None:
    """The project folder when the package runs from a checkout (its parent holds
    pyproject.toml and it is not installed under site-packages), else None."""
    root = package_dir.parent
    installed = {"site-packages", "dist-packages"} & set(package_dir.parts)
    return root if not installed and (root / "pyproject.toml").is_file() else None


def data_folder(settings: Settings | None = None, package_dir: Path = PACKAGE_DIR) -> Location:
    """The product's own folder, whatever the current directory. The one rule:

    1. `IOP_DATA_DIR` when set;
    2. `var/` of the project when the package runs from a checkout (`checkout_root`);
    3. else the user data folder: `$XDG_DATA_HOME/iop-workflow`, or
       `~/.local/share/iop-workflow` without XDG_DATA_HOME.

    Nothing is created here. Without `settings` the environment is read now.
    """
    settings = Settings() if settings is None else settings
    if settings.data_dir and settings.data_dir.strip():
        folder = Path(settings.data_dir.strip()).expanduser().resolve()
        return Location(str(folder), "IOP_DATA_DIR", "IOP_DATA_DIR")
    root = checkout_root(package_dir)
    if root is not None:
        return Location(str(root / "var"), "checkout", f"var/ of the project checkout {root}")
    xdg = os.environ.get("XDG_DATA_HOME", "").strip()
    if xdg and Path(xdg).is_absolute():
        folder, named = Path(xdg) / APP_NAME, f"$XDG_DATA_HOME/{APP_NAME}"
    else:
        folder, named = Path.home() / ".local" / "share" / APP_NAME, f"~/.local/share/{APP_NAME}"
    return Location(str(folder), "user-data", f"the user data folder {named}")


def database_location(settings: Settings | None = None) -> Location:
    """The product database's URL and what decided it: `IOP_DATABASE_URL` when set, else
    the SQLite file iop.db in `data_folder`. Without `settings` the environment is read
    now."""
    settings = Settings() if settings is None else settings
    url = (settings.database_url or "").strip()
    if url:
        return Location(url, "IOP_DATABASE_URL", "set by IOP_DATABASE_URL")
    folder = data_folder(settings)
    return Location(
        f"sqlite:///{Path(folder.where) / DATABASE_FILE}",
        "default",
        f"the default: {DATABASE_FILE} in {folder.detail}",
    )


def document_folder(settings: Settings | None = None) -> Path:
    """The document store's folder: `IOP_DOCUMENT_DIR`, else documents/ in `data_folder`.
    Nothing is created here."""
    settings = Settings() if settings is None else settings
    if settings.document_dir and settings.document_dir.strip():
        return Path(settings.document_dir.strip()).expanduser().resolve()
    return Path(data_folder(settings).where) / "documents"


def today_in_stockholm(now: datetime | None = None) -> date:
    """The calendar day in Swedish local time (the product's notion of 'today')."""
    return (now or datetime.now(tz=STOCKHOLM)).astimezone(STOCKHOLM).date()
