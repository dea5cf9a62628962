"""The product's tables, as SQLAlchemy Core.

Everything here must mean the same on SQLite and PostgreSQL: no native ENUM types, no
JSONB, no dialect-only column types. The migration in `iop_workflow/migrations` creates
exactly this schema; `tests/integration/test_persistence.py` compares the two.

Each table's unique constraint is a "never twice" key of the product (one follow-up per
agreement and year, one payout per party and period, ...). The service layer relies on
them for idempotent sweeps, so they are declared explicitly with stable names.
"""

from __future__ import annotations

import sqlalchemy as sa

from ..domain import limits as L
from ..domain import states as st
from .columns import (
    JSON_DICT,
    JSON_DICT_OR_NULL,
    JSON_LIST,
    JSON_LIST_OR_NULL,
    NAME,
    UtcDateTime,
    agreement_id_column,
    enum_of,
    id_column,
    money_column,
    organisation_id_column,
    parent_id_column,
    version_column,
)

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)


organisations = sa.Table(
    "organisations",
    metadata,
    id_column(),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("organisationsnummer", sa.String(11), nullable=False),
    sa.Column("contact_name", sa.String(NAME), nullable=False),
    sa.Column("contact_email", sa.String(L.EMAIL), nullable=False),
    sa.Column("contact_phone", sa.String(L.PHONE)),
    sa.Column("forening_registered", sa.Boolean, nullable=False, default=False),
    sa.Column("forening_register_ref", sa.String(L.REGISTER_REF)),
    sa.Column("forening_registered_on", sa.Date),
    sa.UniqueConstraint("organisationsnummer"),
)

people = sa.Table(
    "people",
    metadata,
    id_column(),
    sa.Column("name", sa.String(NAME), nullable=False),
    sa.Column("role", enum_of(st.Role), nullable=False),
    sa.Column("email", sa.String(L.EMAIL)),
    sa.Column("municipality", sa.String(L.MUNICIPALITY)),
    sa.Column(
        "organisation_id", sa.Integer, sa.ForeignKey("organisations.id", ondelete="SET NULL")
    ),
    sa.Column("manager", sa.String(NAME)),
    # One e-mail a day listing all of the person's notifications instead of one each.
    sa.Column("digest", sa.Boolean, nullable=False, default=False, server_default=sa.false()),
    # A person who has left keeps their history but can no longer act or be notified.
    sa.Column("active", sa.Boolean, nullable=False, default=True, server_default=sa.true()),
    sa.Column("deactivated_on", sa.Date),
    sa.UniqueConstraint("name"),
)

# Core users: `agreements.c.values` is ColumnCollection.values(); write `c["values"]`.
agreements = sa.Table(
    "agreements",
    metadata,
    id_column(),
    sa.Column("diarienummer", sa.String(L.DIARIENUMMER), nullable=False),
    sa.Column("municipality", sa.String(L.MUNICIPALITY), nullable=False, index=True),
    sa.Column("committee", sa.String(NAME), nullable=False),
    sa.Column("title", sa.String(L.TITLE), nullable=False),
    sa.Column("purpose", sa.Text, nullable=False),
    sa.Column("target_group", sa.Text, nullable=False),
    sa.Column("start", sa.Date, nullable=False),
    sa.Column("end", sa.Date, nullable=False),
    sa.Column("officer", sa.String(NAME), nullable=False, index=True),
    sa.Column(
        "state", enum_of(st.AgreementState), nullable=False, index=True, default="initiative"
    ),
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("goals", sa.Text, nullable=False, default=""),
    sa.Column("values", sa.Text, nullable=False, default=""),
    sa.Column("indicators", JSON_LIST, nullable=False),
    sa.Column("repayment_terms", sa.Text, nullable=False, default=""),
    sa.Column("renewal_terms", sa.Text, nullable=False, default=""),
    sa.Column("payout_dates", JSON_LIST_OR_NULL),
    sa.Column("report_due", sa.String(5)),
    # The plan the nämnd decided ({"per_year": 4} or {"dates": [...]}); NULL: the preset's.
    sa.Column("payout_plan", JSON_DICT_OR_NULL),
    sa.Column("dialogue_forum", sa.String(NAME)),
    sa.Column("dialogue_held_on", sa.Date),
    sa.Column("dialogue_minutes_ref", sa.String(L.REGISTER_REF)),
    sa.Column("first_start", sa.Date),
    sa.Column("period_no", sa.Integer, nullable=False, default=1),
    sa.Column("terminated_on", sa.Date),
    sa.Column("termination_reason", sa.Text),
    sa.Column("renewal_declined_by", sa.String(NAME)),
    version_column(),
    sa.UniqueConstraint("diarienummer"),
    # The sweep's "active and past its end" and the renewal reminders (migration 0011).
    sa.Index("ix_agreements_state_end", "state", "end"),
)

