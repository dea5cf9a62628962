"""Child processes that never outlive the process that started them.

`make run` (deployments/run_local.py) starts the Prefect server and the runner, and a
flow command (`iop sweep`, `iop payouts run`, `iop report`) without PREFECT_API_URL
starts a temporary Prefect server. Prefect's own temporary server is a plain child
process: when its parent is killed (SIGKILL, the OOM killer) it keeps running,
reparented to PID 1. Ours get a signal from the kernel when their parent dies (Linux
PR_SET_PDEATHSIG; SIGTERM unless told otherwise), and run in a session of their own,
so that a Ctrl-C in the terminal reaches only the parent, which then stops them in
order.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from typing import IO, Any

from ..domain.errors import IopError

PR_SET_PDEATHSIG = 1  # <linux/prctl.h>

STARTUP_SECONDS = 120.0  # a first start migrates Prefect's SQLite database
STOP_SECONDS = 30.0


def die_with_parent(death_signal: int = signal.SIGTERM) -> Callable[[], None]:
    """A `preexec_fn` for `subprocess.Popen`: the child gets its own session, and
    `death_signal` when the process calling Popen dies, even by SIGKILL (Linux;
    elsewhere only the session).

    The death signal follows the *thread* that forks: call Popen from a thread that
    lives as long as the child should (the main thread). Everything the child runs
    before exec is prepared here, in the parent (no import, no allocation after fork).
    If the parent died before the child set its death signal, the child exits at once.
    """
    parent = os.getpid()
    prctl: Any = None
    if sys.platform == "linux":
        prctl = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True).prctl
    number = int(death_signal)

    def before_exec() -> None:
        os.setsid()
        if prctl is not None:
            prctl(PR_SET_PDEATHSIG, number)
            if os.getppid() != parent:  # orphaned already: nobody will stop us
                os._exit(1)

    return before_exec


def stop(process: subprocess.Popen[Any], timeout: float = STOP_SECONDS) -> None:
    """Ask a child to stop (SIGINT, as Ctrl-C would), kill it after `timeout` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def temporary_app() -> Any:
    """The uvicorn factory of the temporary server: Prefect's API as Prefect runs it for
    its own temporary server (no dashboard; only the services that record task runs and
    events)."""
    from prefect.server.api.server import create_app

    return create_app(ephemeral=True, final=True)


def _healthy(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


def _tail(log: IO[bytes], lines: int = 20) -> str:
    log.seek(0)
    return "\n".join(log.read().decode(errors="replace").splitlines()[-lines:])


def _start(port: int, log: IO[bytes]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", f"{__name__}:temporary_app"]
        + ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
        + ["--lifespan", "on"],
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        preexec_fn=die_with_parent(),  # noqa: PLW1509 (called before the flow starts threads)
    )


def _wait_healthy(process: subprocess.Popen[bytes], api_url: str, timeout: float) -> bool:
    """True once the server answers; False when it exited first (e.g. its port was taken
    in the meantime)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if _healthy(api_url):
            return True
        time.sleep(0.2)
    raise TimeoutError(f"no answer from {api_url}/health within {timeout:.0f} s")


@contextlib.contextmanager
def temporary_server(timeout: float = STARTUP_SECONDS) -> Iterator[str]:
    """A Prefect API server for the life of the block, on a free loopback port, in a child
    that dies with this process; yields its API URL. It uses the current PREFECT_HOME
    (its database and profile), and its output goes to a temporary file, shown only
    when it fails to start."""
    with tempfile.TemporaryFile() as log:
        for _attempt in range(3):
            port = free_port()
            api_url = f"http://127.0.0.1:{port}/api"
            process = _start(port, log)
            try:
                up = _wait_healthy(process, api_url, timeout)
            except BaseException as exc:
                stop(process)
                if isinstance(exc, TimeoutError):
                    raise IopError(
                        f"the temporary Prefect server did not start: {exc}\n{_tail(log)}"
                    ) from None
                raise
            if up:
                break
        else:
            raise IopError(
                "the temporary Prefect server exited at start "
                f"(exit {process.returncode}):\n{_tail(log)}"
            )
        try:
            yield api_url
        finally:
            stop(process)


@contextlib.contextmanager
def prefect_api_or_temporary_server() -> Iterator[str | None]:
    """The block talks to the Prefect server of PREFECT_API_URL (or the profile's); when
    none is configured, to a temporary server of its own (`temporary_server`), which
    yields its URL and is stopped at the end, once the logs and events this process
    still holds have been sent to it. Yields the temporary server's URL, or None."""
    import prefect.context
    from prefect.settings import PREFECT_API_URL

    if PREFECT_API_URL.value():
        yield None
        return
    with temporary_server() as api_url:
        before = os.environ.get("PREFECT_API_URL")
        os.environ["PREFECT_API_URL"] = api_url
        # Every thread of this process, not only this one's context, must see the URL:
        # one that read the settings of import time would start Prefect's own server.
        prefect.context.refresh_global_settings_context()
        try:
            yield api_url
        finally:
            _drain_prefect_workers()
            if before is None:
                os.environ.pop("PREFECT_API_URL", None)
            else:
                os.environ["PREFECT_API_URL"] = before
            prefect.context.refresh_global_settings_context()


def _drain_prefect_workers(timeout: float = 30) -> None:
    """Send the logs and events still queued here while the server is up (otherwise they
    would be retried against a stopped server at exit)."""
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for worker in (APILogWorker, EventsWorker):
        with contextlib.suppress(RuntimeError):
            worker.drain_all(timeout=timeout)
