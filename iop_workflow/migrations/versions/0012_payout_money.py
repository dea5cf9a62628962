"""What issue 15 adds: the money per municipality, year and payout state, kept by the
database as payouts change.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07

The portfolio's money per year summed all payouts (2.6 million at 100,000 agreements,
2 s on SQLite) each time it ran. `payout_money` holds that sum and count per
(municipality, year of `due_on`, state), equal to the `GROUP BY` in
adapters/payout_money.py (`summed`); the database's triggers keep it so, whatever
statement changes a payout (a payout run's bulk UPDATE, a step, an import, a plan
change, a cascade from a deleted agreement):

- SQLite: row triggers on `payouts` add the new row to its group and take the old one
  from its own; a group whose count reaches 0 is deleted, so the table holds exactly
  the groups the `GROUP BY` gives. SQLite has one writer at a time: no lock to fear.
- PostgreSQL: statement triggers (with transition tables) write each statement's net
  change per group to `payout_money_pending`, without touching a shared row; a deferred
  constraint trigger folds the transaction's pending rows into `payout_money` at its
  commit, in key order. A run that holds the totals' rows from its first UPDATE to
  its commit would make every step on a payout of the same year wait for it, and
  could deadlock with the audit chain's head (adapters/audit_chain.py).
- `agreements`: a deleted agreement takes its payouts out before its cascade deletes
  them (the cascade's triggers no longer find the agreement's municipality); a
  municipality changed moves them.

The year is `_year` below, the SQL SQLAlchemy's `extract('year', ...)` compiles to on
each database; tests/integration/test_payout_money.py checks the totals against the
`GROUP BY` after random changes on both. A SQLite batch migration that copies
`payouts` or `agreements` drops these triggers with the old table: recreate them.

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MUNICIPALITY = 64
ENUM = 32
TOTALS = "payout_money"
PENDING = "payout_money_pending"
COLUMNS = "municipality, year, state, amount_ore, payouts"
GROUP = "municipality, year, state"


def _year(dialect: str, column: str) -> str:
    """The year of a date, as the `GROUP BY`'s `extract('year', ...)` gives it."""
    if dialect == "sqlite":
        return f"CAST(STRFTIME('%Y', {column}) AS INTEGER)"
    return f"CAST(EXTRACT(year FROM {column}) AS INTEGER)"


def _create_tables() -> None:
    def columns() -> list[sa.Column[Any]]:
        return [
            sa.Column("municipality", sa.String(MUNICIPALITY), nullable=False),
            sa.Column("year", sa.Integer(), nullable=False, autoincrement=False),
            sa.Column("state", sa.String(ENUM), nullable=False),
            sa.Column("amount_ore", sa.BigInteger(), nullable=False),
            sa.Column("payouts", sa.Integer(), nullable=False),
        ]

    op.create_table(
        TOTALS,
        *columns(),
        sa.PrimaryKeyConstraint("municipality", "year", "state", name="pk_payout_money"),
    )
    op.create_table(
        PENDING,
        sa.Column("id", sa.Integer(), nullable=False),
        *columns(),
        sa.PrimaryKeyConstraint("id", name="pk_payout_money_pending"),
    )


# --- SQLite: row triggers ---------------------------------------------------------------

_SQLITE_ADD = (
    f"INSERT INTO {TOTALS} ({COLUMNS}) {{select}} "
    f"ON CONFLICT ({GROUP}) DO UPDATE SET amount_ore = amount_ore + excluded.amount_ore, "
    "payouts = payouts + excluded.payouts;"
)


def _sqlite_payout(row: str, sign: str) -> str:
    """Add (`sign` '') or take away ('-') the payout `row` (NEW or OLD) in its group."""
    select = (
        f"SELECT municipality, {_year('sqlite', row + '.due_on')}, {row}.state, "
        f"{sign}{row}.amount_ore, {sign}1 FROM agreements WHERE id = {row}.agreement_id"
    )
    return _SQLITE_ADD.format(select=select)


def _sqlite_agreement(row: str, sign: str) -> str:
    """Add or take away every payout of the agreement `row`, under its municipality."""
    select = (
        f"SELECT {row}.municipality, {_year('sqlite', 'due_on')} AS y, state, "
        f"{sign}sum(amount_ore), {sign}count(*) FROM payouts WHERE agreement_id = {row}.id "
        "GROUP BY y, state"
    )
    return _SQLITE_ADD.format(select=select)


