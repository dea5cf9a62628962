"""Real Prefect servers for the flow tests: `python -m prefect server start` in a
subprocess with a PREFECT_HOME of its own, its output in a log file (conftest.py starts
the session's; a test module may start one with settings of its own)."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import pytest
from flow_support import free_port


@dataclass
class PrefectServer:
    url: str  # the dashboard
    api_url: str
    port: int
    home: Path
    log: Path
    process: subprocess.Popen[bytes]

    def log_tail(self, lines: int = 40) -> str:
        if not self.log.exists():
            return "(no server log)"
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def start_server(folder: Path, settings: dict[str, str] | None = None) -> PrefectServer:
    """A server started (not yet answering: `wait_healthy`), with `settings` added to
    its environment."""
    port = free_port()
    home = folder / "home"
    home.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "IOP_"))}
    env.update(
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # `--port` alone would leave the dashboard calling the API on port 4200.
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
        **(settings or {}),
    )
    log = folder / "server.log"
    with open(log, "ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "prefect", "server", "start"]
            + ["--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    url = f"http://127.0.0.1:{port}"
    return PrefectServer(url, f"{url}/api", port, home, log, process)


def wait_healthy(server: PrefectServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(
                f"the Prefect server exited ({server.process.returncode}); log {server.log}:\n"
                + server.log_tail(),
                pytrace=False,
            )
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(f"{server.api_url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        time.sleep(0.5)
    pytest.fail(
        f"the Prefect server did not answer /api/health within {timeout:.0f} s; "
        f"log {server.log}:\n{server.log_tail()}",
        pytrace=False,
    )


def drain_prefect_workers() -> None:
    """Send the logs and events still queued in this process while the server is up (at
    exit Prefect would retry against a stopped server for a minute)."""
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(RuntimeError):
            worker.drain_all(timeout=30)


def stop_server(server: PrefectServer) -> None:
    process = server.process
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    shutil.rmtree(server.home, ignore_errors=True)  # its database; the log stays
