"""The payout gate (iop-rules §3): when may an instalment be released?

Every payout in year Y+1 needs the follow-up for year Y approved; payouts in the
agreement's first calendar year need only the approving decision and the signatures.
"""

from __future__ import annotations

from .model import MUNICIPALITY_PARTY, Agreement, Payout
from .states import AgreementState, DecisionKind, DecisionOutcome, FollowUpState

_PAYING_STATES = {
    AgreementState.ACTIVE,
    AgreementState.RENEWAL,
    AgreementState.NOT_RENEWED,
    AgreementState.ENDED,
}


def has_approving_decision(agreement: Agreement, period_no: int | None = None) -> bool:
    period = agreement.period_no if period_no is None else period_no
    kinds = {DecisionKind.ENTRY} if period == 1 else {DecisionKind.RENEWAL}
    return any(
        d.outcome is DecisionOutcome.APPROVED and d.kind in kinds and d.period_no == period
        for d in agreement.decisions
    )


def missing_signatures(agreement: Agreement, period_no: int = 1) -> list[str]:
    """The parties (municipality or orgnr) that have not signed period `period_no`."""
    needed = [MUNICIPALITY_PARTY] + [p.organisation.organisationsnummer for p in agreement.parties]
    signed = {s.party for s in agreement.signatures if s.period_no == period_no}
    return [party for party in needed if party not in signed]


def gate_year(payout: Payout) -> int:
    """The follow-up year a payout depends on."""
    return payout.covers_from.year - 1


def payout_block_reason(agreement: Agreement, payout: Payout) -> str | None:
    """None when the gate holds; otherwise the exact reason, naming what unblocks it."""
    if agreement.state not in _PAYING_STATES:
        return f"agreement {agreement.diarienummer} is {agreement.state.value}; nothing is paid"
    if not has_approving_decision(agreement, 1):
        return "no approving nämnd decision is recorded"
    if missing_signatures(agreement, 1):
        return f"agreement not signed by {', '.join(missing_signatures(agreement, 1))}"
    year = gate_year(payout)
    if year < agreement.origin.year:
        return None
    follow_up = agreement.follow_up(year)
    if follow_up is None:
        return f"follow-up {year} does not exist; it must be approved"
    if follow_up.state is not FollowUpState.APPROVED:
        return (
            f"follow-up {year} is {follow_up.state.value} (report due {follow_up.due_on}); "
            f"payouts in {year + 1} are released when it is approved"
        )
    return None