def _sqlite_drop_empty(municipality: str, year: str = "", state: str = "") -> str:
    where = [f"municipality = {municipality}", *(c for c in (year, state) if c)]
    return f"DELETE FROM {TOTALS} WHERE payouts = 0 AND {' AND '.join(where)};"


_SQLITE_OLD_MUNICIPALITY = "(SELECT municipality FROM agreements WHERE id = OLD.agreement_id)"
_SQLITE_DROP_OLD_GROUP = _sqlite_drop_empty(
    _SQLITE_OLD_MUNICIPALITY, f"year = {_year('sqlite', 'OLD.due_on')}", "state = OLD.state"
)
_CHANGED = ("agreement_id", "due_on", "amount_ore", "state")

SQLITE_TRIGGERS = {
    "payout_money_insert": (
        "AFTER INSERT ON payouts",
        [_sqlite_payout("NEW", "")],
    ),
    "payout_money_update": (
        f"AFTER UPDATE OF {', '.join(_CHANGED)} ON payouts "
        f"WHEN {' OR '.join(f'OLD.{c} IS NOT NEW.{c}' for c in _CHANGED)}",
        [_sqlite_payout("OLD", "-"), _sqlite_payout("NEW", ""), _SQLITE_DROP_OLD_GROUP],
    ),
    "payout_money_delete": (
        "AFTER DELETE ON payouts",
        [_sqlite_payout("OLD", "-"), _SQLITE_DROP_OLD_GROUP],
    ),
    "payout_money_agreement_delete": (
        "BEFORE DELETE ON agreements",
        [_sqlite_agreement("OLD", "-"), _sqlite_drop_empty("OLD.municipality")],
    ),
    "payout_money_agreement_move": (
        "AFTER UPDATE OF municipality ON agreements WHEN OLD.municipality IS NOT NEW.municipality",
        [
            _sqlite_agreement("OLD", "-"),
            _sqlite_agreement("NEW", ""),
            _sqlite_drop_empty("OLD.municipality"),
        ],
    ),
}


def _create_sqlite_triggers() -> None:
    for name, (when, body) in SQLITE_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} BEGIN {' '.join(body)} END")


# --- PostgreSQL: statement triggers, folded at commit -----------------------------------

_PG_CHANGES = {
    "INSERT": "SELECT agreement_id, due_on, state, amount_ore, 1 AS payouts FROM new_rows",
    "DELETE": (
        "SELECT agreement_id, due_on, state, -amount_ore AS amount_ore, -1 AS payouts FROM old_rows"
    ),
}
_PG_CHANGES["UPDATE"] = f"{_PG_CHANGES['INSERT']} UNION ALL {_PG_CHANGES['DELETE']}"


def _pg_note(changes: str) -> str:
    # An UPDATE that moved no money (a new block reason) nets out to nothing.
    return (
        f"INSERT INTO {PENDING} ({COLUMNS}) "
        f"SELECT a.municipality, {_year('postgresql', 'd.due_on')} AS year, d.state, "
        "sum(d.amount_ore), sum(d.payouts) "
        f"FROM ({changes}) AS d JOIN agreements AS a ON a.id = d.agreement_id "
        "GROUP BY 1, 2, 3 HAVING sum(d.payouts) <> 0 OR sum(d.amount_ore) <> 0;"
    )


def _pg_agreement(row: str, sign: str) -> str:
    return (
        f"SELECT {row}.municipality, {_year('postgresql', 'due_on')} AS year, state, "
        f"{sign}sum(amount_ore), {sign}count(*) FROM payouts WHERE agreement_id = {row}.id "
        "GROUP BY 2, 3"
    )


