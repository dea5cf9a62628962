"""The three scheduled deployments: declared once in two forms that must agree, and
`make run`'s launcher (deployments/run_local.py) brought up and down for real."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import yaml
from flow_support import ROOT, free_port

from deployments.schedules import DEPLOYMENTS, TIMEZONE

EXPECTED = {
    "daily-sweep": ("flows/daily_sweep.py:daily_sweep", "0 6 * * *"),  # 06:00
    "payout-run": ("flows/payout_run.py:payout_run", "0 7 * * *"),  # 07:00
    "portfolio-report": ("flows/portfolio_report.py:portfolio_report", "30 7 * * *"),  # 07:30
}


def prefect_yaml() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    return loaded


def test_prefect_yaml_and_schedules_declare_the_same_three_deployments() -> None:
    declared = {
        d["name"]: (d["entrypoint"], [(s["cron"], s["timezone"]) for s in d["schedules"]])
        for d in prefect_yaml()["deployments"]
    }
    assert declared == {
        name: (entrypoint, [(cron, "Europe/Stockholm")])
        for name, (entrypoint, cron) in EXPECTED.items()
    }
    assert TIMEZONE == "Europe/Stockholm"
    assert {name: (e, c) for name, (e, c, _) in DEPLOYMENTS.items()} == EXPECTED
    descriptions = {d["name"]: d["description"] for d in prefect_yaml()["deployments"]}
    assert descriptions == {name: d for name, (_, _, d) in DEPLOYMENTS.items()}


def test_every_entrypoint_imports_to_the_flow_of_that_name() -> None:
    for name, (entrypoint, _) in EXPECTED.items():
        path, attribute = entrypoint.split(":")
        spec = importlib.util.spec_from_file_location(f"entrypoint_{attribute}", ROOT / path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        flow = getattr(module, attribute)
        assert flow.name == name
        assert "as_of" in flow.parameters.properties


def test_served_deployments_carry_the_same_crons_in_stockholm_time() -> None:
    spec = importlib.util.spec_from_file_location("iop_serve", ROOT / "deployments" / "serve.py")
    assert spec is not None and spec.loader is not None
    serve = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(serve)
    served = {
        d.name: [(s.schedule.cron, s.schedule.timezone, s.slug) for s in d.schedules]
        for d in serve.deployments()
    }
    # The slug is the schedule's name in the dashboard: it says the time and the zone.
    assert served == {
        "daily-sweep": [("0 6 * * *", "Europe/Stockholm", "daily-0600-europe-stockholm")],
        "payout-run": [("0 7 * * *", "Europe/Stockholm", "daily-0700-europe-stockholm")],
        "portfolio-report": [("30 7 * * *", "Europe/Stockholm", "daily-0730-europe-stockholm")],
    }
    declared = {
        d["name"]: [s.get("slug") for s in d["schedules"]] for d in prefect_yaml()["deployments"]
    }
    assert declared == {name: [slugs[0][2]] for name, slugs in served.items()}


def prefect_processes(port: int) -> list[str]:
    """Processes still running that belong to a launcher on `port`: its Prefect server
    (`--port N`) and its runner (PREFECT_SERVER_API_PORT=N in its environment)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
            environ = (proc / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        server = b"server" in argv and b"--port" in argv and str(port).encode() in argv
        child = f"PREFECT_SERVER_API_PORT={port}".encode() in environ
        if server or child:
            found.append(f"{proc.name}: {b' '.join(argv).decode(errors='replace')}")
    return found


def test_run_local_until_ready_schedules_three_deployments_and_stops_cleanly(
    tmp_path: Path,
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "IOP_"))}
    env.update(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        IOP_DATABASE_URL=f"sqlite:///{tmp_path / 'iop.db'}",
        IOP_PREFECT_PORT=str(port),
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, str(ROOT / "deployments" / "run_local.py"), "--until-ready"]
        + ["--var", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output[-4000:]
    assert f"Prefect dashboard: http://127.0.0.1:{port}" in done.stdout, output[-4000:]
    assert "imported examples/mjolby.yaml" in done.stdout
    # Ready means the scheduler has created the next run of each deployment (a schedule
    # alone proves nothing), shown in Stockholm time.
    upcoming = sorted(line for line in done.stdout.splitlines() if line.startswith("next run:"))
    assert [line.split(" at ")[0] for line in upcoming] == [
        "next run: daily-sweep",
        "next run: payout-run",
        "next run: portfolio-report",
    ], output[-4000:]
    times = {line.split()[2]: line.split(" at ")[1] for line in upcoming}
    assert times["daily-sweep"].endswith(
        ("06:00 CET (Europe/Stockholm)", "06:00 CEST (Europe/Stockholm)")
    )
    assert " 07:00 " in times["payout-run"] and " 07:30 " in times["portfolio-report"]
    assert f"export PREFECT_API_URL=http://127.0.0.1:{port}/api" in done.stdout
    assert done.stdout.rstrip().endswith("stopped")
    assert (tmp_path / "iop.db").exists()  # the product database it was told to use
    leftovers = prefect_processes(port)
    assert not leftovers, f"left running after {time.monotonic() - started:.0f} s: {leftovers}"
