"""The main job runs by itself: `make run`'s launcher, left alone, gets runs created by the
Prefect scheduler and started by the served runner, and stops without a traceback.

Nothing here triggers a run. The only thing moved for the test is the schedule: the
setting IOP_TEST_SCHEDULE_INTERVAL_SECONDS replaces the daily crons by a one-minute
interval, so the scheduler's work is seen in about two minutes instead of a day.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flow_support import ROOT, free_port, new_database
from test_dashboard import SCREENSHOTS, Browser
from test_deployments import prefect_processes

from deployments.schedules import DEPLOYMENTS

STARTUP_SECONDS = 240
RUNS_SECONDS = 240


@dataclass
class Launcher:
    process: subprocess.Popen[str]
    output: Path
    server_log: Path
    api_url: str
    port: int

    def text(self) -> str:
        return self.output.read_text(errors="replace")


def wait_for(predicate: Any, timeout: float, what: str, launcher: Launcher) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if launcher.process.poll() is not None:
            pytest.fail(f"make run's launcher exited while waiting for {what}:\n{launcher.text()}")
        found = predicate()
        if found:
            return found
        time.sleep(2)
    pytest.fail(f"no {what} within {timeout:.0f} s; launcher output:\n{launcher.text()[-4000:]}")


@pytest.fixture
def launcher(tmp_path: Path) -> Iterator[Launcher]:
    """deployments/run_local.py as `make run` starts it, with one-minute schedules."""
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    new_database(url, examples=False).dispose()  # run_local imports the examples itself
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "IOP_"))}
    env.update(
        IOP_DATABASE_URL=url,
        IOP_PREFECT_PORT=str(port),
        IOP_TEST_SCHEDULE_INTERVAL_SECONDS="60",
    )
    output = tmp_path / "make-run.out"
    with open(output, "w") as out:
        process = subprocess.Popen(
            [sys.executable, str(ROOT / "deployments" / "run_local.py"), "--var", str(tmp_path)],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )
    started = Launcher(
        process, output, tmp_path / "prefect-server.log", f"http://127.0.0.1:{port}/api", port
    )
    try:
        yield started
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def flow_runs(api_url: str) -> list[Any]:
    from prefect.client.orchestration import get_client
    from prefect.settings import PREFECT_API_URL, temporary_settings

    with temporary_settings(updates={PREFECT_API_URL: api_url}):
        with get_client(sync_client=True) as client:
            deployments = {d.id: d.name for d in client.read_deployments(limit=50)}
            runs = client.read_flow_runs(limit=200)
    return [(deployments.get(run.deployment_id), run) for run in runs]


def test_make_run_left_alone_runs_every_deployment_and_stops_cleanly(launcher: Launcher) -> None:
    wait_for(
        lambda: "Serving the deployments" in launcher.text(),
        STARTUP_SECONDS,
        "readiness line",
        launcher,
    )
    text = launcher.text()
    # The launcher tells the operator how to reach this server from another shell, and has
    # itself seen the scheduler's runs ahead for every deployment.
    assert f"export PREFECT_API_URL={launcher.api_url}" in text
    assert sorted(re.findall(r"^next run: (\S+) at ", text, re.MULTILINE)) == sorted(DEPLOYMENTS)

    def scheduler_work() -> dict[str, Any] | None:
        runs = flow_runs(launcher.api_url)
        upcoming = {name for name, r in runs if r.state_type.value == "SCHEDULED"}
        completed = {
            name: r
            for name, r in runs
            if r.state_type.value == "COMPLETED" and r.auto_scheduled and name in DEPLOYMENTS
        }
        if upcoming >= set(DEPLOYMENTS) and set(completed) == set(DEPLOYMENTS):
            return {"runs": runs, "completed": completed}
        return None

    seen = wait_for(
        scheduler_work, RUNS_SECONDS, "completed scheduled run of every deployment", launcher
    )
    for name, run in seen["completed"].items():
        # Created by the scheduler from the schedule (not by a person or `prefect
        # deployment run`), for the day it ran: no as_of given.
        assert run.auto_scheduled, name
        assert (run.idempotency_key or "").startswith("scheduled "), (name, run.idempotency_key)
        assert run.parameters == {}, (name, run.parameters)
        assert run.start_time is not None and run.expected_start_time is not None
    states = {(name, r.state_type.value) for name, r in seen["runs"]}
    assert not {s for s in states if s[1] in {"FAILED", "CRASHED"}}, states

    # The operator's look from another shell (a 422 with FastAPI 0.151+, see constraints.txt).
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    env.update(PREFECT_API_URL=launcher.api_url, PREFECT_HOME=str(launcher.output.parent / "cli"))
    listed = subprocess.run(
        [str(Path(sys.executable).with_name("prefect")), "deployment", "ls"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stdout + listed.stderr
    for name in DEPLOYMENTS:
        assert name in listed.stdout, listed.stdout

    # The dashboard's page of a deployment names the schedule with its zone (the list shows
    # only "Every minute" or "At 06:00 AM"); in production `daily-0600-europe-stockholm`.
    sweep = next(r for name, r in seen["runs"] if name == "daily-sweep")
    browser = Browser(launcher.output.parent / "chromium-profile")
    try:
        page = browser.open(
            f"http://127.0.0.1:{launcher.port}/deployments/deployment/{sweep.deployment_id}",
            ["daily-sweep", "Schedules", "test-every-60s-europe-stockholm"],
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        browser.screenshot(SCREENSHOTS / "dashboard-deployment-daily-sweep.png")
    finally:
        browser.close()
    assert "flows/daily_sweep.py:daily_sweep" in page, page  # the entrypoint, from the root

    launcher.process.send_signal(signal.SIGINT)  # Ctrl-C in the operator's terminal
    assert launcher.process.wait(timeout=90) == 0, launcher.text()[-4000:]
    text = launcher.text()
    assert text.rstrip().endswith("stopped"), text[-2000:]
    assert not prefect_processes(launcher.port)
    # A traceback from any of the server's services (scheduler, late runs, foreman, event
    # persister...) or from the runner is a failure even though the runs completed.
    server_log = launcher.server_log.read_text(errors="replace")
    assert "Traceback" not in server_log, server_log[-6000:]
    assert "Traceback" not in text, text[-6000:]
    assert " ERROR " not in server_log, server_log[-6000:]