PG_FUNCTIONS = {
    # Each statement's net change per group, as pending rows of its transaction.
    "payout_money_note": (
        "BEGIN "
        + " ".join(
            f"{'IF' if i == 0 else 'ELSIF'} TG_OP = '{op_}' THEN {_pg_note(changes)}"
            for i, (op_, changes) in enumerate(_PG_CHANGES.items())
        )
        + " END IF; RETURN NULL; END"
    ),
    # At commit: the first of the transaction's queued calls still finds its row and
    # folds all of them (the others return at once); key order, so two commits that
    # fold at once take the totals' rows in one order.
    "payout_money_fold": (
        f"BEGIN IF NOT EXISTS (SELECT FROM {PENDING} WHERE id = NEW.id) THEN RETURN NULL; "
        "END IF; "
        f"WITH moved AS (DELETE FROM {PENDING} RETURNING {COLUMNS}) "
        f"INSERT INTO {TOTALS} AS t ({COLUMNS}) "
        f"SELECT {GROUP}, sum(amount_ore), sum(payouts) FROM moved GROUP BY {GROUP} "
        "HAVING sum(payouts) <> 0 OR sum(amount_ore) <> 0 "
        f"ORDER BY {GROUP} "
        f"ON CONFLICT ({GROUP}) DO UPDATE SET amount_ore = t.amount_ore + "
        "excluded.amount_ore, payouts = t.payouts + excluded.payouts; "
        f"DELETE FROM {TOTALS} WHERE payouts = 0; RETURN NULL; END"
    ),
    "payout_money_agreement": (
        "BEGIN IF TG_OP = 'DELETE' THEN "
        f"INSERT INTO {PENDING} ({COLUMNS}) {_pg_agreement('OLD', '-')}; RETURN OLD; "
        "END IF; "
        f"INSERT INTO {PENDING} ({COLUMNS}) {_pg_agreement('OLD', '-')} UNION ALL "
        f"{_pg_agreement('NEW', '')}; RETURN NULL; END"
    ),
    "payout_money_clear": f"BEGIN DELETE FROM {TOTALS}; DELETE FROM {PENDING}; RETURN NULL; END",
}

PG_TRIGGERS = {
    "payout_money_insert": (
        "AFTER INSERT ON payouts REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT",
        "payout_money_note",
    ),
    "payout_money_update": (
        "AFTER UPDATE ON payouts REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
        "FOR EACH STATEMENT",
        "payout_money_note",
    ),
    "payout_money_delete": (
        "AFTER DELETE ON payouts REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT",
        "payout_money_note",
    ),
    "payout_money_truncate": ("AFTER TRUNCATE ON payouts FOR EACH STATEMENT", "payout_money_clear"),
    "payout_money_agreement_delete": (
        "BEFORE DELETE ON agreements FOR EACH ROW",
        "payout_money_agreement",
    ),
    "payout_money_agreement_move": (
        "AFTER UPDATE OF municipality ON agreements FOR EACH ROW "
        "WHEN (OLD.municipality IS DISTINCT FROM NEW.municipality)",
        "payout_money_agreement",
    ),
}


def _create_pg_triggers() -> None:
    for name, body in PG_FUNCTIONS.items():
        op.execute(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$")
    for name, (when, function) in PG_TRIGGERS.items():
        op.execute(f"CREATE TRIGGER {name} {when} EXECUTE FUNCTION {function}()")
    op.execute(
        f"CREATE CONSTRAINT TRIGGER payout_money_fold AFTER INSERT ON {PENDING} "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION payout_money_fold()"
    )


def _backfill(dialect: str) -> None:
    op.execute(
        f"INSERT INTO {TOTALS} ({COLUMNS}) "
        f"SELECT a.municipality, {_year(dialect, 'p.due_on')}, p.state, sum(p.amount_ore), "
        "count(*) FROM payouts AS p JOIN agreements AS a ON a.id = p.agreement_id "
        "GROUP BY 1, 2, 3"
    )


def upgrade() -> None:
    dialect = op.get_context().dialect.name
    _create_tables()
    # Triggers first: on PostgreSQL, creating them locks out writers of payouts until
    # this transaction commits, so no change falls between the backfill and them.
    if dialect == "sqlite":
        _create_sqlite_triggers()
    elif dialect == "postgresql":
        _create_pg_triggers()
    else:
        # Totals nothing keeps would go wrong silently with the first payout changed.
        raise NotImplementedError(f"no payout_money triggers for dialect '{dialect}'")
    _backfill(dialect)


def downgrade() -> None:
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER {name}")
    else:
        for name, (when, _) in PG_TRIGGERS.items():
            table = "agreements" if "ON agreements" in when else "payouts"
            op.execute(f"DROP TRIGGER {name} ON {table}")
    # Dropping the pending table drops its constraint trigger.
    op.drop_table(PENDING)
    op.drop_table(TOTALS)
    if dialect == "postgresql":
        for name in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
