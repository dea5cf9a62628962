"""The cost of the sweep and the payout run grows with the work due, not with the
portfolio (issue 15): every query they send reads the due tables through an index that
matches its whole condition, the state and the date, as SQLite plans it. A query that
falls back to a full scan, or to the index on the state alone (which walks every
planned follow-up or every active agreement on a day when nothing is due), fails."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from iop_workflow.adapters.db import Database
from iop_workflow.service.gate_keys import KEYS
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.sweep import daily_sweep

ROOT = Path(__file__).resolve().parents[2]
DUE_TABLES = ("agreements", "follow_ups", "repayment_claims", "payouts")
# A SEARCH through an index whose only constraint is the state: the old plan.
STATE_ONLY = re.compile(r"\((?:state=\?|state IN \(.*\))\)$")


def now() -> datetime:
    return datetime.now(tz=UTC)


@pytest.fixture
def examples(tmp_path: Path) -> Iterator[Database]:
    db = Database(f"sqlite:///{tmp_path / 'plans.db'}")
    db.upgrade()
    for name in ("mjolby", "kramfors"):
        import_file(db, str(ROOT / "examples" / f"{name}.yaml"), now=now())
    yield db
    db.dispose()


@contextmanager
def statements(db: Database) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def grab(_c: Any, _cur: Any, statement: str, parameters: Any, _ctx: Any, many: bool) -> None:
        verb = statement.lstrip().split()[0].upper()
        # INSERT … SELECT too: the payout run reads the due payouts into its key table.
        reads = verb in ("SELECT", "UPDATE", "WITH") or (verb == "INSERT" and "SELECT" in statement)
        if not many and reads:
            seen.append((statement, parameters))

    sa.event.listen(db.engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", grab)


def problems(db: Database, sent: list[tuple[str, Any]]) -> list[str]:
    """Each plan step on a due table that is not an index search on its whole condition."""
    found = []
    with db.engine.connect() as connection:
        # The payout run's key table lives only in its transaction: here again, empty.
        KEYS.create(connection)
        for statement, parameters in sent:
            plan = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            for step in (row[3] for row in plan):
                words = step.split()
                if len(words) < 2 or words[1] not in DUE_TABLES:
                    continue
                if words[0] == "SCAN" or STATE_ONLY.search(step):
                    found.append(f"{step}  ←  {' '.join(statement.split())[:120]}")
        connection.rollback()
    return found


def _runs(db: Database, day: date) -> list[tuple[str, Any]]:
    with statements(db) as sent:
        daily_sweep(db, as_of=day, now=now())
        payout_run(db, as_of=day, now=now())
    return sent


@pytest.mark.parametrize("day", [date(2027, 2, 10), date(2027, 4, 30), date(2028, 1, 2)])
def test_the_sweep_and_payout_run_read_only_what_is_due(examples: Database, day: date) -> None:
    sent = _runs(examples, day)
    touched = {t for statement, _ in sent for t in DUE_TABLES if t in statement}
    assert touched == set(DUE_TABLES)  # the check saw every due table
    assert problems(examples, sent) == []


def test_the_check_fails_when_the_index_that_matches_a_condition_is_missing(
    examples: Database,
) -> None:
    with examples.engine.begin() as conn:
        conn.execute(sa.text("DROP INDEX ix_agreements_state_end"))
        conn.execute(sa.text("DROP INDEX ix_follow_ups_state_opens_on"))
    found = problems(examples, _runs(examples, date(2027, 2, 10)))
    assert any("agreements" in p and '"end" <=' in p for p in found), found
    assert any("follow_ups" in p and "opens_on <=" in p for p in found), found
    with examples.engine.begin() as conn:  # put back: the migrated schema is checked after
        conn.execute(sa.text('CREATE INDEX ix_agreements_state_end ON agreements (state, "end")'))
        conn.execute(
            sa.text("CREATE INDEX ix_follow_ups_state_opens_on ON follow_ups (state, opens_on)")
        )
