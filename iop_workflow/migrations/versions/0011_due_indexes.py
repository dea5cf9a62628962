"""What issue 15 adds: indexes that match the sweep's conditions.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07

The daily sweep asks for rows in one state whose date has come (`state = 'planned' AND
opens_on <= day`, `state = 'active' AND end < day`, `state = 'raised' AND due_on <
day`). With only an index on the state, a day with nothing due still walked every
planned follow-up and every active agreement; with the state and the date in one
index it reads only the rows that are due (docs/performance.md shows the plans).

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_follow_ups_state_opens_on", "follow_ups", ["state", "opens_on"]),
    ("ix_agreements_state_end", "agreements", ["state", "end"]),
    ("ix_repayment_claims_state_due_on", "repayment_claims", ["state", "due_on"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
