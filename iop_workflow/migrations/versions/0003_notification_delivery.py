"""Notification delivery: each target's result per attempt, and the daily digest choice.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23

Frozen like the earlier revisions: it must not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A server default so the people already stored get "no digest" without a backfill.
    with op.batch_alter_table("people") as batch:
        batch.add_column(
            sa.Column("digest", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "notification_deliveries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("notification_id", sa.Integer(), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("target", sa.String(320), nullable=False),
        sa.Column("digest_on", sa.Date()),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("error", sa.Text()),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_notification_deliveries"),
        sa.ForeignKeyConstraint(
            ["notification_id"],
            ["notifications.id"],
            name="fk_notification_deliveries_notification_id_notifications",
            ondelete="CASCADE",
        ),
    )
    op.create_index(
        "ix_notification_deliveries_notification_id",
        "notification_deliveries",
        ["notification_id"],
    )
    op.create_index(
        "ix_notification_deliveries_target_digest_on",
        "notification_deliveries",
        ["target", "digest_on"],
    )


def downgrade() -> None:
    for index in ("target_digest_on", "notification_id"):
        op.drop_index(f"ix_notification_deliveries_{index}", table_name="notification_deliveries")
    op.drop_table("notification_deliveries")
    with op.batch_alter_table("people") as batch:
        batch.drop_column("digest")
