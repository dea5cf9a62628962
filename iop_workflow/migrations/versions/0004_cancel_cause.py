"""Why a follow-up or a payout was cancelled: `cancel_cause` on both tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30

Nullable and not backfilled: a row cancelled before this revision keeps NULL, and the
schedule sync then falls back to judging it by its dates (domain/schedule.py).

Frozen like the earlier revisions: it must not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("follow_ups", "payouts")


def upgrade() -> None:
    # As 0003: batch mode, which on SQLite is a plain ADD COLUMN too (no copy of the
    # table, since the column has no server default).
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("cancel_cause", sa.String(32)))


def downgrade() -> None:
    # Not batch mode: on SQLite it would copy `follow_ups` and drop the old table, and
    # with foreign keys on, that drop cascades to every follow_up_documents row. SQLite
    # 3.35 and later drop a plain column in place, like PostgreSQL.
    for table in reversed(TABLES):
        op.drop_column(table, "cancel_cause")
