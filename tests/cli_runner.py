"""Run the `iop` console script as a user would, against one SQLite database file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def iop_command() -> list[str]:
    """The installed console script `iop`; the module itself when it is not installed."""
    script = Path(sys.executable).with_name("iop")
    module = [sys.executable, "-m", "iop_workflow.entrypoints.cli"]
    return [str(script)] if script.exists() else module


@dataclass(frozen=True)
class Run:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return (
            f"iop {' '.join(self.args)} → exit {self.code}\nstdout: {self.out}\nstderr: {self.err}"
        )


def run_iop(
    db_file: Path,
    *args: str,
    env: Mapping[str, str] | None = None,
    url: str | None = None,
    timeout: float = 180,
    sandbox: bool = True,
) -> Run:
    """`iop ARGS` in the database file's folder, with only our IOP_DATABASE_URL set: the
    SQLite file `db_file`, or `url` (any backend) when given.

    The database is a sandbox once it is migrated (tests act on days of years to come,
    iop_workflow/clock.py), unless `sandbox=False`: a test of the real system day."""
    environment = {k: v for k, v in (env or os.environ).items() if not k.startswith("IOP_")}
    environment["IOP_DATABASE_URL"] = url or f"sqlite:///{db_file}"
    if sandbox:
        _sandbox(environment["IOP_DATABASE_URL"])
    done = subprocess.run(
        [*iop_command(), *args],
        cwd=db_file.parent,
        env=environment,
        capture_output=True,
        encoding="utf-8",
        timeout=timeout,
    )
    run = Run(tuple(args), done.returncode, done.stdout, done.stderr)
    # Whatever the outcome, a user never sees a Python traceback.
    assert "Traceback" not in run.err, str(run)
    return run


_SANDBOXES: set[str] = set()


def _sandbox(url: str) -> None:
    """Mark a migrated database a sandbox, once per URL (a new one is migrated by the
    first command that needs it, so later calls try again)."""
    if url in _SANDBOXES:
        return
    import sqlalchemy as sa

    from iop_workflow.adapters.db import Database

    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).exists():
        return
    db = Database(url)
    try:
        if sa.inspect(db.engine).has_table("installation"):
            db.mark_sandbox("tests: days of years to come")
            _SANDBOXES.add(url)
    finally:
        db.dispose()
