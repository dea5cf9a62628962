"""What issue 12 adds: who may sign in to the web application and the API.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02

- `credentials`: a person's local password (argon2 hash) and the identity provider's
  subject they are matched on.
- `api_tokens`: bearer tokens (their SHA-256 only), revocable; a token acts as its person.
- `calendar_feeds`: the secret addresses of personal calendar feeds (SHA-256), revocable.
- `login_throttle`: failed sign-ins per user name.
- indexes on `agreements.officer` and `agreement_parties.organisation_id`: the work
  list starts from a person's own agreements.

Frozen like the earlier revisions: it does not import the current tables.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 200


def upgrade() -> None:
    op.create_table(
        "credentials",
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE", name="fk_credentials_person_id_people"),
            nullable=False,
        ),
        sa.Column("password_hash", sa.String(200)),
        sa.Column("oidc_subject", sa.String(255)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_credentials"),
        sa.UniqueConstraint("oidc_subject", name="uq_credentials_oidc_subject"),
    )
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey("people.id", ondelete="CASCADE", name="fk_api_tokens_person_id_people"),
            nullable=False,
        ),
        sa.Column("label", sa.String(NAME), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("last_used_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column(
            "person_id",
            sa.Integer(),
            sa.ForeignKey(
                "people.id", ondelete="CASCADE", name="fk_calendar_feeds_person_id_people"
            ),
            nullable=False,
        ),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_calendar_feeds"),
        sa.UniqueConstraint("secret_hash", name="uq_calendar_feeds_secret_hash"),
    )
    op.create_table(
        "login_throttle",
        sa.Column("username", sa.String(NAME), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_failure_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("username", name="pk_login_throttle"),
    )
    # The work list starts from a person's own agreements, a representative's from
    # their organisation's.
    op.create_index("ix_agreements_officer", "agreements", ["officer"])
    op.create_index(
        "ix_agreement_parties_organisation_id", "agreement_parties", ["organisation_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_agreement_parties_organisation_id", "agreement_parties")
    op.drop_index("ix_agreements_officer", "agreements")
    for table in ("login_throttle", "calendar_feeds", "api_tokens", "credentials"):
        op.drop_table(table)