agreement_parties = sa.Table(
    "agreement_parties",
    metadata,
    id_column(),
    agreement_id_column(),
    organisation_id_column(),
    sa.Column("share_bp", sa.Integer, nullable=False),
    sa.UniqueConstraint("agreement_id", "organisation_id"),
    # An organisation's agreements (what its representatives see; migration 0008).
    sa.Index("ix_agreement_parties_organisation_id", "organisation_id"),
)

criteria_assessments = sa.Table(
    "criteria_assessments",
    metadata,
    id_column(),
    agreement_id_column(),
    sa.Column("criterion", sa.String(L.CRITERION), nullable=False),
    sa.Column("verdict", enum_of(st.Verdict), nullable=False),
    sa.Column("motivation", sa.Text, nullable=False),
    sa.Column("assessed_by", sa.String(NAME)),
    sa.Column("assessed_on", sa.Date),
    sa.UniqueConstraint("agreement_id", "criterion"),
)

year_support = sa.Table(
    "year_support",
    metadata,
    id_column(),
    agreement_id_column(),
    sa.Column("year", sa.Integer, nullable=False),
    money_column("amount_ore"),
    sa.UniqueConstraint("agreement_id", "year"),
)

contributions = sa.Table(
    "contributions",
    metadata,
    id_column(),
    agreement_id_column(index=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("kind", enum_of(st.ContributionKind), nullable=False),
    money_column("amount_ore"),
    sa.Column("hours", sa.Integer),
    sa.Column("description", sa.Text, nullable=False, default=""),
)

other_income = sa.Table(
    "other_income",
    metadata,
    id_column(),
    agreement_id_column(index=True),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("source", sa.String(NAME), nullable=False),
    money_column("amount_ore"),
)

decisions = sa.Table(
    "decisions",
    metadata,
    id_column(),
    agreement_id_column(index=True),
    sa.Column("kind", enum_of(st.DecisionKind), nullable=False),
    sa.Column("body", sa.String(NAME), nullable=False),
    sa.Column("meeting_date", sa.Date, nullable=False),
    sa.Column("paragraph", sa.String(L.PARAGRAPH), nullable=False),
    sa.Column("outcome", enum_of(st.DecisionOutcome), nullable=False),
    sa.Column("minutes_adjusted_on", sa.Date),
    sa.Column("recorded_by", sa.String(NAME)),
    sa.Column("period_no", sa.Integer, nullable=False, default=1),
)

signatures = sa.Table(
    "signatures",
    metadata,
    id_column(),
    agreement_id_column(),
    sa.Column("party", sa.String(L.PARTY), nullable=False),
    sa.Column("signed_on", sa.Date, nullable=False),
    sa.Column("signed_by", sa.String(NAME), nullable=False),
    sa.Column("period_no", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("agreement_id", "party", "period_no"),
)

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    id_column(),
    agreement_id_column(),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("opens_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("state", enum_of(st.FollowUpState), nullable=False, default="planned"),
    sa.Column("submitted_by", sa.String(NAME)),
    sa.Column("submitted_on", sa.Date),
    sa.Column("reviewed_by", sa.String(NAME)),
    sa.Column("reviewed_on", sa.Date),
    sa.Column("return_reason", sa.Text),
    sa.Column("statistics", JSON_DICT, nullable=False),
    # Where and when the follow-up was reviewed (the forum's meeting and its minutes).
    sa.Column("forum", sa.String(NAME)),
    sa.Column("meeting_on", sa.Date),
    sa.Column("minutes_ref", sa.String(L.REGISTER_REF)),
    # Why it was cancelled (period, termination, manual); NULL unless cancelled, and for
    # rows cancelled before migration 0004.
    sa.Column("cancel_cause", enum_of(st.CancelCause)),
    version_column(),
    sa.UniqueConstraint("agreement_id", "year"),
    sa.Index("ix_follow_ups_state_due_on", "state", "due_on"),
    # The sweep's "planned and opening today or before": a day with nothing due reads
    # nothing (migration 0011).
    sa.Index("ix_follow_ups_state_opens_on", "state", "opens_on"),
)

follow_up_documents = sa.Table(
    "follow_up_documents",
    metadata,
    id_column(),
    parent_id_column("follow_up_id", "follow_ups", index=True),
    sa.Column("kind", enum_of(st.DocumentKind), nullable=False),
    sa.Column("arrived_on", sa.Date, nullable=False),
    sa.Column("received_by", sa.String(NAME)),
    sa.Column("note", sa.Text, nullable=False, default=""),
)

payouts = sa.Table(
    "payouts",
    metadata,
    id_column(),
    agreement_id_column(),
    organisation_id_column(),
    sa.Column("covers_from", sa.Date, nullable=False),
    sa.Column("covers_to", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    money_column("amount_ore"),
    sa.Column("state", enum_of(st.PayoutState), nullable=False, default="planned"),
    sa.Column("blocked_reason", sa.Text),
    sa.Column("released_on", sa.Date),
    sa.Column("released_by", sa.String(NAME)),
    sa.Column("cancel_cause", enum_of(st.CancelCause)),  # as follow_ups.cancel_cause
    version_column(),
    sa.UniqueConstraint("agreement_id", "organisation_id", "covers_from"),
    sa.Index("ix_payouts_state_due_on", "state", "due_on"),
)

# The money of the payouts per municipality, year of `due_on` and state: the sum and the
# count that adapters/payout_money.py's `summed` GROUP BY gives, kept equal to it by the
# database's triggers (migration 0012) whatever statement changes a payout, so the
# portfolio reads a few rows instead of summing every payout. A group with no payout
# has no row.
payout_money = sa.Table(
    "payout_money",
    metadata,
    sa.Column("municipality", sa.String(L.MUNICIPALITY), primary_key=True),
    sa.Column("year", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("state", enum_of(st.PayoutState), primary_key=True),
    money_column("amount_ore"),
    sa.Column("payouts", sa.Integer, nullable=False),
)

# PostgreSQL only (empty on SQLite): what a transaction changed in `payout_money`, one
# row per statement and group, folded into it when the transaction commits (so no
# transaction holds a totals row from its first change to its commit). Never holds a
# committed row.
payout_money_pending = sa.Table(
    "payout_money_pending",
    metadata,
    id_column(),
    sa.Column("municipality", sa.String(L.MUNICIPALITY), nullable=False),
    sa.Column("year", sa.Integer, nullable=False),
    sa.Column("state", enum_of(st.PayoutState), nullable=False),
    money_column("amount_ore"),
    sa.Column("payouts", sa.Integer, nullable=False),
)

repayment_claims = sa.Table(
    "repayment_claims",
    metadata,
    id_column(),
    agreement_id_column(),
    organisation_id_column(),
    sa.Column("kind", enum_of(st.ClaimKind), nullable=False),
    money_column("amount_ore"),
    sa.Column("basis", sa.Text, nullable=False),
    sa.Column("raised_on", sa.Date, nullable=False),
    sa.Column("due_on", sa.Date, nullable=False),
    sa.Column("state", enum_of(st.ClaimState), nullable=False, default="raised"),
    sa.Column("settled_on", sa.Date),
    sa.Column("settled_by", sa.String(NAME)),
    version_column(),
    sa.UniqueConstraint("agreement_id", "organisation_id", "kind"),
    sa.Index("ix_repayment_claims_state_due_on", "state", "due_on"),
)

amendments = sa.Table(
    "amendments",
    metadata,
    id_column(),
    agreement_id_column(index=True),
    sa.Column("decided_on", sa.Date, nullable=False),
    sa.Column("paragraph", sa.String(L.PARAGRAPH), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("new_end", sa.Date),
    sa.Column("support_changes", JSON_DICT, nullable=False),
    sa.Column("new_payout_plan", JSON_DICT_OR_NULL),
    sa.Column("recorded_by", sa.String(NAME)),
)

# Append-only (triggers in the migration refuse UPDATE and DELETE). The foreign key has no
# ON DELETE: an agreement with a history cannot be deleted, its trail must outlive it.
audit_log = sa.Table(
    "audit_log",
    metadata,
    id_column(),
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Column("actor", sa.String(NAME), nullable=False),
    sa.Column("role", sa.String(64), nullable=False),
    sa.Column("agreement_id", sa.Integer, sa.ForeignKey("agreements.id"), index=True),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_key", sa.String(64), nullable=False),
    sa.Column("trigger", sa.String(64), nullable=False),
    sa.Column("from_state", sa.String(64), nullable=False),
    sa.Column("to_state", sa.String(64), nullable=False),
    sa.Column("reason", sa.Text, nullable=False, default=""),
    sa.Column("data", sa.JSON, nullable=False),
    # Through what the change came (cli, flow, import, ...; domain/roles.py Origin), who
    # ran it where when known, and the business day it acted on. NULL before 0005.
    sa.Column("channel", sa.String(16)),
    sa.Column("os_user", sa.String(NAME)),
    sa.Column("host", sa.String(255)),
    sa.Column("effective_date", sa.Date),
    # The hash chain (domain/audit_chain.py; adapters/audit_chain.py writes it): the
    # record's place, the previous record's hash and its own. Nullable so that a row
    # written around the application is stored, and then named by `iop audit verify`.
    sa.Column("seq", sa.Integer),
    sa.Column("prev_hash", sa.String(64)),
    sa.Column("hash", sa.String(64)),
    sa.Index("ix_audit_log_seq", "seq", unique=True),
)

# The head of the audit chain: one row ("audit_log") with the newest record's place and
# hash. Every writer reads it FOR UPDATE and moves it in the transaction that appends.
audit_chain = sa.Table(
    "audit_chain",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("hash", sa.String(64), nullable=False),
)

# The outbox: a reminder or notice exists once per (agreement, kind, subject date, stage),
# however often the flows run; it is written in the transaction that finds it due.
notifications = sa.Table(
    "notifications",
    metadata,
    id_column(),
    agreement_id_column(),
    sa.Column("kind", sa.String(40), nullable=False),
    sa.Column("subject_date", sa.Date, nullable=False),
    sa.Column("stage", sa.String(40), nullable=False),
    sa.Column("recipients", sa.JSON, nullable=False),  # roles: organisation, officer, ...
    sa.Column("facts", sa.JSON, nullable=False),  # what the message says (year, reason, ...)
    sa.Column("state", enum_of(st.NotificationState), nullable=False, default="pending"),
    sa.Column("created_on", sa.Date, nullable=False),  # the business day that found it due
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("next_attempt_at", UtcDateTime()),
    sa.Column("last_error", sa.Text),
    sa.Column("sent_at", UtcDateTime()),
    sa.UniqueConstraint("agreement_id", "kind", "subject_date", "stage"),
    sa.Index("ix_notifications_state_next_attempt_at", "state", "next_attempt_at"),
)

# Each target's result per delivery attempt of a notification. A target with an ok row
# is never sent again; `digest_on` marks the one digest e-mail a person gets per day.
notification_deliveries = sa.Table(
    "notification_deliveries",
    metadata,
    id_column(),
    parent_id_column("notification_id", "notifications", index=True),
    sa.Column("attempt", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),  # email, teams, none (unroutable)
    sa.Column("target", sa.String(320), nullable=False),  # an address or a channel key
    sa.Column("digest_on", sa.Date),
    sa.Column("ok", sa.Boolean, nullable=False),
    sa.Column("error", sa.Text),  # redacted: never a secret
    sa.Column("at", UtcDateTime(), nullable=False),
    sa.Index("ix_notification_deliveries_target_digest_on", "target", "digest_on"),
)

# How far the audit log has been published as Prefect events (one row per publisher).
event_cursor = sa.Table(
    "event_cursor",
    metadata,
    sa.Column("name", sa.String(40), primary_key=True),
    sa.Column("last_audit_id", sa.Integer, nullable=False),
)

# Facts about this database itself, e.g. `sandbox` (iop_workflow/clock.py; migration 0006).
installation = sa.Table(
    "installation",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", sa.String(200), nullable=False),
    sa.Column("set_at", UtcDateTime(), nullable=False),
)

# --- who may sign in (issue 12; migration 0008) ---------------------------------------
# Kept apart from `people` so the register's rows and their audit stay what they were.

# A person's local password (argon2 hash) and the identity provider's subject.
credentials = sa.Table(
    "credentials",
    metadata,
    sa.Column(
        "person_id",
        sa.Integer,
        sa.ForeignKey("people.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("password_hash", sa.String(200)),
    sa.Column("oidc_subject", sa.String(255)),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("oidc_subject"),
)

# API bearer tokens: only the SHA-256 of the token is kept; the token acts as its person.
api_tokens = sa.Table(
    "api_tokens",
    metadata,
    id_column(),
    sa.Column(
        "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("label", sa.String(NAME), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime()),
    sa.Column("last_used_at", UtcDateTime()),
    sa.UniqueConstraint("token_hash"),
)

# The secret address of a person's calendar feed (SHA-256 of the secret); revocable.
calendar_feeds = sa.Table(
    "calendar_feeds",
    metadata,
    id_column(),
    sa.Column(
        "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("secret_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime(), nullable=False),
    sa.Column("revoked_at", UtcDateTime()),
    sa.UniqueConstraint("secret_hash"),
)

# Failed sign-ins per user name, for the throttle (shared by every web process).
login_throttle = sa.Table(
    "login_throttle",
    metadata,
    sa.Column("username", sa.String(NAME), primary_key=True),
    sa.Column("failures", sa.Integer, nullable=False),
    sa.Column("first_failure_at", UtcDateTime(), nullable=False),
    sa.Column("locked_until", UtcDateTime()),
)

# An organisation's annual report as it hands it in (issue 13). A file is uploaded into
# the report's draft (`submission` NULL; one per document type, a new upload replacing
# it) and becomes part of submission N when the report is submitted; submitted files
# are never changed or removed, so every version stays. The bytes are in the document
# store under `sha256`.
report_files = sa.Table(
    "report_files",
    metadata,
    id_column(),
    parent_id_column("follow_up_id", "follow_ups", index=True),
    sa.Column("kind", enum_of(st.DocumentKind), nullable=False),
    sa.Column("filename", sa.String(L.FILENAME), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size_bytes", sa.BigInteger, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("uploaded_by", sa.String(NAME), nullable=False),
    sa.Column("uploaded_at", UtcDateTime(), nullable=False),
    sa.Column("submission", sa.Integer),
    sa.Index(
        "uq_report_files_draft_kind",
        "follow_up_id",
        "kind",
        unique=True,
        sqlite_where=sa.text("submission IS NULL"),
        postgresql_where=sa.text("submission IS NULL"),
    ),
)

# The statistics of a report's draft, saved before it is submitted.
report_drafts = sa.Table(
    "report_drafts",
    metadata,
    sa.Column(
        "follow_up_id",
        sa.Integer,
        sa.ForeignKey("follow_ups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("statistics", JSON_DICT, nullable=False),
    sa.Column("updated_by", sa.String(NAME), nullable=False),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
)

# Each time a report is submitted: the receipt's facts (the files are the report_files
# of that submission).
report_submissions = sa.Table(
    "report_submissions",
    metadata,
    id_column(),
    parent_id_column("follow_up_id", "follow_ups"),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("statistics", JSON_DICT, nullable=False),
    sa.Column("submitted_by", sa.String(NAME), nullable=False),
    sa.Column("submitted_at", UtcDateTime(), nullable=False),
    sa.UniqueConstraint("follow_up_id", "number"),
)

# The further organisations an organisation representative speaks for, besides
# `people.organisation_id` (someone on the boards of two associations).
representations = sa.Table(
    "representations",
    metadata,
    sa.Column(
        "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "organisation_id",
        sa.Integer,
        sa.ForeignKey("organisations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
)

# --- payments (issue 14) -------------------------------------------------------------

# Where an organisation is paid: proposed by one person, confirmed by another. At most
# one confirmed and one proposed row per organisation; older ones stay as history.
payment_details = sa.Table(
    "payment_details",
    metadata,
    id_column(),
    organisation_id_column(),
    sa.Column("kind", sa.String(16), nullable=False),  # bankgiro | plusgiro | bank_account
    sa.Column("clearing", sa.String(5)),
    sa.Column("number", sa.String(20), nullable=False),
    sa.Column("state", enum_of(st.DetailsState), nullable=False),
    sa.Column("proposed_by", sa.String(NAME), nullable=False),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("decided_by", sa.String(NAME)),
    sa.Column("decided_at", UtcDateTime()),
    sa.Column("reason", sa.Text),
    sa.Index(
        "uq_payment_details_confirmed",
        "organisation_id",
        unique=True,
        sqlite_where=sa.text("state = 'confirmed'"),
        postgresql_where=sa.text("state = 'confirmed'"),
    ),
    sa.Index(
        "uq_payment_details_proposed",
        "organisation_id",
        unique=True,
        sqlite_where=sa.text("state = 'proposed'"),
        postgresql_where=sa.text("state = 'proposed'"),
    ),
)

# Who may attest payment batches of a municipality (its policy key), up to what total.
attest_rights = sa.Table(
    "attest_rights",
    metadata,
    sa.Column(
        "person_id", sa.Integer, sa.ForeignKey("people.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("municipality", sa.String(L.MUNICIPALITY), primary_key=True),
    money_column("limit_ore"),
    sa.Column("granted_by", sa.String(NAME), nullable=False),
    sa.Column("granted_at", UtcDateTime(), nullable=False),
)

payment_batches = sa.Table(
    "payment_batches",
    metadata,
    id_column(),
    sa.Column("municipality", sa.String(L.MUNICIPALITY), nullable=False),
    sa.Column("state", enum_of(st.BatchState), nullable=False),
    sa.Column("as_of", sa.Date, nullable=False),
    sa.Column("execution_date", sa.Date, nullable=False),
    money_column("total_ore"),
    sa.Column("item_count", sa.Integer, nullable=False),
    sa.Column("prepared_by", sa.String(NAME), nullable=False),
    sa.Column("prepared_at", UtcDateTime(), nullable=False),
    sa.Column("attested_by", sa.String(NAME)),
    sa.Column("attested_at", UtcDateTime()),
    sa.Column("rejected_by", sa.String(NAME)),
    sa.Column("rejected_reason", sa.Text),
    sa.Column("exported_by", sa.String(NAME)),
    sa.Column("exported_at", UtcDateTime()),
    sa.Column("paid_on", sa.Date),
    version_column(),
    sa.Index("ix_payment_batches_municipality_state", "municipality", "state"),
)

# One released payout in one batch, with what the payment file says about it (a
# snapshot: details changed later do not rewrite a file already sent). A payout is in
# at most one batch that is not withdrawn (a rejected batch withdraws its items).
batch_items = sa.Table(
    "batch_items",
    metadata,
    id_column(),
    parent_id_column("batch_id", "payment_batches", index=True),
    sa.Column("payout_id", sa.Integer, sa.ForeignKey("payouts.id"), nullable=False),
    money_column("amount_ore"),
    sa.Column("end_to_end_id", sa.String(35), nullable=False),
    sa.Column("creditor_name", sa.String(NAME), nullable=False),
    sa.Column("creditor_kind", sa.String(16), nullable=False),
    sa.Column("creditor_clearing", sa.String(5)),
    sa.Column("creditor_number", sa.String(20), nullable=False),
    sa.Column("remittance", sa.String(140), nullable=False),
    sa.Column("paid_on", sa.Date),
    sa.Column("paid_by", sa.String(NAME)),
    sa.Column("withdrawn_at", UtcDateTime()),
    sa.UniqueConstraint("end_to_end_id"),
    sa.Index(
        "uq_batch_items_active_payout",
        "payout_id",
        unique=True,
        sqlite_where=sa.text("withdrawn_at IS NULL"),
        postgresql_where=sa.text("withdrawn_at IS NULL"),
    ),
)

TABLES: dict[str, sa.Table] = dict(metadata.tables)
