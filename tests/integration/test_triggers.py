"""`iop triggers REF --actor P` agrees with `iop transition`, for every example agreement
and every person of the example files.

For each agreement of examples/mjolby.yaml and examples/kramfors.yaml, each person of
both files, on one day, `iop triggers --actor --json` lists what the person may fire
and what is blocked and why. Then:

- every step listed as allowed is fired with the real console script (`iop transition`
  as a subprocess, on a fresh copy of the database each, so the steps do not affect
  each other), with the input the listing says it needs: it is not refused, it fires;
- every step listed as blocked is fired too and refused (exit 3) with the very message
  the listing gave. There are hundreds of these; a refused step changes nothing, so they
  all run in this process (the same Typer command, `handles_errors` and exit codes) on one
  database, which keeps the test to a minute or so.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import yaml
from cli_runner import Run, run_iop
from typer.testing import CliRunner

from iop_workflow.adapters.db import Database
from iop_workflow.entrypoints.cli import main as cli_module

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE_FILES = [ROOT / "examples" / "mjolby.yaml", ROOT / "examples" / "kramfors.yaml"]
# Guards depend on the day. In January 2028 OSN 2024/0087's period is over (it may be
# ended; a tilläggsavtal must move its end), both running agreements are in their final
# year (renewal), payouts are held back by the gate or not yet due, follow-ups are open
# or not yet, and a Kramfors initiative waits for the föreningsregister.
DAY = "2028-01-10"
EXIT_REFUSED = 3


def _examples() -> list[dict[str, Any]]:
    return [yaml.safe_load(path.read_text(encoding="utf-8")) for path in EXAMPLE_FILES]


AGREEMENTS = [a["diarienummer"] for data in _examples() for a in data["agreements"]]
PEOPLE = [p["name"] for data in _examples() for p in data["people"]]


def copy_database(source: Path, target: Path) -> None:
    # The backup API copies a consistent image, whatever is still in the WAL file.
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


def transition_args(ref: str, step: dict[str, Any], actor: str, day: str) -> list[str]:
    args = ["transition", ref, step["trigger"], "--actor", actor, "--as-of", day]
    target = dict([step["target"].split("=", 1)]) if step["target"] else {}
    for key, value in {**target, **step["checked_with"]}.items():
        args += ["--set", f"{key}={value}"]
    return args


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database at head with both example files imported, by the console script."""
    db_file = tmp_path_factory.mktemp("prepared") / "iop.db"
    for args in (["db", "upgrade"], *(["import", str(path)] for path in EXAMPLE_FILES)):
        run = run_iop(db_file, *args)
        assert run.code == 0, str(run)
    return db_file


