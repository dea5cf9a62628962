"""Benchmark: response times of the web application's pages over HTTP.

    .venv/bin/python bench/web_bench.py [--agreements N] [--requests R] [--workers W]

Fills a fresh SQLite file with N agreements (default 100 000; `bench/sweep_bench.py`'s
`build`, then both examples imported, the agreements shared out as in a national
shared service: 100 per officer, 10 officers per manager, see `fill`), serves the web
application with uvicorn in a separate process (W workers, default one per core; a fixed session
secret so every worker accepts the same cookies), and runs 8 concurrent clients (each a
thread with its own httpx.Client, signed in as an officer or a manager) making R requests
each (default 50), alternating the work list and an agreement page that person may see,
after a warm-up. Prints requests, median, 95th percentile and max per page type, the
target (median <= 150 ms; printed, never asserted) and the server's peak memory (RSS).
Any answer other than 200 is an error: exit 1 with the answer.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from iop_workflow.adapters import tables as t  # noqa: E402
from iop_workflow.adapters.db import Database  # noqa: E402

DAY = date(2028, 4, 28)  # the system's day of the served app: 2028 payouts are due
PASSWORD = "ett långt lösenord för bänken"
TARGET_MS = 150.0
EXAMPLES = ROOT / "examples"
# Who the 8 clients are: officers see their own agreements, managers and the secretary
# their municipality's.
CLIENTS = (
    "Anna Berg",
    "Anna Berg",
    "Johan Nordin",
    "Johan Nordin",
    "Karin Lund",
    "Karin Lund",
    "Eva Sjölund",
    "Per Sandberg",
)
PEOPLE = ("Anna Berg", "Johan Nordin", "Karin Lund", "Eva Sjölund", "Per Sandberg")
PER_OFFICER = 100
OFFICERS_PER_MANAGER = 10


def server_app() -> Any:
    """uvicorn --factory target: the app on IOP_DATABASE_URL with the system's day DAY."""
    from iop_workflow.bootstrap import build
    from iop_workflow.clock import Clock
    from iop_workflow.config import Settings
    from iop_workflow.entrypoints.web.app import create_app

    return create_app(build(Settings(), clock=Clock(fixed_day=DAY)))


