"""The notices of blocked payouts and the warnings ahead of them are written by the
database (payout_notices.py); they say exactly what the Python notice of the same
payout says (built as the steps build it), on both databases."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from payout_notice_reference import blocked_notice, closed_notice

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.domain.reminders import PAYOUT_BLOCKED, PAYOUT_WARNING, payout_warning
from iop_workflow.domain.states import PayoutState
from iop_workflow.policies import load_policy
from iop_workflow.service import payouts as pay
from iop_workflow.service.importer import import_file
from iop_workflow.service.outbox import Notice

ROOT = Path(__file__).resolve().parents[2]
PAYOUT_DAY = date(2027, 4, 30)  # Kramfors: the 2026 report is due that day, so both wait
NOW = datetime(2027, 4, 30, 6, tzinfo=UTC)


def as_stored(notice: Notice) -> tuple[Any, ...]:
    facts = json.loads(json.dumps(notice.facts, default=date.isoformat))
    stage = notice.stage
    return (notice.agreement_id, notice.subject_date, stage.stage, list(stage.recipients), facts)


def stored(db: Database, kind: str) -> list[tuple[Any, ...]]:
    """The stored notices of `kind`, as `as_stored` gives a Python notice, in one order."""
    n = t.notifications
    query = sa.select(
        n.c.agreement_id, n.c.subject_date, n.c.stage, n.c.recipients, n.c.facts
    ).where(n.c.kind == kind)
    with db.read() as session:
        return sorted((tuple(row) for row in session.execute(query)), key=repr)


def test_the_database_writes_the_notice_the_python_notice_would(db: Database) -> None:
    import_file(db, str(ROOT / "examples" / "kramfors.yaml"), now=NOW)
    with db.read() as session:
        due = pay.gate_rows(session, due_from=None, due_to=PAYOUT_DAY)
    expected = [
        as_stored(blocked_notice(row))
        for row in due
        if row.block is not None and row.state is PayoutState.PLANNED
    ]

    result = pay.payout_run(db, as_of=PAYOUT_DAY, now=NOW)

    blocked = stored(db, PAYOUT_BLOCKED)
    assert len(expected) >= 2  # two parties, each with its own instalment
    assert blocked == sorted(expected, key=repr)
    assert {f["amount_ore"] for *_, f in blocked} == {r.amount_ore for r in due}
    assert result.notifications >= len(expected)
    # A second run finds them stored and writes none again.
    assert pay.payout_run(db, as_of=PAYOUT_DAY, now=NOW).notifications == 0
    assert stored(db, PAYOUT_BLOCKED) == blocked


def test_the_database_writes_the_warnings_the_python_notices_would(db: Database) -> None:
    import_file(db, str(ROOT / "examples" / "kramfors.yaml"), now=NOW)
    day = PAYOUT_DAY - timedelta(days=10)  # Kramfors warns 14 days ahead
    with db.read() as session:
        soon = pay.gate_rows(session, due_from=day + timedelta(days=1), due_to=PAYOUT_DAY)
    expected = []
    for row in soon:
        stage = payout_warning(row.due_on, day, load_policy(row.municipality))
        if row.block is not None and stage is not None:
            expected.append(as_stored(closed_notice(row, stage)))

    result = pay.payout_run(db, as_of=day, now=NOW)

    assert len(expected) >= 2  # two parties, each warned of its own instalment
    assert stored(db, PAYOUT_WARNING) == sorted(expected, key=repr)
    assert result.notifications == len(expected)
    assert pay.payout_run(db, as_of=day, now=NOW).notifications == 0
