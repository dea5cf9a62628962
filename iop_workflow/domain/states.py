"""State and kind enumerations shared by the domain, persistence and the CLI."""

from __future__ import annotations

from enum import StrEnum


class AgreementState(StrEnum):
    INITIATIVE = "initiative"
    DIALOGUE = "dialogue"
    ECONOMIC_PLAN = "economic_plan"
    DECISION = "decision"  # beredning and the nämnd's decision
    SIGNING = "signing"  # decision approved, waiting for both signatures
    ACTIVE = "active"
    RENEWAL = "renewal"  # renewal dialogue in the final year
    NOT_RENEWED = "not_renewed"  # a party declined renewal; runs to its end date
    ENDED = "ended"  # period over, not renewed; final report and claims may remain
    TERMINATED = "terminated"  # ended early (uppsägning)
    REPAYMENT = "repayment"  # a repayment claim (återkrav) is open
    CLOSED = "closed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class FollowUpState(StrEnum):
    PLANNED = "planned"
    OPEN = "open"
    OVERDUE = "overdue"
    SUBMITTED = "submitted"
    RETURNED = "returned"  # komplettering requested
    APPROVED = "approved"
    CANCELLED = "cancelled"


class PayoutState(StrEnum):
    PLANNED = "planned"
    BLOCKED = "blocked"
    RELEASED = "released"
    CANCELLED = "cancelled"


class DetailsState(StrEnum):
    """An organisation's payment details: proposed by one person, confirmed by another."""

    PROPOSED = "proposed"
    CONFIRMED = "confirmed"
    REJECTED = "rejected"
    SUPERSEDED = "superseded"  # confirmed once, replaced by newer confirmed details


class BatchState(StrEnum):
    """A payment batch on its way to the bank (domain/payment_batch.py)."""

    PREPARED = "prepared"
    ATTESTED = "attested"
    REJECTED = "rejected"
    EXPORTED = "exported"
    PAID = "paid"


class PaymentStage(StrEnum):
    """Where a released payout's money is: derived from its batch item, never stored."""

    RELEASED = "released"  # released, in no batch yet
    IN_BATCH = "in_batch"  # in a prepared or attested batch
    EXPORTED = "exported"  # in the payment file sent to the bank
    PAID = "paid"  # the bank (camt.054) or an officer says it was paid


class CancelCause(StrEnum):
    """Why a follow-up or a payout was cancelled (NULL while it is not cancelled).

    Only what the period cut comes back when a later step brings its year back.
    """

    PERIOD = "period"  # the schedule sync: the period no longer holds it (tilläggsavtal)
    TERMINATION = "termination"  # the agreement was terminated (uppsägning)
    MANUAL = "manual"  # cancel_follow_up / cancel_payout fired as a step of its own


class ClaimState(StrEnum):
    RAISED = "raised"
    OVERDUE = "overdue"
    PAID = "paid"
    OFFSET = "offset"  # kvittad against a later payout
    WRITTEN_OFF = "written_off"


class Role(StrEnum):
    OFFICER = "officer"  # handläggare
    MANAGER = "manager"
    SECRETARY = "secretary"  # nämndsekreterare
    ORG_REP = "organisation_representative"
    AUDITOR = "auditor"  # read-only
    SYSTEM = "system"  # the scheduled flows


class Verdict(StrEnum):
    MET = "met"
    PARTLY_MET = "partly_met"
    NOT_MET = "not_met"


class ContributionKind(StrEnum):
    MONEY = "money"
    VOLUNTEER_HOURS = "volunteer_hours"
    PREMISES = "premises"
    OTHER_IN_KIND = "other_in_kind"


class DecisionOutcome(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    RETURNED = "returned"


class DecisionKind(StrEnum):
    ENTRY = "entry"
    RENEWAL = "renewal"
    AMENDMENT = "amendment"


class DocumentKind(StrEnum):
    INCOME_STATEMENT = "income_statement"  # resultaträkning
    BALANCE_SHEET = "balance_sheet"  # balansräkning
    ACTIVITY_REPORT = "activity_report"  # verksamhetsberättelse
    STATISTICS = "statistics"  # the indicators the agreement names


class ClaimKind(StrEnum):
    TERMINATION = "termination"  # pro rata after early termination
    UNUSED = "unused"  # unused support found in the final report


class NotificationState(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


# --- state groups: each named once, read by the domain and the set-wise SQL alike ---

# The agreement runs its period: `end` and `terminate` fire from these.
LIVE_AGREEMENT = frozenset(
    {AgreementState.ACTIVE, AgreementState.RENEWAL, AgreementState.NOT_RENEWED}
)
# Not yet renewed or declined: renewal reminders and the renewal deadlines concern them.
RENEWABLE_AGREEMENT = frozenset({AgreementState.ACTIVE, AgreementState.RENEWAL})
# The payout gate may release money: every live state, and ended (the last payouts of a
# period can fall due after its end).
PAYING_AGREEMENT = LIVE_AGREEMENT | {AgreementState.ENDED}
# A report the organisation has still to hand in (reminders go out for these).
UNSUBMITTED_FOLLOW_UP = frozenset(
    {FollowUpState.PLANNED, FollowUpState.OPEN, FollowUpState.OVERDUE, FollowUpState.RETURNED}
)
# Nothing more is asked of the follow-up.
DONE_FOLLOW_UP = frozenset({FollowUpState.APPROVED, FollowUpState.CANCELLED})
# Opened and its report not accepted: overdue once its due date has passed.
AWAITING_REPORT = frozenset({FollowUpState.OPEN, FollowUpState.OVERDUE, FollowUpState.RETURNED})
# A payout not yet released or cancelled: money the agreement still owes or withholds.
OPEN_PAYOUT = frozenset({PayoutState.PLANNED, PayoutState.BLOCKED})
# A claim not yet paid, offset or written off.
OPEN_CLAIM = frozenset({ClaimState.RAISED, ClaimState.OVERDUE})
