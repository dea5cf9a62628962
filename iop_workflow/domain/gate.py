"""The payout gate (iop-rules §3): when may an instalment be released?

Every payout in year Y+1 needs the follow-up for year Y approved; payouts in the
agreement's first calendar year need only the approving decision and the signatures.

The gate is decided once, by `decide`, on plain facts (`GateFacts`): the domain
builds them from its objects (`gate_block`), the set-wise payout run from SQL rows,
so both give the same answer. The answer is a structured `GateBlock`; its `reason`
is the text people read and nothing ever parses it.
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Any

from .model import MUNICIPALITY_PARTY, Agreement, Payout
from .states import PAYING_AGREEMENT, AgreementState, DecisionKind, DecisionOutcome, FollowUpState

PAYING_STATES = PAYING_AGREEMENT

# A payout covering year Y depends on the follow-up of year Y + GATE_YEAR_OFFSET.
GATE_YEAR_OFFSET = -1
# The approving decision and the signatures the gate asks for: those of the first period.
GATE_PERIOD = 1


def gate_year(covers_from: date) -> int:
    """The follow-up year a payout covering from `covers_from` depends on."""
    return covers_from.year + GATE_YEAR_OFFSET


def approving_kinds(period_no: int) -> frozenset[DecisionKind]:
    """The decision kinds that approve period `period_no`: entry first, renewal after."""
    return frozenset({DecisionKind.ENTRY} if period_no == 1 else {DecisionKind.RENEWAL})


def has_approving_decision(agreement: Agreement, period_no: int | None = None) -> bool:
    period = agreement.period_no if period_no is None else period_no
    kinds = approving_kinds(period)
    return any(
        d.outcome is DecisionOutcome.APPROVED and d.kind in kinds and d.period_no == period
        for d in agreement.decisions
    )


def missing_signatures(agreement: Agreement, period_no: int = 1) -> list[str]:
    """The parties (municipality or orgnr) that have not signed period `period_no`."""
    needed = [MUNICIPALITY_PARTY] + [p.organisation.organisationsnummer for p in agreement.parties]
    signed = {s.party for s in agreement.signatures if s.period_no == period_no}
    return [party for party in needed if party not in signed]


def display_party(party: str, organisation_name: str | None) -> str:
    """A signing party as people read it: "municipality", or the organisation's name with
    its organisationsnummer in brackets."""
    return party if organisation_name is None else f"{organisation_name} ({party})"


def party_name(agreement: Agreement, party: str) -> str:
    for p in agreement.parties:
        if p.organisation.organisationsnummer == party:
            return display_party(party, p.organisation.name)
    return display_party(party, None)


class GateKind(StrEnum):
    NOT_PAYING = "agreement_not_paying"
    NO_DECISION = "no_approving_decision"
    NOT_SIGNED = "not_signed"
    FOLLOW_UP_MISSING = "follow_up_missing"
    FOLLOW_UP_NOT_APPROVED = "follow_up_not_approved"


@dataclass(frozen=True)
class GateFacts:
    """What the gate reads about one payout, as plain values."""

    diarienummer: str
    agreement_state: AgreementState
    origin_year: int
    approved: bool  # an approving decision of GATE_PERIOD exists
    unsigned: tuple[str, ...]  # display names of the parties missing from GATE_PERIOD
    covers_from: date
    follow_up_state: FollowUpState | None  # of the gate year; None: there is none
    follow_up_due: date | None


@dataclass(frozen=True)
class GateBlock:
    """Why a payout may not be released now, and what unblocks it."""

    kind: GateKind
    condition: str  # what holds the payout back, alone (log lines show only this)
    remedy: str | None = None  # what releases it, when the condition does not say
    follow_up_year: int | None = None
    follow_up_state: FollowUpState | None = None
    report_due: date | None = None
    agreement_state: AgreementState | None = None  # NOT_PAYING: the state that pays nothing
    unsigned: tuple[str, ...] = ()  # NOT_SIGNED: the parties, as people read them

    def facts(self) -> dict[str, Any]:
        """The block as plain JSON values: a notice keeps these, and its Swedish text is
        written from them (domain/wording.py), never from `reason`."""
        return {
            "kind": self.kind.value,
            "follow_up_year": self.follow_up_year,
            "follow_up_state": None if self.follow_up_state is None else self.follow_up_state.value,
            "report_due": None if self.report_due is None else self.report_due.isoformat(),
            "agreement_state": None if self.agreement_state is None else self.agreement_state.value,
            "unsigned": list(self.unsigned),
        }

    @property
    def reason(self) -> str:
        """The text people read (stored as the payout's blocked reason)."""
        return self.condition if self.remedy is None else f"{self.condition}; {self.remedy}"

    @property
    def unblocks(self) -> str:
        if self.follow_up_year is not None:
            return f"approval of follow-up {self.follow_up_year}"
        return self.reason


UNBLOCKED = "the gate holds now: released by the next payout run"


def unblocks(block: GateBlock | None) -> str:
    """What releases a payout: the block's remedy, or the next run when the gate holds."""
    return UNBLOCKED if block is None else block.unblocks


def decide(facts: GateFacts) -> GateBlock | None:
    """None when the gate holds; otherwise the block, its reason naming what unblocks it."""
    state = facts.agreement_state
    if state not in PAYING_STATES:
        return GateBlock(
            GateKind.NOT_PAYING,
            f"agreement {facts.diarienummer} is {state.value}",
            "nothing is paid",
            agreement_state=state,
        )
    if not facts.approved:
        return GateBlock(GateKind.NO_DECISION, "no approving nämnd decision is recorded")
    if facts.unsigned:
        return GateBlock(
            GateKind.NOT_SIGNED,
            f"agreement not signed by {', '.join(facts.unsigned)}",
            unsigned=facts.unsigned,
        )
    year = gate_year(facts.covers_from)
    if year < facts.origin_year:
        return None
    if facts.follow_up_state is None:
        return GateBlock(
            GateKind.FOLLOW_UP_MISSING,
            f"follow-up {year} does not exist",
            "it must be approved",
            follow_up_year=year,
        )
    if facts.follow_up_state is not FollowUpState.APPROVED:
        return GateBlock(
            GateKind.FOLLOW_UP_NOT_APPROVED,
            f"follow-up {year} is {facts.follow_up_state.value} (report due {facts.follow_up_due})",
            f"payouts in {year + 1} are released when it is approved",
            follow_up_year=year,
            follow_up_state=facts.follow_up_state,
            report_due=facts.follow_up_due,
        )
    return None


def answer_key(
    agreement: Hashable,
    agreement_state: AgreementState,
    approved: bool,
    signed: bool,
    covers_from: date,
    origin_year: int,
    follow_up_state: FollowUpState | None,
    follow_up_due: date | None,
) -> tuple[Hashable, ...]:
    """Payouts whose keys are equal get the same answer from `decide`, so that a run over
    many payouts asks it once per key. `decide` first asks the agreement alone
    (`agreement` names it) whether it pays, is approved and is signed; only when all three
    hold does the payout matter, and then only through its gate year and that year's
    follow-up. tests/unit/test_gate.py proves the property."""
    if agreement_state not in PAYING_STATES or not approved or not signed:
        return (agreement,)
    year = gate_year(covers_from)
    if year < origin_year:
        return ()
    return (year, follow_up_state, follow_up_due)


def answer_key_of(agreement: Hashable, facts: GateFacts) -> tuple[Hashable, ...]:
    """`answer_key` of a payout's `facts`, the agreement named by `agreement`."""
    return answer_key(
        agreement,
        facts.agreement_state,
        facts.approved,
        not facts.unsigned,
        facts.covers_from,
        facts.origin_year,
        facts.follow_up_state,
        facts.follow_up_due,
    )


def gate_facts(agreement: Agreement, payout: Payout) -> GateFacts:
    follow_up = agreement.follow_up(gate_year(payout.covers_from))
    unsigned = missing_signatures(agreement, GATE_PERIOD)
    return GateFacts(
        diarienummer=agreement.diarienummer,
        agreement_state=agreement.state,
        origin_year=agreement.origin.year,
        approved=has_approving_decision(agreement, GATE_PERIOD),
        unsigned=tuple(party_name(agreement, p) for p in unsigned),
        covers_from=payout.covers_from,
        follow_up_state=None if follow_up is None else follow_up.state,
        follow_up_due=None if follow_up is None else follow_up.due_on,
    )


def gate_block(agreement: Agreement, payout: Payout) -> GateBlock | None:
    return decide(gate_facts(agreement, payout))


def payout_block_reason(agreement: Agreement, payout: Payout) -> str | None:
    """None when the gate holds; otherwise the exact reason, naming what unblocks it."""
    block = gate_block(agreement, payout)
    return None if block is None else block.reason
