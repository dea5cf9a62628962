"""A real, throwaway PostgreSQL cluster for the tests (the `pg_db` fixture in conftest.py)
and the benchmark (bench/sweep_bench.py).

Started once per test session. scripts/ensure-postgres installs the server when missing
and we are root. If it cannot start, the tests that need it fail with the reason: a
persistence layer "tested on PostgreSQL" that silently skipped PostgreSQL would be a
false claim.
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.pool import NullPool

ROOT = Path(__file__).resolve().parents[1]
ENSURE_POSTGRES = ROOT / "scripts" / "ensure-postgres"
PG_DATABASE = "iop_test"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(command: list[str], *, as_postgres: bool, cwd: Path) -> None:
    if as_postgres:
        command = (
            ["runuser", "-u", "postgres", "--", *command]
            if shutil.which("runuser")
            else ["su", "postgres", "-c", shlex.join(command)]
        )
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(
            f"{shlex.join(command)} failed ({result.returncode}):\n{result.stdout}{result.stderr}"
        )


class Unavailable(RuntimeError):
    """PostgreSQL could not be installed or started here; the message says why."""


@contextmanager
def cluster() -> Iterator[str]:
    """URL of an empty database on a PostgreSQL cluster of our own, on a loopback port."""
    found = subprocess.run([str(ENSURE_POSTGRES)], capture_output=True, text=True)
    if found.returncode != 0:
        said = (found.stderr or found.stdout).strip() or "no output"
        raise Unavailable(
            f"PostgreSQL is not available ({ENSURE_POSTGRES} exited {found.returncode}): {said}"
        )
    bindir = Path(found.stdout.strip().splitlines()[-1])
    # PostgreSQL refuses to run as root: as root the cluster belongs to the postgres user,
    # in a folder of its own under /tmp (pytest's tmp folders are private to root).
    as_postgres = os.geteuid() == 0
    base = Path(tempfile.mkdtemp(prefix="iop-pg-"))
    if as_postgres:
        shutil.chown(base, "postgres", "postgres")
    data, log, port = base / "data", base / "server.log", _free_port()
    pg_ctl = [str(bindir / "pg_ctl"), "-D", str(data)]
    started = False
    try:
        _run(
            [str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust"]
            + ["-E", "UTF8", "--locale=C", "--no-sync"],
            as_postgres=as_postgres,
            cwd=base,
        )
        # -F: no fsync; the cluster is thrown away. The socket goes into our own folder.
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k {base} -F"
        _run(
            [*pg_ctl, "-l", str(log), "-w", "-t", "60", "-o", options, "start"],
            as_postgres=as_postgres,
            cwd=base,
        )
        started = True
        admin = sa.create_engine(
            f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres",
            isolation_level="AUTOCOMMIT",
            poolclass=NullPool,
        )
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE DATABASE {PG_DATABASE}")
        admin.dispose()
    except Exception as error:
        server_log = log.read_text(errors="replace") if log.exists() else "(no server log)"
        if started:
            _run([*pg_ctl, "-m", "immediate", "stop"], as_postgres=as_postgres, cwd=base)
        shutil.rmtree(base, ignore_errors=True)
        raise Unavailable(f"could not start PostgreSQL: {error}\n{server_log}") from None
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/{PG_DATABASE}"
    finally:
        _run([*pg_ctl, "-m", "fast", "-w", "stop"], as_postgres=as_postgres, cwd=base)
        shutil.rmtree(base, ignore_errors=True)


def empty_postgres(url: str) -> None:
    # A fresh schema per test: the previous test's Database is disposed, so nothing holds
    # a lock, and dropping `public` also drops the trigger function of the migration.
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    with engine.connect() as conn:
        conn.exec_driver_sql("DROP SCHEMA IF EXISTS public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    engine.dispose()