class InProcess:
    """`iop` run in this process, on one database opened once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.runner = CliRunner()

    def run(self, *args: str) -> Run:
        result = self.runner.invoke(cli_module.app, list(args))
        assert result.exception is None or isinstance(result.exception, SystemExit), result
        return Run(tuple(args), result.exit_code, result.stdout, result.stderr)

    def json(self, *args: str) -> Any:
        run = self.run(*args, "--json")
        assert run.code == 0, str(run)
        return run.json()


@pytest.fixture
def in_process(
    prepared: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InProcess]:
    copy_database(prepared, tmp_path / "shared.db")
    db = Database(f"sqlite:///{tmp_path / 'shared.db'}")
    monkeypatch.setattr(cli_module, "ready_database", lambda: db)
    yield InProcess(db)
    db.dispose()


def test_what_triggers_allows_a_person_fires_and_what_it_blocks_is_refused_with_its_reason(
    prepared: Path, in_process: InProcess, tmp_path: Path
) -> None:
    day = DAY
    to_fire: list[tuple[str, str, dict[str, Any]]] = []
    seen: Counter[str] = Counter()
    for ref in AGREEMENTS:
        for person in PEOPLE:
            view = in_process.json("triggers", ref, "--actor", person, "--as-of", day)
            assert view["agreement"]["diarienummer"] == ref
            assert view["actor"]["name"] == person
            assert view["as_of"] == day
            assert view["unchecked"] == []
            assert [s["status"] for s in view["steps"]].count("allowed") == len(view["allowed"])
            assert len(view["allowed"]) + len(view["blocked"]) == len(view["steps"])
            for step in view["blocked"]:
                run = in_process.run(*transition_args(ref, step, person, day))
                assert run.code == EXIT_REFUSED, str(run)
                assert run.err.strip() == f"error: refused: {step['reason']}", str(run)
                seen["blocked by a guard" if "' refused: " in step["reason"] else "blocked"] += 1
            for step in view["allowed"]:
                assert sorted(step["needs"]) == sorted(step["checked_with"]), step
                assert step["reason"] is None
                to_fire.append((ref, person, step))
                seen["allowed with input" if step["needs"] else "allowed"] += 1

    def fire(job: tuple[int, tuple[str, str, dict[str, Any]]]) -> Run:
        number, (ref, person, step) = job
        db_file = tmp_path / f"step-{number}" / "iop.db"
        db_file.parent.mkdir()
        copy_database(prepared, db_file)
        return run_iop(db_file, *transition_args(ref, step, person, day))

    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(fire, enumerate(to_fire)))
    for run in runs:
        assert run.code != EXIT_REFUSED, f"listed as allowed, then refused:\n{run}"
        assert run.code == 0, str(run)
    # The walk met every kind of verdict, not only role refusals.
    assert {"allowed", "allowed with input", "blocked", "blocked by a guard"} <= set(seen), seen


# --- what a person reads ----------------------------------------------------------------


@pytest.fixture
def db_file(prepared: Path, tmp_path: Path) -> Path:
    copy_database(prepared, tmp_path / "iop.db")
    return tmp_path / "iop.db"


def sections(text: str) -> tuple[list[str], list[str]]:
    """The lines of the allowed table and of the blocked table."""
    lines = text.splitlines()
    cut = next(i for i, line in enumerate(lines) if line.startswith("blocked now"))
    return lines[1:cut], lines[cut + 1 :]


def test_triggers_for_a_person_prints_what_they_may_fire_and_what_is_blocked_and_why(
    db_file: Path,
) -> None:
    payouts = {
        p["due"]: p["id"]
        for p in run_iop(db_file, "show", "OSN 2024/0087", "--json").json()["payouts"]
    }
    run = run_iop(
        db_file, "triggers", "OSN 2024/0087", "--actor", "Anna Berg", "--as-of", "2027-05-03"
    )

    assert run.code == 0, str(run)
    assert run.out.splitlines()[0] == (
        "OSN 2024/0087 is active; Anna Berg (officer) may fire now (2027-05-03):"
    )
    allowed, blocked = sections(run.out)
    assert allowed[0].split() == ["TRIGGER", "ON", "NEEDS"]
    assert ["terminate", "agreement", "date,", "reason"] in [line.split() for line in allowed]
    assert ["start_renewal", "agreement"] in [line.split() for line in allowed]
    assert blocked[0].split() == ["TRIGGER", "ON", "REASON"]
    gated = f"payout={payouts['2027-04-30']}"
    assert any(
        line.split()[:2] == ["release_payout", gated]
        and line.endswith(
            "step 'release_payout' refused: follow-up 2026 is planned (report due 2027-03-31); "
            "payouts in 2027 are released when it is approved"
        )
        for line in blocked
    ), run.out
    assert any(
        line.split()[0] == "amend"
        and line.endswith("Anna Berg (officer) may not fire 'amend'; allowed roles: secretary")
        for line in blocked
    ), run.out
    # Exactly what `iop transition` says when the step is tried.
    refused = run_iop(
        db_file, "transition", "OSN 2024/0087", "release_payout", "--actor", "Anna Berg",
        "--as-of", "2027-05-03", "--set", gated,
    )  # fmt: skip
    assert refused.code == EXIT_REFUSED
    assert "follow-up 2026 is planned (report due 2027-03-31)" in refused.err


def test_triggers_without_a_person_keeps_the_roles_and_adds_what_is_blocked_for_everyone(
    db_file: Path,
) -> None:
    run = run_iop(db_file, "triggers", "OSN 2024/0087", "--as-of", "2027-05-03")

    assert run.code == 0, str(run)
    assert run.out.startswith("OSN 2024/0087 is active; steps allowed now (2027-05-03):")
    allowed, blocked = sections(run.out)
    assert allowed[0].split() == ["TRIGGER", "ON", "WHO", "NEEDS"]
    assert ["amend", "agreement", "secretary", "decided_on,", "paragraph,", "description"] in [
        line.split() for line in allowed
    ]
    assert any(
        line.split()[:3] == ["end", "agreement", "officer"]
        and line.endswith("step 'end' refused: the period runs until 2027-12-31")
        for line in blocked
    ), run.out

    view = run_iop(db_file, "triggers", "OSN 2024/0087", "--as-of", "2027-05-03", "--json").json()
    assert view["actor"] is None
    for step in view["steps"]:
        assert {"trigger", "entity", "target", "roles", "status", "reason", "needs"} <= set(step)
    end = next(s for s in view["blocked"] if s["trigger"] == "end")
    assert (end["target"], end["roles"]) == ("", ["officer"])
    assert end["reason"] == "step 'end' refused: the period runs until 2027-12-31"


def test_triggers_for_someone_outside_the_agreement_says_why_they_may_fire_nothing(
    db_file: Path,
) -> None:
    run = run_iop(db_file, "triggers", "OSN 2024/0087", "--actor", "Johan Nordin")
    assert run.code == 0, str(run)
    assert run.out.strip() == (
        "OSN 2024/0087 is active; Johan Nordin may fire nothing on it: "
        "Johan Nordin works for kramfors, not for mjolby"
    )

    unknown = run_iop(db_file, "triggers", "OSN 2024/0087", "--actor", "Nils Okänd")
    assert unknown.code == 4 and "Nils Okänd" in unknown.err
    system = run_iop(db_file, "triggers", "OSN 2024/0087", "--actor", "system")
    assert system.code == EXIT_REFUSED and "act as a person" in system.err
