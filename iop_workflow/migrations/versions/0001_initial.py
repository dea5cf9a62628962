"""Initial schema: agreements and everything recorded about them, plus the audit log.

Revision ID: 0001
Revises:
Create Date: 2026-11-23

Written by hand from an autogenerate run and frozen: it must not import the current
tables. Enum columns are plain VARCHAR(32) holding the lowercase `.value` (what
`sa.Enum(..., native_enum=False)` creates), so adding a state later needs no migration.
The audit log is append-only: triggers refuse UPDATE and DELETE on both dialects.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.schema import SchemaItem

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = 200
ENUM = 32
APPEND_ONLY = "audit records are append-only"


def _id(table: str) -> list[SchemaItem]:
    return [
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=f"pk_{table}"),
    ]


def _fk(table: str, column: str, target: str, **kw: Any) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=f"fk_{table}_{column}_{target}", **kw
    )


def _agreement(table: str) -> list[SchemaItem]:
    return [
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        _fk(table, "agreement_id", "agreements", ondelete="CASCADE"),
    ]


def _organisation(table: str) -> list[SchemaItem]:
    return [
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        _fk(table, "organisation_id", "organisations"),
    ]


def _unique(table: str, *columns: str) -> sa.UniqueConstraint:
    return sa.UniqueConstraint(*columns, name=f"uq_{table}_{'_'.join(columns)}")


def _col(name: str, type_: Any, nullable: bool = False) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=nullable)


def _opt(name: str, type_: Any) -> sa.Column[Any]:
    return sa.Column(name, type_, nullable=True)


def _index(table: str, *columns: str) -> None:
    op.create_index(f"ix_{table}_{'_'.join(columns)}", table, list(columns), unique=False)


def _create_tables() -> None:
    s, text, date, money = sa.String, sa.Text(), sa.Date(), sa.BigInteger()
    integer, enum = sa.Integer(), sa.String(ENUM)
    t = "organisations"
    op.create_table(
        t, *_id(t), _col("name", s(NAME)), _col("organisationsnummer", s(11)),
        _col("contact_name", s(NAME)), _col("contact_email", s(320)),
        _opt("contact_phone", s(40)), _col("forening_registered", sa.Boolean()),
        _opt("forening_register_ref", s(100)), _unique(t, "organisationsnummer"),
    )  # fmt: skip
    t = "people"
    op.create_table(
        t, *_id(t), _col("name", s(NAME)), _col("role", enum), _opt("email", s(320)),
        _opt("municipality", s(64)), _opt("organisation_id", integer),
        _fk(t, "organisation_id", "organisations", ondelete="SET NULL"),
        _opt("manager", s(NAME)), _unique(t, "name"),
    )  # fmt: skip
    t = "agreements"
    op.create_table(
        t, *_id(t), _col("diarienummer", s(64)), _col("municipality", s(64)),
        _col("committee", s(NAME)), _col("title", s(300)), _col("purpose", text),
        _col("target_group", text), _col("start", date), _col("end", date),
        _col("officer", s(NAME)), _col("state", enum), _col("description", text),
        _col("goals", text), _col("values", text), _col("indicators", sa.JSON()),
        _col("repayment_terms", text), _col("renewal_terms", text),
        _opt("payout_dates", sa.JSON()), _opt("report_due", s(5)), _opt("first_start", date),
        _col("period_no", integer), _opt("terminated_on", date),
        _opt("termination_reason", text), _opt("renewal_declined_by", s(NAME)),
        _col("version", integer), _unique(t, "diarienummer"),
    )  # fmt: skip
    _index(t, "municipality")
    _index(t, "state")
    t = "agreement_parties"
    op.create_table(
        t, *_id(t), *_agreement(t), *_organisation(t), _col("share_bp", integer),
        _unique(t, "agreement_id", "organisation_id"),
    )  # fmt: skip
    t = "criteria_assessments"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("criterion", s(100)), _col("verdict", enum),
        _col("motivation", text), _opt("assessed_by", s(NAME)), _opt("assessed_on", date),
        _unique(t, "agreement_id", "criterion"),
    )  # fmt: skip
    t = "year_support"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("year", integer), _col("amount_ore", money),
        _unique(t, "agreement_id", "year"),
    )  # fmt: skip
    t = "contributions"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("year", integer), _col("kind", enum),
        _col("amount_ore", money), _opt("hours", integer), _col("description", text),
    )  # fmt: skip
    _index(t, "agreement_id")
    t = "other_income"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("year", integer), _col("source", s(NAME)),
        _col("amount_ore", money),
    )  # fmt: skip
    _index(t, "agreement_id")
    t = "decisions"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("kind", enum), _col("body", s(NAME)),
        _col("meeting_date", date), _col("paragraph", s(32)), _col("outcome", enum),
        _opt("minutes_adjusted_on", date), _opt("recorded_by", s(NAME)),
        _col("period_no", integer),
    )  # fmt: skip
    _index(t, "agreement_id")
    t = "signatures"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("party", s(32)), _col("signed_on", date),
        _col("signed_by", s(NAME)), _col("period_no", integer),
        _unique(t, "agreement_id", "party", "period_no"),
    )  # fmt: skip
    t = "follow_ups"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("year", integer), _col("opens_on", date),
        _col("due_on", date), _col("state", enum), _opt("submitted_by", s(NAME)),
        _opt("submitted_on", date), _opt("reviewed_by", s(NAME)), _opt("reviewed_on", date),
        _opt("return_reason", text), _col("statistics", sa.JSON()), _col("version", integer),
        _unique(t, "agreement_id", "year"),
    )  # fmt: skip
    _index(t, "state", "due_on")
    t = "follow_up_documents"
    op.create_table(
        t, *_id(t), _col("follow_up_id", integer),
        _fk(t, "follow_up_id", "follow_ups", ondelete="CASCADE"), _col("kind", enum),
        _col("arrived_on", date), _opt("received_by", s(NAME)), _col("note", text),
    )  # fmt: skip
    _index(t, "follow_up_id")
    t = "payouts"
    op.create_table(
        t, *_id(t), *_agreement(t), *_organisation(t), _col("covers_from", date),
        _col("covers_to", date), _col("due_on", date), _col("amount_ore", money),
        _col("state", enum), _opt("blocked_reason", text), _opt("released_on", date),
        _opt("released_by", s(NAME)), _col("version", integer),
        _unique(t, "agreement_id", "organisation_id", "covers_from"),
    )  # fmt: skip
    _index(t, "state", "due_on")
    t = "repayment_claims"
    op.create_table(
        t, *_id(t), *_agreement(t), *_organisation(t), _col("kind", enum),
        _col("amount_ore", money), _col("basis", text), _col("raised_on", date),
        _col("due_on", date), _col("state", enum), _opt("settled_on", date),
        _opt("settled_by", s(NAME)), _col("version", integer),
        _unique(t, "agreement_id", "organisation_id", "kind"),
    )  # fmt: skip
    t = "amendments"
    op.create_table(
        t, *_id(t), *_agreement(t), _col("decided_on", date), _col("paragraph", s(32)),
        _col("description", text), _opt("new_end", date), _col("support_changes", sa.JSON()),
        _opt("recorded_by", s(NAME)),
    )  # fmt: skip
    _index(t, "agreement_id")
    t = "audit_log"
    op.create_table(
        t, *_id(t), _col("at", sa.DateTime(timezone=True)), _col("actor", s(NAME)),
        _col("role", s(64)), _opt("agreement_id", integer),
        _fk(t, "agreement_id", "agreements"),  # no cascade: the trail outlives nothing
        _col("entity", s(32)), _col("entity_key", s(64)), _col("trigger", s(64)),
        _col("from_state", s(64)), _col("to_state", s(64)), _col("reason", text),
        _col("data", sa.JSON()),
    )  # fmt: skip
    _index(t, "agreement_id")


def _create_audit_triggers() -> None:
    # op.get_context() rather than op.get_bind(): it also works for `alembic upgrade --sql`.
    dialect = op.get_context().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log "
                f"BEGIN SELECT RAISE(ABORT, '{APPEND_ONLY}'); END"
            )
    elif dialect == "postgresql":
        op.execute(
            "CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            f"BEGIN RAISE EXCEPTION '{APPEND_ONLY}'; END $$"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()"
        )
        op.execute(
            "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
            "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()"
        )
    else:
        # An audit log that silently accepts edits is worse than no start at all.
        raise NotImplementedError(f"no append-only triggers for dialect '{dialect}'")


def upgrade() -> None:
    _create_tables()
    _create_audit_triggers()


def downgrade() -> None:
    # Dropping a table drops its triggers; the PostgreSQL function goes separately.
    for table in (
        "audit_log", "amendments", "repayment_claims", "payouts", "follow_up_documents",
        "follow_ups", "signatures", "decisions", "other_income", "contributions",
        "year_support", "criteria_assessments", "agreement_parties", "agreements",
        "people", "organisations",
    ):  # fmt: skip
        op.drop_table(table)
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION audit_log_append_only()")
