"""Plain domain classes. The ORM maps them from the outside (adapters/orm.py).

Money is always whole öre (int). Dates are `datetime.date` in Swedish local time;
instants (audit, signing time) are aware UTC `datetime`s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from .states import (
    AgreementState,
    CancelCause,
    ClaimKind,
    ClaimState,
    ContributionKind,
    DecisionKind,
    DecisionOutcome,
    DocumentKind,
    FollowUpState,
    PayoutState,
    Role,
    Verdict,
)

MUNICIPALITY_PARTY = "municipality"


@dataclass(eq=False)
class Organisation:
    """An idéburen organisation (förening)."""

    name: str
    organisationsnummer: str  # normalised NNNNNN-NNNN, check digit verified
    contact_name: str
    contact_email: str
    contact_phone: str | None = None
    forening_registered: bool = False  # in the municipality's föreningsregister
    forening_register_ref: str | None = None
    forening_registered_on: date | None = None  # the day of the register entry
    id: int | None = None


@dataclass(eq=False)
class Person:
    """Someone who fires steps: officer, manager, secretary, org representative, auditor."""

    name: str
    role: Role
    email: str | None = None
    municipality: str | None = None  # policy key the person works for (staff)
    organisation_id: int | None = None  # for organisation representatives
    manager: str | None = None  # an officer's manager, for escalations
    digest: bool = False  # one e-mail a day listing all notifications, not one each
    # A person who has left keeps their history but can no longer act or be notified.
    active: bool = True
    deactivated_on: date | None = None
    id: int | None = None


@dataclass(eq=False)
class Party:
    """An organisation that is party to an agreement, with its share of the support."""

    organisation: Organisation
    share_bp: int = 10_000  # basis points of the municipal support; all parties sum to 10 000
    organisation_id: int | None = None
    id: int | None = None


@dataclass(eq=False)
class CriterionAssessment:
    criterion: str  # key from the municipality's criteria list
    verdict: Verdict
    motivation: str
    assessed_by: str | None = None
    assessed_on: date | None = None
    id: int | None = None


@dataclass(eq=False)
class YearSupport:
    """Municipal support (ekonomiskt stöd) for the part of `year` inside the period."""

    year: int
    amount_ore: int
    id: int | None = None


@dataclass(eq=False)
class Contribution:
    """The organisation's own contribution (egna insatser), valued in SEK."""

    year: int
    kind: ContributionKind
    amount_ore: int
    hours: int | None = None  # volunteer hours behind a volunteer_hours valuation
    description: str = ""
    id: int | None = None


@dataclass(eq=False)
class OtherIncome:
    year: int
    source: str
    amount_ore: int
    id: int | None = None


@dataclass(eq=False)
class Decision:
    """A nämnd decision (beslut): entry, renewal or amendment (tilläggsavtal)."""

    kind: DecisionKind
    body: str
    meeting_date: date
    paragraph: str  # "§ 151"
    outcome: DecisionOutcome
    minutes_adjusted_on: date | None = None  # justering
    recorded_by: str | None = None
    period_no: int = 1
    id: int | None = None


@dataclass(eq=False)
class Signature:
    party: str  # MUNICIPALITY_PARTY or an organisationsnummer
    signed_on: date
    signed_by: str
    period_no: int = 1
    id: int | None = None


@dataclass(eq=False)
class FollowUpDocument:
    kind: DocumentKind
    arrived_on: date
    received_by: str | None = None
    note: str = ""
    id: int | None = None


@dataclass(eq=False)
class FollowUp:
    """The yearly follow-up (uppföljning) of one calendar year of the agreement."""

    year: int
    opens_on: date
    due_on: date
    state: FollowUpState = FollowUpState.PLANNED
    submitted_by: str | None = None
    submitted_on: date | None = None
    reviewed_by: str | None = None
    reviewed_on: date | None = None
    return_reason: str | None = None
    statistics: dict[str, int] = field(default_factory=dict)  # aggregated counts only
    forum: str | None = None  # where the review was held (the preset's forum, e.g.)
    meeting_on: date | None = None
    minutes_ref: str | None = None  # the minutes' reference (protokoll)
    documents: list[FollowUpDocument] = field(default_factory=list)
    cancel_cause: CancelCause | None = None  # why it was cancelled; None unless cancelled
    agreement_id: int | None = None
    version: int = 0
    id: int | None = None


