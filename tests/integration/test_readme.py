"""The README stays true where that is cheap to check.

- The steps table ("Steps and who may fire them") names every step a person or the
  scheduled flows may fire, and its "who" cell lists exactly the roles of
  `iop_workflow.domain.roles.PERMISSIONS`.
- The lifecycle example in the "Using the `iop` command" block runs: its
  `iop transition` lines, in order, on a fresh database with both example files
  imported (what `make run` prepares), each exit 0.
"""

from __future__ import annotations

import re
import shlex
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from cli_runner import run_iop

from iop_workflow.adapters.db import Database
from iop_workflow.domain.machines import ENTITY_OF, SYNC_ONLY_TRIGGERS
from iop_workflow.domain.roles import PERMISSIONS
from iop_workflow.domain.states import Role
from iop_workflow.service.importer import import_file
from iop_workflow.service.sweep import daily_sweep

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")
DEMO_REF = "OSN 2026/0142"  # examples/mjolby.yaml, in dialogue
RUNNING_REF = "OSN 2024/0087"  # active; its follow-up 2026 opens in November 2026

ROLE_WORD = re.compile(r"\b(" + "|".join(sorted((r.value for r in Role), key=len)[::-1]) + r")\b")


def section(heading: str) -> str:
    """The README text under `heading` up to the next heading of any level (a `#`
    comment inside a code block is no heading)."""
    lines = README.splitlines(keepends=True)
    start = next(i for i, line in enumerate(lines) if line.rstrip("\n") == heading) + 1
    fenced = False
    for end in range(start, len(lines)):
        if lines[end].startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{1,6} ", lines[end]):
            return "".join(lines[start:end])
    return "".join(lines[start:])


def steps_table() -> dict[str, set[str]]:
    """Each trigger of the steps table, with the roles its "who" cell names."""
    rows: dict[str, set[str]] = {}
    for line in section("### Steps and who may fire them").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 4 or cells[1].startswith(("step", "---")):
            continue
        roles = set(ROLE_WORD.findall(cells[3]))
        # The step cell names its triggers in backticks; input names in brackets do not count.
        for trigger in re.findall(r"`([a-z_]+)`", re.sub(r"\(.*?\)", "", cells[1])):
            assert trigger not in rows, f"{trigger} appears twice in the steps table"
            rows[trigger] = roles
    return rows


def test_the_steps_table_lists_every_step_with_exactly_its_roles() -> None:
    table = steps_table()
    assert set(table) == set(PERMISSIONS), (
        f"missing from the README: {sorted(set(PERMISSIONS) - set(table))}; "
        f"not a step: {sorted(set(table) - set(PERMISSIONS))}"
    )
    wrong = {
        trigger: (sorted(table[trigger]), sorted(r.value for r in roles))
        for trigger, roles in PERMISSIONS.items()
        if table[trigger] != {r.value for r in roles}
    }
    assert not wrong, f"README 'who' differs from PERMISSIONS (README, code): {wrong}"


def test_the_steps_only_the_schedule_fires_are_named() -> None:
    text = section("### Steps and who may fire them")
    assert SYNC_ONLY_TRIGGERS, "no sync-only steps any more: update this test and the README"
    for trigger in SYNC_ONLY_TRIGGERS:
        assert f"`{trigger}`" in text, f"{trigger} is not named under the steps table"
        assert trigger not in PERMISSIONS


def readme_transitions() -> list[list[str]]:
    """The `iop transition` commands of the first shell block of "Using the `iop`
    command", as argument lists (continuation lines joined, comments dropped)."""
    block = re.search(r"```sh\n(.*?)```", section("## Using the `iop` command"), re.DOTALL)
    assert block, "no sh block under 'Using the `iop` command'"
    joined = block.group(1).replace("\\\n", " ")
    commands = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words[:2] == ["iop", "transition"]:
            commands.append(words[1:])
    return commands


@pytest.fixture
def examples_db(tmp_path: Path) -> Path:
    """A fresh database with both example files imported, as `make run` leaves it."""
    path = tmp_path / "iop.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    for name in ("mjolby.yaml", "kramfors.yaml"):
        import_file(db, str(ROOT / "examples" / name), now=datetime.now(tz=UTC))
    db.dispose()
    return path


@pytest.mark.real_clock  # as on the database `make run` prepares: no day after today
def test_the_lifecycle_example_runs_in_order(examples_db: Path) -> None:
    commands = readme_transitions()
    assert len(commands) >= 6, commands
    triggers = [args[2] for args in commands]
    # The example walks the demo agreement to active, then a follow-up step.
    assert all(args[1] in (DEMO_REF, RUNNING_REF) for args in commands), commands
    assert {"submit_for_decision", "approve_decision", "sign", "activate"} <= set(triggers)
    assert triggers.index("submit_for_decision") < triggers.index("approve_decision")
    assert {ENTITY_OF[t] for t in triggers} >= {"agreement", "follow_up"}
    block = re.search(r"```sh\n(.*?)```", section("## Using the `iop` command"), re.DOTALL)
    assert block and block.group(1).index("iop sweep") < block.group(1).index(RUNNING_REF)
    for args in commands:
        if args[1] == RUNNING_REF:  # after the README's `iop sweep`, which opens it
            db = Database(f"sqlite:///{examples_db}")
            daily_sweep(db, as_of=date(2026, 12, 1), now=datetime.now(tz=UTC))
            db.dispose()
        # A past day for every step: the example works on any day from now on.
        assert "--as-of" in args, f"iop {shlex.join(args)}: no --as-of"
        run = run_iop(examples_db, *args, sandbox=False)
        assert run.code == 0, str(run)
