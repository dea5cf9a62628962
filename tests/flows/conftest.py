"""Set-up for the flow tests: one real Prefect server for the session, product databases.

The server is `python -m prefect server start` in a subprocess with a PREFECT_HOME of
its own (SQLite, migrated at start: 20-40 s), so it is started once per session, as early
as the collected tests show it is needed, and the tests that do not need it run first.
Its output (including the CancelledError tracebacks Prefect logs on shutdown) goes to a
log file, never to the test output.

Prefect reads its settings when it is first imported, so PREFECT_HOME and the analytics
switch are set here, before any test module imports prefect; the tests that talk to the
server also enter `temporary_settings` with its address, which works whatever was
imported first.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flow_support import using_server
from prefect_servers import (
    PrefectServer,
    drain_prefect_workers,
    start_server,
    stop_server,
    wait_healthy,
)

HERE = Path(__file__).resolve().parent

_CLIENT_HOME = Path(tempfile.mkdtemp(prefix="iop-flow-tests-prefect-home-"))
os.environ["PREFECT_HOME"] = str(_CLIENT_HOME)
os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"
os.environ.setdefault("PREFECT_SERVER_LOGGING_LEVEL", "WARNING")

SERVER_STARTUP_SECONDS = 180


# --- the Prefect server -----------------------------------------------------------------


_STARTED: dict[str, PrefectServer] = {}


def _needs_server(item: pytest.Item) -> bool:
    return "prefect_server" in getattr(item, "fixturenames", ())


@pytest.hookimpl(trylast=True)  # after -k/-m have deselected what will not run
def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    """Start the server as soon as collection shows it is needed; meanwhile run the flow
    tests that do not need it (they keep their order, and so do the others)."""
    ours = [i for i in items if HERE in Path(str(i.path)).parents]
    if not ours or config.option.collectonly:
        return
    if any(_needs_server(i) for i in ours) and "server" not in _STARTED:
        folder = Path(tempfile.mkdtemp(prefix="iop-prefect-server-"))
        _STARTED["server"] = start_server(folder)
    mine = set(ours)
    first = next(n for n, item in enumerate(items) if item in mine)
    reordered = [i for i in ours if not _needs_server(i)] + [i for i in ours if _needs_server(i)]
    rest = [i for i in items if i not in mine]
    items[:] = rest[:first] + reordered + rest[first:]


def pytest_unconfigure(config: pytest.Config) -> None:
    server = _STARTED.pop("server", None)
    if server is not None:  # never asked for (e.g. an early failure): still stop it
        stop_server(server)
    shutil.rmtree(_CLIENT_HOME, ignore_errors=True)


@pytest.fixture(scope="session")
def prefect_server() -> Iterator[PrefectServer]:
    """A real Prefect server (API and dashboard) on a free loopback port."""
    server = _STARTED.get("server")
    if server is None:
        server = _STARTED["server"] = start_server(
            Path(tempfile.mkdtemp(prefix="iop-prefect-server-"))
        )
    try:
        wait_healthy(server, SERVER_STARTUP_SECONDS)
        yield server
    finally:
        drain_prefect_workers()
        stop_server(server)
        _STARTED.pop("server", None)
        sys.stderr.write(f"\nPrefect server log (shutdown noise included): {server.log}\n")


@pytest.fixture
def prefect_api(
    prefect_server: PrefectServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[PrefectServer]:
    """Flow runs and clients of this test (and its subprocesses) use the session's server."""
    with using_server(prefect_server.api_url, monkeypatch):
        yield prefect_server


# --- product databases ------------------------------------------------------------------


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'iop.db'}"