def fill(url: str, n: int) -> None:
    """N agreements (sweep_bench's), the examples, the officers shared out, passwords.

    Shared out as in a national shared service: PER_OFFICER agreements per officer,
    OFFICERS_PER_MANAGER officers per manager, a quarter of them in Kramfors. The
    examples' officers (Anna Berg, Johan Nordin) get PER_OFFICER bench agreements each
    besides their own, and the examples' managers (Karin Lund, Eva Sjölund) manage them
    and OFFICERS_PER_MANAGER - 1 bench officers each."""
    from sweep_bench import build as build_agreements

    from iop_workflow.service.identity import set_password
    from iop_workflow.service.importer import import_file

    now = datetime(2028, 4, 28, 8, 0, tzinfo=UTC)
    db = Database(url)
    db.upgrade()
    db.mark_sandbox("bench/web_bench.py: web response times")
    build_agreements(db, n)
    for name in ("mjolby.yaml", "kramfors.yaml"):
        import_file(db, str(EXAMPLES / name), now=now)
    a, people = t.agreements, t.people
    officers = max(2 * OFFICERS_PER_MANAGER, n // PER_OFFICER)
    # Officers in blocks of OFFICERS_PER_MANAGER, each block one manager's; every fourth
    # block in Kramfors. Block 0 is Karin Lund's (with Anna Berg), block 1 Eva Sjölund's
    # (with Johan Nordin).
    examples = {0: ("Anna Berg", "Karin Lund"), 1: ("Johan Nordin", "Eva Sjölund")}

    def municipality(k: int) -> str:
        return "kramfors" if (k // OFFICERS_PER_MANAGER) % 4 == 1 else "mjolby"

    def manager(k: int) -> str:
        block = k // OFFICERS_PER_MANAGER
        return examples[block][1] if block in examples else f"Chef {block:04d}"

    def officer(k: int) -> str:
        block, rank = divmod(k, OFFICERS_PER_MANAGER)
        return examples[block][0] if block in examples and rank == 0 else f"Handläggare {k:05d}"

    named = {officer(k) for k in range(officers)}
    rows: list[dict[str, Any]] = [
        {
            "name": officer(k),
            "role": "officer",
            "municipality": municipality(k),
            "manager": manager(k),
            "email": f"handlaggare{k}@bench.example",
        }
        for k in range(officers)
        if officer(k) not in ("Anna Berg", "Johan Nordin")
    ]
    bosses = {(manager(k), municipality(k)) for k in range(officers)}
    rows += [
        {
            "name": name,
            "role": "manager",
            "municipality": key,
            "manager": None,
            "email": f"chef{i}@bench.example",
        }
        for i, (name, key) in enumerate(sorted(bosses))
        if name not in ("Karin Lund", "Eva Sjölund")
    ]
    assert len(named) == officers
    shares = [
        {
            "key": i,
            "new_officer": officer(i % officers),
            "new_municipality": municipality(i % officers),
            "new_committee": "VFN" if municipality(i % officers) == "kramfors" else "OSN",
        }
        for i in range(1, n + 1)
    ]
    with db.write() as s:
        s.execute(sa.insert(people), rows)
        s.execute(
            sa.update(a)
            .where(a.c.id == sa.bindparam("key"), a.c.officer == "Bench Officer")
            .values(
                officer=sa.bindparam("new_officer"),
                municipality=sa.bindparam("new_municipality"),
                committee=sa.bindparam("new_committee"),
            ),
            shares,
        )
    for person in PEOPLE:
        set_password(db, person, PASSWORD, now=now)
    db.dispose()


def visible_ids(url: str, person: str, limit: int = 500) -> list[int]:
    a, p = t.agreements, t.people
    db = Database(url)
    with db.read() as s:
        role, municipality = s.execute(
            sa.select(p.c.role, p.c.municipality).where(p.c.name == person)
        ).one()
        where = a.c.officer == person if role == "officer" else a.c.municipality == municipality
        ids = list(
            s.scalars(sa.select(a.c.id).where(where).order_by(sa.func.random()).limit(limit))
        )
    db.dispose()
    if not ids:
        raise SystemExit(f"{person} sees no agreement")
    return ids


class Failed(Exception):
    pass


def checked(answer: httpx.Response, what: str) -> httpx.Response:
    if answer.status_code != 200:
        raise Failed(f"{what}: HTTP {answer.status_code}\n{answer.text[:2000]}")
    return answer


def signed_in_client(base: str, person: str) -> httpx.Client:
    # A new connection per request: uvicorn's workers share one listening socket, and the
    # worker that accepts a connection serves all of its requests, so kept-alive
    # connections would leave one worker with most of the clients.
    client = httpx.Client(
        base_url=base, timeout=120, limits=httpx.Limits(max_keepalive_connections=0)
    )
    login = checked(client.get("/login"), "GET /login")
    found = re.search(r'name="csrf_token" value="([^"]+)"', login.text)
    if not found:
        raise Failed("GET /login: no csrf_token in the page")
    data = {"username": person, "password": PASSWORD, "csrf_token": found.group(1)}
    answer = client.post("/login", data=data, follow_redirects=False)
    if answer.status_code != 303:
        raise Failed(f"POST /login as {person}: HTTP {answer.status_code}\n{answer.text[:2000]}")
    return client


@dataclass
class Timings:
    by_page: dict[str, list[float]] = field(default_factory=dict)
    by_person: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, page: str, person: str, ms: float) -> None:
        with self.lock:
            self.by_page.setdefault(page, []).append(ms)
            self.by_person.setdefault((page, person), []).append(ms)


def pages_for(i: int, ids: list[int]) -> tuple[str, str]:
    """Request i of a client: (page type, path), alternating the two page types; every
    fourth work list is the due section."""
    if i % 2 == 0:
        return ("work list", "/?section=due" if i % 4 == 2 else "/")
    return ("agreement", f"/agreements/{ids[(i // 2) % len(ids)]}")


def client_run(
    client: httpx.Client,
    person: str,
    ids: list[int],
    requests: int,
    warm: int,
    timings: Timings,
) -> None:
    try:
        for i in range(warm):
            _page, path = pages_for(i + 1000, ids)
            checked(client.get(path), f"GET {path} (warm-up)")
        for i in range(requests):
            page, path = pages_for(i, ids)
            began = time.perf_counter()
            answer = client.get(path)
            took = (time.perf_counter() - began) * 1000
            checked(answer, f"GET {path}")
            timings.add(page, person, took)
    except Exception as error:  # noqa: BLE001 - reported, and the run exits 1
        with timings.lock:
            timings.errors.append(f"{type(error).__name__}: {error}")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            found += [int(c) for c in task.read_text().split()]
        except OSError:
            continue
    return found


def peak_rss_mb(pid: int) -> dict[int, float]:
    """VmHWM (peak RSS) of the process and of its children (uvicorn's workers)."""
    peaks: dict[int, float] = {}
    for each in [pid, *_children(pid)]:
        try:
            status = Path(f"/proc/{each}/status").read_text()
        except OSError:
            continue
        found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.M)
        if found:
            peaks[each] = int(found.group(1)) / 1024
    return peaks


