"""The money of the payouts per municipality, year and state: what it is, and where it
is kept.

`summed` is the definition, a `GROUP BY` over every payout (2.6 million at 100,000
agreements: 2 s on SQLite). `kept` reads the same rows from `payout_money`, which the
database's triggers (migration 0012) keep equal to it as payouts change;
tests/integration/test_payout_money.py checks that they are, after random changes on
both databases. Both give the columns municipality, year, state, amount_ore, payouts.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from . import tables as t


def due_year(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The year a payout counts in: that of its due day. Migration 0012's triggers
    compute it as this compiles on each database."""
    return sa.extract("year", column)


def summed() -> sa.Select[Any]:
    """The definition: the sum and count of the payouts per municipality, year, state."""
    p, a = t.payouts, t.agreements
    year = due_year(p.c.due_on).label("year")
    return (
        sa.select(
            a.c.municipality,
            year,
            p.c.state,
            sa.func.sum(p.c.amount_ore).label("amount_ore"),
            sa.func.count().label("payouts"),
        )
        .join(a, a.c.id == p.c.agreement_id)
        .group_by(a.c.municipality, year, p.c.state)
    )


def kept() -> sa.Select[Any]:
    """The same rows as `summed`, as the triggers keep them: a few rows, no payout read.

    On PostgreSQL a transaction's own changes reach the table when it commits: read it
    in a transaction of its own (as the portfolio does)."""
    m = t.payout_money
    return sa.select(m.c.municipality, m.c.year, m.c.state, m.c.amount_ore, m.c.payouts)
