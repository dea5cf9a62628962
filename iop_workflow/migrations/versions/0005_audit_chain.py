"""The audit trail as a hash chain, and through what each change came.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07

`audit_log` gains `channel`, `os_user`, `host` (through what a change came and who ran
it where; NULL for the rows already there), `effective_date` (the business day acted
on; filled from `data.as_of` where the row has one) and the chain: `seq`, `prev_hash`
and `hash` (domain/audit_chain.py), computed here for every row there is, in id order.
The new table `audit_chain` holds the head: the newest record's place and hash.

The backfill is the one UPDATE the append-only trigger must let through: it is lifted
for it and restored in the same transaction (SQLite: the UPDATE trigger is dropped and
created again as 0001 made it; PostgreSQL: disabled and enabled again, which takes the
table's owner, as migrations do).

Frozen like the earlier revisions: it does not import the current tables. It does use
the hash definition of domain/audit_chain.py, because the chain it writes must be the
one `iop audit verify` checks; changing that definition needs a migration of its own.
Offline (`alembic upgrade --sql`) no row can be read: the SQL adds the columns and an
empty head, and `iop audit verify` names the first row left without a hash.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date
from typing import Any

import sqlalchemy as sa
from alembic import op

from iop_workflow.domain.audit_chain import START, Head, link

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

APPEND_ONLY = "audit records are append-only"
HEAD = "audit_log"
PAGE = 5000

NEW_COLUMNS: list[tuple[str, Any]] = [
    ("channel", sa.String(16)),
    ("os_user", sa.String(200)),
    ("host", sa.String(255)),
    ("effective_date", sa.Date()),
    ("seq", sa.Integer()),
    ("prev_hash", sa.String(64)),
    ("hash", sa.String(64)),
]

_log = sa.table(
    "audit_log",
    sa.column("id", sa.Integer()),
    sa.column("at", sa.DateTime(timezone=True)),
    *(
        sa.column(name, sa.String())
        for name in ("actor", "role", "entity", "entity_key", "trigger", "from_state")
    ),
    sa.column("to_state", sa.String()),
    sa.column("reason", sa.Text()),
    sa.column("agreement_id", sa.Integer()),
    sa.column("data", sa.JSON()),
    *(sa.column(name, type_) for name, type_ in NEW_COLUMNS),
)
_chain = sa.table(
    "audit_chain",
    sa.column("name", sa.String()),
    sa.column("seq", sa.Integer()),
    sa.column("hash", sa.String()),
)


def _as_of(data: Any) -> date | None:
    value = data.get("as_of") if isinstance(data, dict) else None
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


def _backfill(bind: sa.Connection) -> Head:
    """Chain every row in id order, a page at a time; returns the head."""
    head, last_id = START, 0
    columns = [c for c in _log.c if c.name not in ("effective_date", "seq", "prev_hash", "hash")]
    while True:
        page = [
            dict(row)
            for row in bind.execute(
                sa.select(*columns).where(_log.c.id > last_id).order_by(_log.c.id).limit(PAGE)
            ).mappings()
        ]
        if not page:
            return head
        for row in page:
            # As the product reads it (adapters/columns.py UtcDateTime): aware, in UTC.
            at = row["at"]
            row["at"] = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
            row["effective_date"] = _as_of(row["data"])
        head = link(page, head)
        bind.execute(
            sa.update(_log)
            .where(_log.c.id == sa.bindparam("row_id"))
            .values(
                effective_date=sa.bindparam("effective_date"),
                seq=sa.bindparam("seq"),
                prev_hash=sa.bindparam("prev_hash"),
                hash=sa.bindparam("hash"),
            ),
            [
                {
                    "row_id": r["id"],
                    "effective_date": r["effective_date"],
                    "seq": r["seq"],
                    "prev_hash": r["prev_hash"],
                    "hash": r["hash"],
                }
                for r in page
            ],
        )
        last_id = page[-1]["id"]


def _lift_trigger(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute("DROP TRIGGER audit_log_no_update")
    else:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_change")


def _restore_trigger(dialect: str) -> None:
    if dialect == "sqlite":
        op.execute(
            "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
            f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
        )
    else:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_change")


def upgrade() -> None:
    context = op.get_context()
    dialect = context.dialect.name
    op.create_table(
        "audit_chain",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_audit_chain"),
    )
    # As 0004: batch mode, which on SQLite is a plain ADD COLUMN (no copy of the table:
    # a copy would drop the append-only triggers with the old table).
    with op.batch_alter_table("audit_log") as batch:
        for name, type_ in NEW_COLUMNS:
            batch.add_column(sa.Column(name, type_))
    head = START
    if not context.as_sql:
        _lift_trigger(dialect)
        head = _backfill(op.get_bind())
        _restore_trigger(dialect)
    op.create_index("ix_audit_log_seq", "audit_log", ["seq"], unique=True)
    op.execute(sa.insert(_chain).values(name=HEAD, seq=head.seq, hash=head.hash))


def downgrade() -> None:
    # Not batch mode (see 0004): SQLite 3.35 and later drop a plain column in place; the
    # unique index goes first, SQLite refuses to drop an indexed column.
    op.drop_index("ix_audit_log_seq", table_name="audit_log")
    for name, _ in reversed(NEW_COLUMNS):
        op.drop_column("audit_log", name)
    op.drop_table("audit_chain")
