"""No process is left behind when its parent is killed by SIGKILL (issue 9 item 5): the
temporary Prefect server of a flow command run without PREFECT_API_URL, and the server
and the runner of `make run` (deployments/run_local.py). The kernel signals them when
their parent dies (orchestration/processes.py `die_with_parent`): SIGTERM to the servers,
SIGKILL to the runner, whose graceful stop would wait for a server that is gone."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cli_runner import iop_command
from flow_support import ROOT, free_port, new_database
from test_deployments import prefect_processes

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="/proc and PR_SET_PDEATHSIG")

GONE_WITHIN = 15.0  # seconds after the SIGKILL


@dataclass(frozen=True)
class Proc:
    pid: int
    started: int  # clock ticks after boot: tells a process from a later one with its pid
    argv: str


def _stat(pid: int) -> tuple[str, int, int] | None:
    """(state, parent pid, start time) of a process, None when there is none."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text[text.rindex(")") + 2 :].split()  # after "pid (comm) "
    return fields[0], int(fields[1]), int(fields[19])


def _argv(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace").strip()


def children(pid: int) -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            stat = _stat(int(entry.name))
            if stat is not None and stat[1] == pid:
                found.append(Proc(int(entry.name), stat[2], _argv(int(entry.name))))
    return found


def descendants(pid: int) -> list[Proc]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child.pid)
    return found


def still_running(procs: list[Proc]) -> list[Proc]:
    """Those of `procs` that still run (a zombie waiting for its new parent has ended)."""
    running = []
    for proc in procs:
        stat = _stat(proc.pid)
        if stat is not None and stat[2] == proc.started and stat[0] != "Z":
            running.append(proc)
    return running


def wait_gone(procs: list[Proc], timeout: float = GONE_WITHIN) -> list[Proc]:
    deadline = time.monotonic() + timeout
    while (left := still_running(procs)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def wait_for(what: str, check: object, timeout: float, process: subprocess.Popen[bytes]) -> None:
    assert callable(check)
    deadline = time.monotonic() + timeout
    while not check():
        if process.poll() is not None:
            pytest.fail(f"exited ({process.returncode}) before {what}", pytrace=False)
        if time.monotonic() > deadline:
            pytest.fail(f"no {what} within {timeout:.0f} s", pytrace=False)
        time.sleep(0.1)


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as r:
            return bool(r.status == 200)
    except OSError:
        return False


@contextlib.contextmanager
def cleaned_up(process: subprocess.Popen[bytes]) -> Iterator[list[Proc]]:
    """Whatever the test found of `process`'s family is killed at the end, by pid, if a
    failed assertion left it running."""
    family: list[Proc] = []
    try:
        yield family
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        for proc in still_running(family):
            with contextlib.suppress(ProcessLookupError):
                os.kill(proc.pid, signal.SIGKILL)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "IOP_"))}
    env.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", **extra)
    return env


def test_a_flow_command_killed_by_sigkill_leaves_no_temporary_server(tmp_path: Path) -> None:
    db_file = tmp_path / "iop.db"
    new_database(f"sqlite:///{db_file}").dispose()
    env = clean_env(  # no PREFECT_API_URL, and a Prefect home without a profile that has one
        PREFECT_HOME=str(tmp_path / "prefect-home"), IOP_DATABASE_URL=f"sqlite:///{db_file}"
    )
    with open(tmp_path / "iop.out", "wb") as out:
        iop = subprocess.Popen(
            [*iop_command(), "report", "--as-of", "2027-05-01"],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with cleaned_up(iop) as family:
        # Its temporary server: a child of the iop process, once it has exec'd uvicorn.
        wait_for(
            "temporary server",
            lambda: any("--port" in c.argv for c in children(iop.pid)),
            120,
            iop,
        )
        server = next(c for c in children(iop.pid) if "--port" in c.argv)
        words = server.argv.split()
        port = int(words[words.index("--port") + 1])
        # Hold the command where it is (it cannot end before the kill); the server, in a
        # session of its own, goes on starting until it answers.
        os.kill(iop.pid, signal.SIGSTOP)
        deadline = time.monotonic() + 120
        while not answers(port):
            assert still_running([server]), f"the temporary server exited: {server.argv}"
            assert time.monotonic() < deadline, f"the temporary server never answered: {port}"
            time.sleep(0.2)
        family += descendants(iop.pid)
        assert server in family

        os.kill(iop.pid, signal.SIGKILL)
        iop.wait(timeout=10)
        left = wait_gone(family)
        assert not left, f"still running {GONE_WITHIN:.0f} s after the SIGKILL: {left}"
        assert not answers(port)
    output = (tmp_path / "iop.out").read_text(errors="replace")
    assert "running on a temporary Prefect server" in output, output


def test_make_run_killed_by_sigkill_leaves_neither_server_nor_runner(tmp_path: Path) -> None:
    port = free_port()
    env = clean_env(
        PREFECT_HOME=str(tmp_path / "prefect-home"),
        IOP_DATABASE_URL=f"sqlite:///{tmp_path / 'iop.db'}",
        IOP_PREFECT_PORT=str(port),
    )
    log = tmp_path / "run_local.out"
    with open(log, "wb") as out:
        launcher = subprocess.Popen(
            [sys.executable, str(ROOT / "deployments" / "run_local.py"), "--var", str(tmp_path)],
            cwd=tmp_path,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    with cleaned_up(launcher) as family:
        # Up: the server answers, the runner serves and the scheduler has made its runs.
        wait_for(
            "'Serving the deployments'", lambda: b"Serving the" in log.read_bytes(), 300, launcher
        )
        family += descendants(launcher.pid)
        assert any(" server start " in p.argv for p in family), family
        assert any("serve.py" in p.argv for p in family), family
        assert prefect_processes(port)

        os.kill(launcher.pid, signal.SIGKILL)
        launcher.wait(timeout=10)
        left = wait_gone(family)
        assert not left, f"still running {GONE_WITHIN:.0f} s after the SIGKILL: {left}"
        assert not prefect_processes(port)
        assert not answers(port)
