"""What issue 11 adds to the record: payout plans, register upkeep and the forum.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

- `agreements.payout_plan`: the plan the nämnd decided (JSON: `{"per_year": 4}` or
  `{"dates": ["2027-01-15", ...]}`); NULL keeps the preset's plan, as before.
- `agreements.dialogue_forum`, `dialogue_held_on`, `dialogue_minutes_ref`: where and
  when the dialogue was held; `follow_ups.forum`, `meeting_on`, `minutes_ref`: the same
  for the follow-up's review.
- `amendments.new_payout_plan`: the plan a tilläggsavtal changed to, if it did.
- `organisations.forening_registered_on`: the day of the föreningsregister entry.
- `people.active` and `people.deactivated_on`: a person who has left keeps their
  history but can no longer act or receive notices. Existing people stay active.

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 200
REF = 100

COLUMNS: dict[str, tuple[sa.Column[Any], ...]] = {
    "agreements": (
        sa.Column("payout_plan", sa.JSON()),
        sa.Column("dialogue_forum", sa.String(NAME)),
        sa.Column("dialogue_held_on", sa.Date()),
        sa.Column("dialogue_minutes_ref", sa.String(REF)),
    ),
    "follow_ups": (
        sa.Column("forum", sa.String(NAME)),
        sa.Column("meeting_on", sa.Date()),
        sa.Column("minutes_ref", sa.String(REF)),
    ),
    "amendments": (sa.Column("new_payout_plan", sa.JSON()),),
    "organisations": (sa.Column("forening_registered_on", sa.Date()),),
    "people": (
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("deactivated_on", sa.Date()),
    ),
}


def upgrade() -> None:
    for table, columns in COLUMNS.items():
        # Plain ADD COLUMN on both backends; batch mode would copy the table on SQLite
        # only for the server default, which SQLite's ADD COLUMN takes as it is.
        for column in columns:
            op.add_column(table, column)


def downgrade() -> None:
    for table, columns in reversed(COLUMNS.items()):
        for column in reversed(columns):
            op.drop_column(table, column.name)
