"""`make run`: the product on one machine.

Starts the Prefect server (embedded, SQLite under var/prefect-home), prepares the
product database (migrations; the bundled examples when it is empty, with a password
for each example person), starts the web application (`iop web`) beside it, then
serves the three scheduled deployments from this process group. Ctrl-C stops
everything.

    --until-ready   start, wait until the scheduler has created the upcoming runs of
                    all three deployments, stop (for tests and for a quick check)
    --var DIR       keep the Prefect home and the server log in DIR (default: the data
                    folder, var/ of the checkout or IOP_DATA_DIR)
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from deployments.schedules import DEPLOYMENTS, TIMEZONE  # noqa: E402
from iop_workflow.bootstrap import App, app  # noqa: E402
from iop_workflow.config import STOCKHOLM, data_folder  # noqa: E402
from iop_workflow.orchestration.processes import die_with_parent, stop  # noqa: E402


def say(line: str) -> None:
    print(line, flush=True)  # noqa: T201 (this script talks to the operator)


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(port: int, var: Path, database_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(var / "prefect-home"))
    env.update(
        IOP_DATABASE_URL=database_url,
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # The dashboard asks the API at this host and port (`--port` alone would not move it).
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    # The server stores events every half second rather than every 5 s: a run's events
    # are confirmed (and the run ends) that much sooner (docs/events.md).
    env.setdefault("PREFECT_SERVER_SERVICES_EVENT_PERSISTER_FLUSH_INTERVAL", "0.5")
    return env


def prepare_database(application: App, var: Path) -> Path:
    """Migrate; on an empty database import the examples and give every example person
    one password, kept in `var/example-logins.txt` (only for this local run)."""
    from iop_workflow.service.identity import set_password
    from iop_workflow.service.importer import import_file
    from iop_workflow.service.people_register import list_people
    from iop_workflow.service.views import list_agreements

    db = application.database
    db.upgrade()
    logins = var / "example-logins.txt"
    if not list_agreements(db):
        for name in ("mjolby.yaml", "kramfors.yaml"):
            import_file(db, str(ROOT / "examples" / name), now=application.clock.now())
            say(f"imported examples/{name}")
        password = secrets.token_urlsafe(12)
        people = list_people(db)
        for person in people:
            set_password(db, person["name"], password, now=application.clock.now())
        lines = [f"{p['name']}\t{p['role']}\t{p.get('municipality') or ''}" for p in people]
        logins.write_text(
            "Every example person signs in with the password: "
            + password
            + "\n\n"
            + "\n".join(lines)
            + "\n",
            encoding="utf-8",
        )
        logins.chmod(0o600)
    db.dispose()  # its connections: this process only waits from here on
    return logins


def wait_web(url: str, web: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if web.poll() is not None:
            raise SystemExit("the web application (iop web) exited")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the web application did not answer in {timeout:.0f} s")


def wait_healthy(url: str, server: subprocess.Popen[bytes], log: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the Prefect server exited; see {log}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the Prefect server did not answer in {timeout:.0f} s; see {log}")


def upcoming_runs(env: dict[str, str], serving: subprocess.Popen[bytes], timeout: float) -> None:
    """Wait until each deployment has runs the scheduler created ahead of time.

    A schedule alone proves nothing: the server's scheduler service has to turn it into
    flow runs, and the runner has to be there to start them.
    """
    os.environ.update(env)
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        DeploymentFilter,
        DeploymentFilterName,
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.client.schemas.sorting import FlowRunSort

    deadline = time.monotonic() + timeout
    missing = list(DEPLOYMENTS)
    while time.monotonic() < deadline:
        if serving.poll() is not None:
            raise SystemExit("the runner (deployments/serve.py) exited")
        with get_client(sync_client=True) as client:
            for name in list(missing):
                runs = client.read_flow_runs(
                    deployment_filter=DeploymentFilter(name=DeploymentFilterName(any_=[name])),
                    flow_run_filter=FlowRunFilter(
                        state=FlowRunFilterState(
                            type=FlowRunFilterStateType(any_=[StateType.SCHEDULED])
                        )
                    ),
                    sort=FlowRunSort.EXPECTED_START_TIME_ASC,
                    limit=1,
                )
                if runs and runs[0].auto_scheduled and runs[0].expected_start_time:
                    start = runs[0].expected_start_time.astimezone(STOCKHOLM)
                    say(f"next run: {name} at {start:%Y-%m-%d %H:%M %Z} ({TIMEZONE})")
                    missing.remove(name)
        if not missing:
            return
        time.sleep(2)
    raise SystemExit(
        f"no upcoming runs after {timeout:.0f} s for {', '.join(missing)}: the Prefect "
        "scheduler did not create them (see the server log)"
    )


def main(argv: list[str]) -> int:
    from iop_workflow.adapters.db import default_database_url

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--until-ready", action="store_true")
    parser.add_argument("--var", type=Path, default=None)
    args = parser.parse_args(argv)
    application = app()
    settings = application.settings
    var: Path = (args.var or Path(data_folder(settings).where)).resolve()
    var.mkdir(parents=True, exist_ok=True)
    port = free_port(settings.prefect_port)
    database_url = settings.database_url or default_database_url(settings)
    web_port = free_port(settings.web_port)
    web_url = f"http://127.0.0.1:{web_port}"
    env = environment(port, var, database_url)
    # Every link in every message opens a page of this web application.
    env.setdefault("IOP_BASE_URL", web_url)
    logins = prepare_database(application, var)
    log_path = var / "prefect-server.log"
    log = open(log_path, "ab")  # noqa: SIM115 (open for the server's life)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        + ["--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        preexec_fn=die_with_parent(),  # noqa: PLW1509 (no threads yet in this process)
    )
    serving: subprocess.Popen[bytes] | None = None
    web: subprocess.Popen[bytes] | None = None
    try:
        web = subprocess.Popen(
            [sys.executable, "-m", "iop_workflow.entrypoints.cli", "web"]
            + ["--host", "127.0.0.1", "--port", str(web_port)],
            env=env,
            stdin=subprocess.DEVNULL,
            preexec_fn=die_with_parent(),  # noqa: PLW1509
        )
        wait_healthy(env["PREFECT_API_URL"], server, log_path, timeout=180)
        wait_web(web_url, web, timeout=60)
        say(f"Web application:   {web_url}/  (API: {web_url}/api/v1/docs)")
        if logins.exists():
            say(
                f"  sign in as an example person, e.g. 'Anna Berg' (handläggare, Mjölby), "
                f"'Karin Lund' (chef) or 'Leila Haddad' (an association's representative, "
                f"who hands in its annual report): the password is in {logins}"
            )
        say(f"Prefect dashboard: http://127.0.0.1:{port}  (server log: {log_path})")
        say(f"Product database:  {database_url}")
        say("In another shell, to run flows by hand on this server and see them here:")
        say(f"  export PREFECT_API_URL={env['PREFECT_API_URL']}")
        if settings.database_url is not None:  # set by IOP_DATABASE_URL
            say(f"  export IOP_DATABASE_URL={database_url}")
        serving = subprocess.Popen(
            [sys.executable, str(ROOT / "deployments" / "serve.py")],
            cwd=ROOT,  # entrypoints are recorded relative to it
            env=env,
            stdin=subprocess.DEVNULL,
            # SIGKILL, not SIGTERM: when the launcher dies the server gets its SIGTERM at the
            # same moment, and the runner's graceful stop (pausing the schedules through the
            # API) would retry against a server that is gone for more than a minute.
            preexec_fn=die_with_parent(signal.SIGKILL),  # noqa: PLW1509
        )
        upcoming_runs(env, serving, timeout=180)
        if args.until_ready:
            return 0
        say("Serving the deployments; Ctrl-C stops the server and the runner.")
        serving.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if serving is not None:
            stop(serving)
        if web is not None:
            stop(web)
        stop(server)
        log.close()
        say("stopped")


if __name__ == "__main__":
    # Explicitly: a launcher started in the background of a script inherits SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main(sys.argv[1:]))
