"""The facts the payout gate reads, in SQL, and the run's table of answer keys.

A payout run does not read its open payouts into Python. It writes each one's answer
key (rule_sql.answer_key: the agreement, or the gate year and that year's follow-up) to
a table of its transaction, groups the table by key, and asks `gate.decide` once per
key, of the key's first payout (`Group.first`). Each key's payouts are then released or
blocked by one UPDATE that finds them by id in the table (`payouts_of`). On the busiest
day 225,000 payouts have a handful of keys; the facts are read once, by one statement.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.rule_sql import answer_key
from ..adapters.rule_sql import gate_year as rule_gate_year
from ..domain.gate import GATE_PERIOD, approving_kinds
from ..domain.model import MUNICIPALITY_PARTY
from ..domain.states import OPEN_PAYOUT, DecisionOutcome
from .setwise import among

# A table of the run's transaction (TEMPORARY: no other session sees it), created and
# dropped by `keyed_payouts`. Not in tables.metadata: no migration knows it.
KEYS = sa.Table(
    "iop_gate_keys",
    sa.MetaData(),
    sa.Column("payout_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("agreement", sa.Integer),
    sa.Column("year", sa.Integer),
    sa.Column("follow_up_state", sa.String(32)),
    sa.Column("follow_up_due", sa.Date),
    prefixes=["TEMPORARY"],
    postgresql_on_commit="DROP",
)
# Agreement keys are looked up one agreement at a time (made with the table).
sa.Index("ix_iop_gate_keys_agreement", KEYS.c.agreement)

Key = tuple[int | None, int | None, str | None, date | None]


class Group(NamedTuple):
    key: Key
    first: int  # the key's payout with the lowest id: the one `decide` is asked about


def approved() -> sa.ColumnElement[bool]:
    """Whether the agreement (the row of t.agreements) has the approving decision the
    gate asks for.

    A scalar subquery, not `EXISTS`: PostgreSQL turns an `EXISTS` of the top-level
    conditions into a semi-join, and at 10,000 agreements, misjudging how many payouts
    the other conditions leave, planned it as a loop over every decision for each payout
    (3 s of a 3.7 s release). A scalar subquery stays one index search per row."""
    d = t.decisions
    decision = (
        sa.select(d.c.id)
        .where(
            d.c.agreement_id == t.agreements.c.id,
            d.c.period_no == GATE_PERIOD,
            d.c.outcome == DecisionOutcome.APPROVED,
            d.c.kind.in_(sorted(approving_kinds(GATE_PERIOD))),
        )
        .limit(1)
        .scalar_subquery()
    )
    return decision.is_not(None)


def unsigned(agreement_id: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """Whether a party of the agreement (the municipality, or an organisation) has not
    signed the gate's period: payouts.unsigned_parties as a condition."""
    ap, o, s = t.agreement_parties, t.organisations, t.signatures

    def signed(party: sa.ColumnElement[Any]) -> sa.Exists:
        # Correlated past the EXISTS it sits in, to the row `agreement_id` belongs to.
        return (
            sa.exists()
            .where(
                s.c.agreement_id == agreement_id, s.c.party == party, s.c.period_no == GATE_PERIOD
            )
            .correlate_except(s)
        )

    organisation_unsigned = (
        sa.exists()
        .select_from(ap.join(o, o.c.id == ap.c.organisation_id))
        .where(ap.c.agreement_id == agreement_id, ~signed(o.c.organisationsnummer))
    )
    return sa.or_(~signed(sa.literal(MUNICIPALITY_PARTY)), organisation_unsigned)


def gate_follow_up() -> sa.ColumnElement[bool]:
    """The join of a payout to the follow-up its gate depends on."""
    p, f = t.payouts, t.follow_ups
    return sa.and_(
        f.c.agreement_id == p.c.agreement_id, f.c.year == rule_gate_year(p.c.covers_from)
    )


@contextmanager
def keyed_payouts(
    session: Session, where: Sequence[sa.ColumnElement[bool]]
) -> Iterator[list[Group]]:
    """Inside the caller's transaction: the open payouts that meet `where` (conditions
    on t.payouts and t.agreements) written to KEYS with their answer keys, and their
    groups by key. The table is there until the block ends (`payouts_of` reads it)."""
    p, a, f = t.payouts, t.agreements, t.follow_ups
    key = answer_key(
        agreement_id=a.c.id,
        agreement_state=a.c.state,
        approved=approved(),
        unsigned=unsigned(a.c.id),
        covers_from=p.c.covers_from,
        origin_year=sa.extract("year", sa.func.coalesce(a.c.first_start, a.c.start)),
        follow_up_state=f.c.state,
        follow_up_due=f.c.due_on,
    )
    picked = [p.c.state.in_(sorted(OPEN_PAYOUT)), *where]
    rows = (
        sa.select(p.c.id, *key)
        .select_from(p.join(a, a.c.id == p.c.agreement_id).outerjoin(f, gate_follow_up()))
        .where(*picked)
    )
    connection = session.connection()
    KEYS.create(connection)
    columns = ["payout_id", "agreement", "year", "follow_up_state", "follow_up_due"]
    session.execute(sa.insert(KEYS).from_select(columns, rows))
    if connection.dialect.name == "postgresql":
        # A temporary table has no statistics until asked: without them the planner
        # guesses how many payouts a key holds.
        session.execute(sa.text(f"ANALYZE {KEYS.name}"))
    k = KEYS.c
    grouped = (
        sa.select(
            k.agreement,
            k.year,
            k.follow_up_state,
            k.follow_up_due,
            sa.func.min(k.payout_id),
        )
        .group_by(k.agreement, k.year, k.follow_up_state, k.follow_up_due)
        .order_by(sa.func.min(k.payout_id))
    )
    groups = [Group((r[0], r[1], r[2], r[3]), r[4]) for r in session.execute(grouped)]
    yield groups
    # Not in a `finally`: after an error the transaction is rolled back, which drops it.
    KEYS.drop(connection)


def payouts_of(session: Session, keys: Sequence[Key]) -> sa.ColumnElement[bool]:
    """Whether the payout (t.payouts) is one in KEYS with one of `keys`.

    On PostgreSQL the ids go as one array, gathered before the statement runs
    (`= ANY (SELECT array_agg …)`): as `IN (SELECT …)` the planner joined the key table
    to every payout by hash, reading all 2.6 million at 100,000 agreements (1.5 s of a
    release); an array is looked up id by id in the primary key."""
    k = KEYS.c
    agreements = [key[0] for key in keys if key[0] is not None]
    matches: list[sa.ColumnElement[bool]] = []
    if agreements:
        matches.append(among(session, k.agreement, agreements))
    matches += [
        sa.and_(
            k.agreement.is_(None),
            k.year.is_not_distinct_from(year),
            k.follow_up_state.is_not_distinct_from(state),
            k.follow_up_due.is_not_distinct_from(due),
        )
        for agreement, year, state, due in keys
        if agreement is None
    ]
    payout = t.payouts.c.id
    if session.get_bind().dialect.name == "postgresql":
        ids = sa.select(sa.func.array_agg(k.payout_id)).where(sa.or_(*matches))
        # A cast, so that `ANY` takes one array value rather than the rows of a query.
        array = sa.cast(ids.scalar_subquery(), postgresql.ARRAY(sa.Integer))
        found: sa.ColumnElement[bool] = payout == sa.any_(array)
        return found
    return payout.in_(sa.select(k.payout_id).where(sa.or_(*matches)))
