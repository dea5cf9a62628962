"""Outbox of notifications and the cursor of published audit events.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject_date", sa.Date(), nullable=False),
        sa.Column("stage", sa.String(40), nullable=False),
        sa.Column("recipients", sa.JSON(), nullable=False),
        sa.Column("facts", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("created_on", sa.Date(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.Text()),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_notifications"),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name="fk_notifications_agreement_id_agreements",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint(
            "agreement_id",
            "kind",
            "subject_date",
            "stage",
            name="uq_notifications_agreement_id_kind_subject_date_stage",
        ),
    )
    op.create_index(
        "ix_notifications_state_next_attempt_at", "notifications", ["state", "next_attempt_at"]
    )
    op.create_table(
        "event_cursor",
        sa.Column("name", sa.String(40), nullable=False),
        sa.Column("last_audit_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_event_cursor"),
    )


def downgrade() -> None:
    op.drop_table("event_cursor")
    op.drop_index("ix_notifications_state_next_attempt_at", table_name="notifications")
    op.drop_table("notifications")