@dataclass(eq=False)
class Payout:
    """One instalment (utbetalning) to one party organisation."""

    organisation_id: int
    covers_from: date
    covers_to: date
    due_on: date  # banking-day adjusted
    amount_ore: int
    state: PayoutState = PayoutState.PLANNED
    blocked_reason: str | None = None
    released_on: date | None = None
    released_by: str | None = None
    cancel_cause: CancelCause | None = None  # why it was cancelled; None unless cancelled
    agreement_id: int | None = None
    version: int = 0
    id: int | None = None


@dataclass(eq=False)
class RepaymentClaim:
    """A repayment claim (återkrav) against one party organisation."""

    organisation_id: int
    kind: ClaimKind
    amount_ore: int
    basis: str  # how the amount was computed, in words and numbers
    raised_on: date
    due_on: date
    state: ClaimState = ClaimState.RAISED
    settled_on: date | None = None
    settled_by: str | None = None
    agreement_id: int | None = None
    version: int = 0
    id: int | None = None


@dataclass(eq=False)
class Amendment:
    """A tilläggsavtal: a decided change of the plan or period while active."""

    decided_on: date
    paragraph: str
    description: str
    new_end: date | None = None
    support_changes: dict[str, int] = field(default_factory=dict)  # "YYYY" -> öre
    new_payout_plan: dict[str, Any] | None = None  # as Agreement.payout_plan
    recorded_by: str | None = None
    id: int | None = None


@dataclass(eq=False)
class Agreement:
    """An IOP agreement (överenskommelse) and everything recorded about it."""

    diarienummer: str
    municipality: str  # policy key, e.g. "mjolby"
    committee: str  # responsible nämnd
    title: str
    purpose: str
    target_group: str
    start: date  # current period
    end: date  # inclusive
    officer: str  # the responsible handläggare (a Person name)
    state: AgreementState = AgreementState.INITIATIVE
    description: str = ""
    goals: str = ""  # målbild
    values: str = ""  # värdegrund
    indicators: list[str] = field(default_factory=list)
    repayment_terms: str = ""
    renewal_terms: str = ""
    payout_dates: list[str] | None = None  # per-agreement override, "MM-DD"
    report_due: str | None = None  # per-agreement override, "MM-DD" of the next year
    # The payout plan the nämnd decided: {"per_year": 1|2|4|12} or {"dates": [ISO, ...]};
    # None keeps the preset's plan (domain/payout_plan.py).
    payout_plan: dict[str, Any] | None = None
    dialogue_forum: str | None = None  # where and when the dialogue was held
    dialogue_held_on: date | None = None
    dialogue_minutes_ref: str | None = None
    first_start: date | None = None  # start of the first period (kept across renewals)
    period_no: int = 1
    terminated_on: date | None = None
    termination_reason: str | None = None
    renewal_declined_by: str | None = None
    parties: list[Party] = field(default_factory=list)
    assessments: list[CriterionAssessment] = field(default_factory=list)
    support: list[YearSupport] = field(default_factory=list)
    contributions: list[Contribution] = field(default_factory=list)
    other_income: list[OtherIncome] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    signatures: list[Signature] = field(default_factory=list)
    follow_ups: list[FollowUp] = field(default_factory=list)
    payouts: list[Payout] = field(default_factory=list)
    claims: list[RepaymentClaim] = field(default_factory=list)
    amendments: list[Amendment] = field(default_factory=list)
    version: int = 0
    id: int | None = None

    @property
    def origin(self) -> date:
        """The first day of the first period: follow-ups count from here."""
        return self.first_start or self.start

    def support_for(self, year: int) -> int:
        return sum(s.amount_ore for s in self.support if s.year == year)

    def follow_up(self, year: int) -> FollowUp | None:
        return next((f for f in self.follow_ups if f.year == year), None)


@dataclass(eq=False)
class AuditRecord:
    """One append-only line of the audit trail: exactly one per state change."""

    at: datetime
    actor: str
    role: str
    agreement_id: int | None
    entity: str  # "agreement", "follow_up", "payout", "claim"
    entity_key: str  # e.g. "2027" for a follow-up, the payout id
    trigger: str
    from_state: str
    to_state: str
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None
    # Through what the change came (roles.Origin; NULL for records before migration 0005)
    # and the business day it acted on.
    channel: str | None = None
    os_user: str | None = None
    host: str | None = None
    effective_date: date | None = None
    # The hash chain (domain/audit_chain.py), set by the writer when the record is stored.
    seq: int | None = None
    prev_hash: str | None = None
    hash: str | None = None
