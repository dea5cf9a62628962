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
    return [str(script)] if script.exists() else [sys.executable, "-m", "iop_workflow.cli"]


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
) -> Run:
    """`iop ARGS` in the database file's folder, with only our IOP_DATABASE_URL set: the
    SQLite file `db_file`, or `url` (any backend) when given."""
    environment = {k: v for k, v in (env or os.environ).items() if not k.startswith("IOP_")}
    environment["IOP_DATABASE_URL"] = url or f"sqlite:///{db_file}"
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
