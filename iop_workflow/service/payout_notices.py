"""Notices about payouts the gate keeps closed (blocked now, or warned of ahead),
written by the database.

A blocked day blocks 200,000 payouts. Their notices are built by one
`INSERT … SELECT` per block and part from the payouts' own rows: Python hands over the
ids and the block they share, and never holds a notice of its own. The facts are those
the steps' Python notices keep (tests/payout_notice_reference.py);
tests/integration/test_setwise_equals_steps.py and test_payout_notices.py prove the two
alike.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..domain import reminders as r
from ..domain.gate import GateBlock
from ..domain.states import NotificationState
from .outbox import KEY
from .setwise import among

BLOCKED_STAGE = "blocked"
BLOCKED_TO = (r.OFFICER, r.ORGANISATION)


def party_stage(stage: str) -> str:
    """The start of a party's own stage: with several parties each has its own
    instalment on the same day, so each gets its own notice, the organisation's id after
    this."""
    return f"{stage}_party_"


def notify_blocked(
    session: Session, payout_ids: Sequence[int], block: GateBlock, *, as_of: date, now: datetime
) -> int:
    """Record the notice of each payout `payout_ids`, all blocked now by `block`: to the
    officer and the organisation, one per party and due day, once. How many were new."""
    return notify_closed(
        session,
        among(session, t.payouts.c.id, payout_ids),
        block,
        kind=r.PAYOUT_BLOCKED,
        stage=BLOCKED_STAGE,
        recipients=BLOCKED_TO,
        as_of=as_of,
        now=now,
    )


def notify_closed(
    session: Session,
    picked: sa.ColumnElement[bool],
    block: GateBlock,
    *,
    kind: str,
    stage: str,
    recipients: Sequence[str],
    as_of: date,
    now: datetime,
) -> int:
    """Record a notice of `kind` at `stage` about each payout `picked` (a condition on
    t.payouts), all closed by `block`, to `recipients`: one per party and due day, once.
    How many were new."""
    p, a, n = t.payouts, t.agreements, t.notifications
    postgres = session.get_bind().dialect.name == "postgresql"

    def name(key: str) -> sa.ColumnElement[Any]:
        # A literal, not a parameter: PostgreSQL cannot type a parameter of a variadic
        # function such as json_build_object.
        return sa.literal_column(f"'{key}'")

    block_facts = json.dumps(block.facts())
    nested = sa.cast(sa.literal(block_facts), sa.JSON) if postgres else sa.func.json(block_facts)
    build = sa.func.json_build_object if postgres else sa.func.json_object
    facts = build(
        name("organisation_id"),
        p.c.organisation_id,
        name("diarienummer"),
        a.c.diarienummer,
        name("due"),
        p.c.due_on,
        name("amount_ore"),
        p.c.amount_ore,
        name("reason"),
        sa.cast(sa.literal(block.reason), sa.Text),
        name("block"),
        nested,
        name("payout_id"),
        p.c.id,
    )
    per_party = name(party_stage(stage)) + sa.cast(p.c.organisation_id, sa.String)
    rows = (
        sa.select(
            p.c.agreement_id,
            sa.literal(kind, n.c.kind.type),
            p.c.due_on,
            per_party,
            sa.literal(list(recipients), n.c.recipients.type),
            facts,
            sa.literal(NotificationState.PENDING, n.c.state.type),
            sa.literal(as_of, n.c.created_on.type),
            sa.literal(now, n.c.created_at.type),
            sa.literal(0, n.c.attempts.type),
        )
        .join(a, a.c.id == p.c.agreement_id)
        .where(picked)
        # Of two payouts with one key (a party's two instalments on one day), the notice
        # of the later one is kept, as the outbox keeps the last.
        .order_by(p.c.id.desc())
    )
    columns = ["agreement_id", "kind", "subject_date", "stage", "recipients", "facts"]
    columns += ["state", "created_on", "created_at", "attempts"]
    insert = postgresql.insert(n) if postgres else sqlite.insert(n)
    stmt = insert.from_select(columns, rows).on_conflict_do_nothing(index_elements=list(KEY))
    # An INSERT's row count is kept only when asked for (psycopg's cursor is closed by then).
    stmt = stmt.execution_options(preserve_rowcount=True)
    done = cast(sa.CursorResult[Any], session.execute(stmt))
    return int(done.rowcount)
