"""The payout gate (iop-rules §3): when may an instalment be released?

Every payout in year Y+1 needs the follow-up for year Y approved; payouts in the
agreement's first calendar year need only the approving decision and the signatures.
"""

from __future__ import annotations

from datetime import date

from .model import MUNICIPALITY_PARTY, Agreement, Payout
from .states import AgreementState, DecisionKind, DecisionOutcome, FollowUpState

PAYING_STATES = frozenset(
    {
        AgreementState.ACTIVE,
        AgreementState.RENEWAL,
        AgreementState.NOT_RENEWED,
        AgreementState.ENDED,
    }
)


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


def party_name(agreement: Agreement, party: str) -> str:
    """A signing party as people read it: "municipality", or the organisation's name with
    its organisationsnummer in brackets."""
    for p in agreement.parties:
        if p.organisation.organisationsnummer == party:
            return f"{p.organisation.name} ({party})"
    return party


def gate_year(payout: Payout) -> int:
    """The follow-up year a payout depends on."""
    return payout.covers_from.year - 1


def gate_reason(
    *,
    diarienummer: str,
    agreement_state: AgreementState,
    origin_year: int,
    payout_year: int,
    follow_up_state: FollowUpState | None,
    follow_up_due: date | None,
) -> str | None:
    """The gate on plain values, so a set-wise payout run can apply the same rule.

    None when the gate holds; otherwise the exact reason, naming what unblocks it.
    """
    if agreement_state not in PAYING_STATES:
        return f"agreement {diarienummer} is {agreement_state.value}; nothing is paid"
    year = payout_year - 1
    if year < origin_year:
        return None
    if follow_up_state is None:
        return f"follow-up {year} does not exist; it must be approved"
    if follow_up_state is not FollowUpState.APPROVED:
        return (
            f"follow-up {year} is {follow_up_state.value} (report due {follow_up_due}); "
            f"payouts in {year + 1} are released when it is approved"
        )
    return None


def payout_block_reason(agreement: Agreement, payout: Payout) -> str | None:
    """None when the gate holds; otherwise the exact reason, naming what unblocks it."""
    if agreement.state in PAYING_STATES:
        if not has_approving_decision(agreement, 1):
            return "no approving nämnd decision is recorded"
        if missing_signatures(agreement, 1):
            missing = [party_name(agreement, p) for p in missing_signatures(agreement, 1)]
            return f"agreement not signed by {', '.join(missing)}"
    follow_up = agreement.follow_up(gate_year(payout))
    return gate_reason(
        diarienummer=agreement.diarienummer,
        agreement_state=agreement.state,
        origin_year=agreement.origin.year,
        payout_year=payout.covers_from.year,
        follow_up_state=None if follow_up is None else follow_up.state,
        follow_up_due=None if follow_up is None else follow_up.due_on,
    )
