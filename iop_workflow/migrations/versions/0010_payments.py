"""What issue 14 adds: money leaves, attested, and is seen paid.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03

- `payment_details`: an organisation's bankgiro, plusgiro or bank account, proposed by
  one person and confirmed by another (one confirmed, one proposed at a time).
- `attest_rights`: who attests a municipality's payment batches, up to what total.
- `payment_batches`: a batch from preparation through attest to export and payment.
- `batch_items`: each payout in a batch, with the creditor as the payment file names it;
  a payout is in at most one batch not withdrawn (a partial unique index).

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 200
ENUM = 32
MUNICIPALITY = 64


def _partial_unique(name: str, table: str, column: str, where: str) -> None:
    op.create_index(
        name,
        table,
        [column],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade() -> None:
    op.create_table(
        "payment_details",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisations.id", name="fk_payment_details_organisation_id_organisations"
            ),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("clearing", sa.String(5)),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("proposed_by", sa.String(NAME), nullable=False),
        sa.Column("proposed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_by", sa.String(NAME)),
        sa.Column("decided_at", sa.DateTime(timezone=True)),
        sa.Column("reason", sa.Text()),
        sa.PrimaryKeyConstraint("id", name="pk_payment_details"),
    )
    _partial_unique(
        "uq_payment_details_confirmed", "payment_details", "organisation_id", "state = 'confirmed'"
    )
    _partial_unique(
        "uq_payment_details_proposed", "payment_details", "organisation_id", "state = 'proposed'"
    )
    op.create_table(
        "attest_rights",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey(
                "people.id", ondelete="CASCADE", name="fk_attest_rights_person_id_people"
            ),
            nullable=False,
        ),
        sa.Column("municipality", sa.String(MUNICIPALITY), nullable=False),
        sa.Column("limit_ore", sa.BigInteger(), nullable=False),
        sa.Column("granted_by", sa.String(NAME), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "municipality", name="pk_attest_rights"),
    )
    op.create_table(
        "payment_batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(MUNICIPALITY), nullable=False),
        sa.Column("state", sa.String(ENUM), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("execution_date", sa.Date(), nullable=False),
        sa.Column("total_ore", sa.BigInteger(), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("prepared_by", sa.String(NAME), nullable=False),
        sa.Column("prepared_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attested_by", sa.String(NAME)),
        sa.Column("attested_at", sa.DateTime(timezone=True)),
        sa.Column("rejected_by", sa.String(NAME)),
        sa.Column("rejected_reason", sa.Text()),
        sa.Column("exported_by", sa.String(NAME)),
        sa.Column("exported_at", sa.DateTime(timezone=True)),
        sa.Column("paid_on", sa.Date()),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_payment_batches"),
    )
    op.create_index(
        "ix_payment_batches_municipality_state", "payment_batches", ["municipality", "state"]
    )
    op.create_table(
        "batch_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "batch_id",
            sa.Integer(),
            sa.ForeignKey(
                "payment_batches.id",
                ondelete="CASCADE",
                name="fk_batch_items_batch_id_payment_batches",
            ),
            nullable=False,
        ),
        sa.Column(
            "payout_id",
            sa.Integer(),
            sa.ForeignKey("payouts.id", name="fk_batch_items_payout_id_payouts"),
            nullable=False,
        ),
        sa.Column("amount_ore", sa.BigInteger(), nullable=False),
        sa.Column("end_to_end_id", sa.String(35), nullable=False),
        sa.Column("creditor_name", sa.String(NAME), nullable=False),
        sa.Column("creditor_kind", sa.String(16), nullable=False),
        sa.Column("creditor_clearing", sa.String(5)),
        sa.Column("creditor_number", sa.String(20), nullable=False),
        sa.Column("remittance", sa.String(140), nullable=False),
        sa.Column("paid_on", sa.Date()),
        sa.Column("paid_by", sa.String(NAME)),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_batch_items"),
        sa.UniqueConstraint("end_to_end_id", name="uq_batch_items_end_to_end_id"),
    )
    op.create_index("ix_batch_items_batch_id", "batch_items", ["batch_id"])
    _partial_unique(
        "uq_batch_items_active_payout", "batch_items", "payout_id", "withdrawn_at IS NULL"
    )


def downgrade() -> None:
    for table in ("batch_items", "payment_batches", "attest_rights", "payment_details"):
        op.drop_table(table)
