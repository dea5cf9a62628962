"""`make run`: the product on one machine.

Starts the Prefect server (embedded, SQLite under var/prefect-home), prepares the
product database (migrations; the bundled examples when it is empty), then serves
the three scheduled deployments from this process group. Ctrl-C stops everything.

    --until-ready   start, check the three deployments are scheduled, stop (for tests)
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / "var"
sys.path.insert(0, str(ROOT))


def free_port(preferred: int) -> int:
    with socket.socket() as probe:
        if probe.connect_ex(("127.0.0.1", preferred)) != 0:
            return preferred
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(port: int) -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("PREFECT_HOME", str(VAR / "prefect-home"))
    env.setdefault("IOP_DATABASE_URL", f"sqlite:///{VAR / 'iop.db'}")
    env.update(
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        # The dashboard asks the API at this host and port (`--port` alone would not move it).
        PREFECT_SERVER_API_HOST="127.0.0.1",
        PREFECT_SERVER_API_PORT=str(port),
        PREFECT_API_URL=f"http://127.0.0.1:{port}/api",
        PREFECT_SERVER_LOGGING_LEVEL="WARNING",
    )
    return env


def prepare_database(env: dict[str, str]) -> None:
    from iop_workflow.adapters.db import Database
    from iop_workflow.service.importer import import_file
    from iop_workflow.service.views import list_agreements

    db = Database(env["IOP_DATABASE_URL"])
    db.upgrade()
    if not list_agreements(db):
        for name in ("mjolby.yaml", "kramfors.yaml"):
            import_file(db, str(ROOT / "examples" / name), now=datetime.now(tz=UTC))
            print(f"imported examples/{name}")  # noqa: T201
    db.dispose()


def wait_healthy(url: str, server: subprocess.Popen[bytes], timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the Prefect server exited; see {VAR / 'prefect-server.log'}")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(1)
    raise SystemExit(f"the Prefect server did not answer in {timeout:.0f} s")


def scheduled_deployments(env: dict[str, str], timeout: float = 120) -> list[str]:
    """Wait until all three deployments exist with an active schedule and runs ahead."""
    os.environ.update(env)
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.sorting import DeploymentSort

    from deployments.schedules import DEPLOYMENTS

    deadline = time.monotonic() + timeout
    found: list[str] = []
    while time.monotonic() < deadline:
        with get_client(sync_client=True) as client:
            found = [
                f"{d.name} ({', '.join(s.schedule.cron for s in d.schedules)})"  # type: ignore[union-attr]
                for d in client.read_deployments(limit=50, sort=DeploymentSort.NAME_ASC)
                if d.name in DEPLOYMENTS and d.schedules and d.schedules[0].active
            ]
        if len(found) == len(DEPLOYMENTS):
            return found
        time.sleep(2)
    raise SystemExit(f"deployments not scheduled in time: {found}")


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(argv: list[str]) -> int:
    until_ready = "--until-ready" in argv
    VAR.mkdir(exist_ok=True)
    port = free_port(int(os.environ.get("IOP_PREFECT_PORT", "4200")))
    env = environment(port)
    prepare_database(env)
    log = open(VAR / "prefect-server.log", "ab")  # noqa: SIM115 (open for the server's life)
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "prefect",
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    serving: subprocess.Popen[bytes] | None = None
    try:
        wait_healthy(env["PREFECT_API_URL"], server)
        print(f"Prefect dashboard: http://127.0.0.1:{port}  (server log: var/prefect-server.log)")  # noqa: T201
        print(f"Product database:  {env['IOP_DATABASE_URL']}")  # noqa: T201
        serving = subprocess.Popen(
            [sys.executable, str(ROOT / "deployments" / "serve.py")], env=env
        )
        for line in scheduled_deployments(env):
            print(f"scheduled: {line}, Europe/Stockholm")  # noqa: T201
        if until_ready:
            return 0
        print("Serving the deployments; Ctrl-C stops the server and the runner.")  # noqa: T201
        serving.wait()
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        if serving is not None:
            stop(serving)
        stop(server)
        log.close()
        print("stopped")  # noqa: T201


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    sys.exit(main(sys.argv[1:]))