def serve(url: str, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = dict(os.environ, IOP_DATABASE_URL=url, IOP_SESSION_SECRET="bench-" + "s" * 40)
    command = [
        sys.executable,
        "-m",
        "uvicorn",
        "--factory",
        "web_bench:server_app",
        "--app-dir",
        str(ROOT / "bench"),
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        "--no-access-log",
    ]
    with log.open("wb") as out:
        server = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise Failed(f"the server stopped (exit {server.returncode}):\n{log.read_text()}")
        try:
            if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                return server, base
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.terminate()
    raise Failed(f"the server did not answer /healthz within 120 s:\n{log.read_text()}")


def run(url: str, workers: int, requests: int, warm: int, folder: Path) -> tuple[bool, bool]:
    """One round against a server of `workers` workers: (nothing errored, a median
    missed the target)."""
    ids = {person: visible_ids(url, person) for person in PEOPLE}
    server, base = serve(url, workers, folder / f"server-{workers}.log")
    timings = Timings()
    try:
        clients = [signed_in_client(base, person) for person in CLIENTS]
        threads = [
            threading.Thread(
                target=client_run,
                args=(c, person, ids[person], requests, warm, timings),
            )
            for c, person in zip(clients, CLIENTS, strict=True)
        ]
        began = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - began
        for c in clients:
            c.close()
        peaks = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
    print(f"\n--- uvicorn, {workers} worker(s), {len(CLIENTS)} clients x {requests} requests")  # noqa: T201
    print(f"{'page':<12} {'requests':>8} {'median':>9} {'p95':>9} {'max':>9}")  # noqa: T201
    medians = {}
    for page, values in sorted(timings.by_page.items()):
        medians[page] = statistics.median(values)
        print(  # noqa: T201
            f"{page:<12} {len(values):>8} {medians[page]:>6.1f} ms "
            f"{percentile(values, 0.95):>6.1f} ms {max(values):>6.1f} ms"
        )
    print("median by person (their work list covers their own agreements, a manager's")  # noqa: T201
    print("  also those of the officers they manage):")  # noqa: T201
    for (page, person), values in sorted(timings.by_person.items()):
        print(f"  {page:<12} {person:<14} {statistics.median(values):>6.1f} ms")  # noqa: T201
    total = sum(len(v) for v in timings.by_page.values())
    print(f"throughput: {total / wall:.1f} requests/s over {wall:.1f} s")  # noqa: T201
    print(f"target: median <= {TARGET_MS:.0f} ms")  # noqa: T201
    for page, median in sorted(medians.items()):
        verdict = "holds" if median <= TARGET_MS else "does NOT hold"
        print(f"  {page}: median {median:.1f} ms -> {verdict}")  # noqa: T201
    if peaks:
        shown = ", ".join(f"pid {pid} {mb:.0f} MB" for pid, mb in peaks.items())
        print(f"server peak RSS (VmHWM): {shown}")  # noqa: T201
    log = (folder / f"server-{workers}.log").read_text(errors="replace")
    if "Traceback" in log:
        # Every answer was 200, but the server logged a failure: that is one too.
        timings.errors.append("the server logged a traceback")
    for error in timings.errors:
        print(f"ERROR {error}", file=sys.stderr)  # noqa: T201
    if timings.errors:
        print(f"server log (last 4000 chars):\n{log[-4000:]}", file=sys.stderr)  # noqa: T201
    return not timings.errors, any(m > TARGET_MS for m in medians.values())


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--agreements", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=50, help="per client")
    parser.add_argument("--warm-up", type=int, default=4, help="requests per client, untimed")
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        help="uvicorn workers (default: one per core, as it would be deployed)",
    )
    options = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        url = f"sqlite:///{folder / 'web_bench.db'}"
        began = time.perf_counter()
        fill(url, options.agreements)
        print(  # noqa: T201
            f"filled {options.agreements} agreements (+ the examples) in "
            f"{time.perf_counter() - began:.1f} s"
        )
        try:
            rounds = (options.requests, options.warm_up, folder)
            ok, _missed = run(url, options.workers or os.cpu_count() or 1, *rounds)
            return 0 if ok else 1
        except Failed as error:
            print(f"ERROR {error}", file=sys.stderr)  # noqa: T201
            return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
