"""What issue 13 adds: the annual report as an organisation hands it in.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03

- `report_files`: every uploaded document (name, type found in its content, size,
  SHA-256; the bytes are in the document store), in the report's draft
  (`submission` NULL, one per document type) or in the submission it was handed in with.
- `report_drafts`: the statistics saved in a draft before it is submitted.
- `report_submissions`: each submission of a report (its number, statistics, who and
  when): the receipt.
- `representations`: the further organisations a representative speaks for.

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 200
ENUM = 32


def _follow_up(table: str) -> sa.Column[int]:
    return sa.Column(
        "follow_up_id",
        sa.Integer(),
        sa.ForeignKey(
            "follow_ups.id", ondelete="CASCADE", name=f"fk_{table}_follow_up_id_follow_ups"
        ),
        nullable=False,
    )


def upgrade() -> None:
    op.create_table(
        "report_files",
        sa.Column("id", sa.Integer(), nullable=False),
        _follow_up("report_files"),
        sa.Column("kind", sa.String(ENUM), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(NAME), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("submission", sa.Integer()),
        sa.PrimaryKeyConstraint("id", name="pk_report_files"),
    )
    op.create_index("ix_report_files_follow_up_id", "report_files", ["follow_up_id"])
    # One file per document type in a draft: a new upload replaces the draft's file.
    op.create_index(
        "uq_report_files_draft_kind",
        "report_files",
        ["follow_up_id", "kind"],
        unique=True,
        sqlite_where=sa.text("submission IS NULL"),
        postgresql_where=sa.text("submission IS NULL"),
    )
    op.create_table(
        "report_drafts",
        sa.Column(
            "follow_up_id",
            sa.Integer(),
            sa.ForeignKey(
                "follow_ups.id", ondelete="CASCADE", name="fk_report_drafts_follow_up_id_follow_ups"
            ),
            nullable=False,
        ),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("updated_by", sa.String(NAME), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("follow_up_id", name="pk_report_drafts"),
    )
    op.create_table(
        "report_submissions",
        sa.Column("id", sa.Integer(), nullable=False),
        _follow_up("report_submissions"),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("statistics", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(NAME), nullable=False),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_report_submissions"),
        sa.UniqueConstraint(
            "follow_up_id", "number", name="uq_report_submissions_follow_up_id_number"
        ),
    )

    op.create_table(
        "representations",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey(
                "people.id", ondelete="CASCADE", name="fk_representations_person_id_people"
            ),
            nullable=False,
        ),
        sa.Column(
            "organisation_id",
            sa.Integer(),
            sa.ForeignKey(
                "organisations.id",
                ondelete="CASCADE",
                name="fk_representations_organisation_id_organisations",
            ),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("person_id", "organisation_id", name="pk_representations"),
    )


def downgrade() -> None:
    for table in ("representations", "report_submissions", "report_drafts", "report_files"):
        op.drop_table(table)
