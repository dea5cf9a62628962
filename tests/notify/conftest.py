"""Fixtures for the notification tests: the Mjölby example in a fresh SQLite database,
real SMTP and HTTPS receivers, and an apprise configuration file pointing at them."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest

# Prefect reads these at import (the portfolio artifact test imports it): keep its files
# out of the developer's home, and no telemetry without internet.
os.environ.setdefault("PREFECT_HOME", tempfile.mkdtemp(prefix="iop-notify-tests-prefect-"))
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")

from notify_support import BASE_URL, ROOT, Mailbox, TeamsEndpoint, at, free_port, self_signed  # noqa: E402

from iop_workflow.adapters.db import Database  # noqa: E402
from iop_workflow.config import Settings  # noqa: E402
from iop_workflow.service.importer import import_file  # noqa: E402
from iop_workflow.service.sweep import daily_sweep  # noqa: E402


def example_database(url: str) -> Database:
    """Mjölby's examples imported; the 2026 follow-ups opened by the sweep of 2026-11-23."""
    database = Database(url)
    database.upgrade()
    database.mark_sandbox("tests: days of years to come")
    import_file(database, str(ROOT / "examples" / "mjolby.yaml"), now=at(date(2026, 11, 23)))
    daily_sweep(database, as_of=date(2026, 11, 23), now=at(date(2026, 11, 23)))
    return database


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = example_database(f"sqlite:///{tmp_path / 'iop.db'}")
    yield database
    database.dispose()


@pytest.fixture
def any_db(backend_url: str) -> Iterator[Database]:
    """The examples on SQLite and on a real PostgreSQL."""
    database = example_database(backend_url)
    yield database
    database.dispose()


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """An SMTP server, started."""
    box = Mailbox(free_port()).start()
    yield box
    box.stop()


@pytest.fixture
def cert(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "tls"
    folder.mkdir()
    return self_signed(folder)


@pytest.fixture
def teams(cert: tuple[Path, Path]) -> Iterator[TeamsEndpoint]:
    endpoint = TeamsEndpoint(cert).start()
    yield endpoint
    endpoint.stop()


@pytest.fixture
def configure(tmp_path: Path) -> Callable[..., Settings]:
    """Write an apprise YAML file and return Settings that use it."""

    def make(text: str, **overrides: object) -> Settings:
        path = tmp_path / "apprise.yaml"
        path.write_text(text, encoding="utf-8")
        values: dict[str, object] = {"apprise_config": str(path), "base_url": BASE_URL}
        return Settings(**(values | overrides))  # type: ignore[arg-type]

    return make
