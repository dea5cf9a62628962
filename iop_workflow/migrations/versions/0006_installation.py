"""What this database is: `installation`, a row per fact about it (for now `sandbox`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

A sandbox database (the copy `iop simulate` walks, the demo's, the benchmark's, the
tests') may act on days after the system's day (iop_workflow/clock.py). A database
migrated here is not one: only code that makes such a database writes the row.

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "installation",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("installation")
