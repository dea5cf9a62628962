"""Why a follow-up or payout was cancelled is stored, and decides what comes back.

Through the service (`transition`) on SQLite and PostgreSQL, with examples/mjolby.yaml
imported: the running agreement OSN 2024/0087 (2025-01-01 – 2027-12-31, payouts
released through 2026) is lengthened to 2028, an officer cancels one 2028 payout by
hand, a tilläggsavtal cuts 2028 and a later one brings it back. The hand-cancelled
payout stays cancelled; what the cut cancelled is planned again.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database, Repository
from iop_workflow.domain.states import CancelCause
from iop_workflow.service.importer import import_file
from iop_workflow.service.steps import StepResult, transition

ROOT = Path(__file__).resolve().parents[2]
REF = "OSN 2024/0087"
ANNA, PER = "Anna Berg", "Per Sandberg"  # officer, nämnd secretary


def step(db: Database, trigger: str, actor: str, day: str, **data: Any) -> StepResult:
    return transition(
        db,
        REF,
        trigger,
        actor_name=actor,
        data=data,
        today=date.fromisoformat(day),
        now=datetime.now(tz=UTC),
    )


def amend(db: Database, day: str, end: str, **support: str) -> StepResult:
    data = {"decided_on": day, "paragraph": f"§ {day[5:7]}", "description": "Tilläggsavtal"}
    return step(db, "amend", PER, day, end=end, **data, **support)


def rows_of_2028(db: Database) -> tuple[Any, list[Any]]:
    """(state, cancel_cause) of the 2028 follow-up, and (id, state, cancel_cause) of
    each 2028 payout, read with plain SQL: the values as stored."""
    f, p = t.follow_ups, t.payouts
    with db.engine.connect() as conn:
        follow_up = conn.execute(
            sa.select(f.c.state, f.c.cancel_cause).where(f.c.year == 2028)
        ).one()
        payouts = conn.execute(
            sa.select(p.c.id, p.c.state, p.c.cancel_cause)
            .where(p.c.covers_from >= date(2028, 1, 1))
            .order_by(p.c.covers_from)
        ).all()
    return tuple(follow_up), [tuple(row) for row in payouts]


def prepared(db: Database) -> tuple[int, int]:
    """The agreement lengthened to 2028; returns the ids of its two 2028 payouts."""
    import_file(db, str(ROOT / "examples" / "mjolby.yaml"), now=datetime.now(tz=UTC))
    amend(db, "2027-02-01", "2028-12-31", **{"support.2028": "470 000"})
    (_, payouts) = rows_of_2028(db)
    assert [(state, cause) for _, state, cause in payouts] == [("planned", None)] * 2
    return payouts[0][0], payouts[1][0]


def test_a_payout_cancelled_by_hand_stays_cancelled_when_its_cut_year_comes_back(
    db: Database,
) -> None:
    first, by_hand = prepared(db)
    step(db, "cancel_payout", ANNA, "2027-02-02", payout=by_hand)
    amend(db, "2027-03-01", "2027-12-31")
    assert rows_of_2028(db) == (
        ("cancelled", "period"),
        [(first, "cancelled", "period"), (by_hand, "cancelled", "manual")],
    )

    result = amend(db, "2027-04-01", "2028-12-31", **{"support.2028": "480 000"})

    assert rows_of_2028(db) == (
        ("planned", None),
        [(first, "planned", None), (by_hand, "cancelled", "manual")],
    )
    back = [(c.entity, c.entity_key) for c in result.changes if c.trigger.startswith("rein")]
    assert back == [("follow_up", "2028"), ("payout", str(first))]
    # The stored value reads back into the domain as the enum member.
    with db.read() as session:
        agreement = Repository(session).agreement(REF)
    causes = {p.id: p.cancel_cause for p in agreement.payouts}
    assert causes[by_hand] is CancelCause.MANUAL and causes[first] is None


def test_a_termination_records_its_cause_and_nothing_it_cancelled_comes_back(
    db: Database,
) -> None:
    first, second = prepared(db)
    # Recorded the day it takes effect: a termination is never dated after its step.
    step(db, "terminate", ANNA, "2027-05-31", date="2027-05-31", reason="Verksamheten upphör")
    (follow_up, payouts) = rows_of_2028(db)
    assert follow_up == ("cancelled", "termination")
    assert payouts == [(first, "cancelled", "termination"), (second, "cancelled", "termination")]
    with db.read() as session:
        agreement = Repository(session).agreement(REF)
    assert {f.year: f.cancel_cause for f in agreement.follow_ups if f.year >= 2028} == {
        2028: CancelCause.TERMINATION
    }
