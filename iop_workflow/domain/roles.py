"""Who may fire which step (iop-rules §1 "who"), as data.

The service layer enforces it; the workflow only records who acted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .states import Role

O, M, S, R, SYS = Role.OFFICER, Role.MANAGER, Role.SECRETARY, Role.ORG_REP, Role.SYSTEM

PERMISSIONS: dict[str, frozenset[Role]] = {
    # agreement
    "assess_criterion": frozenset({O, M}),
    "start_dialogue": frozenset({O, M}),
    "reject": frozenset({O, M}),
    "withdraw": frozenset({R, O}),
    "propose_plan": frozenset({O}),
    "back_to_dialogue": frozenset({O}),
    "submit_for_decision": frozenset({O}),
    "approve_decision": frozenset({S}),
    "reject_decision": frozenset({S}),
    "return_decision": frozenset({S}),
    "sign": frozenset({O, R}),
    "activate": frozenset({O}),
    "amend": frozenset({S}),
    "start_renewal": frozenset({O, R, SYS}),
    "renew": frozenset({S}),
    "decline_renewal": frozenset({O, R, S}),
    "end": frozenset({O, SYS}),
    "terminate": frozenset({O, M}),
    "raise_claim": frozenset({O}),
    "close": frozenset({O, M}),
    # follow-up (uppföljning)
    "open_follow_up": frozenset({O, SYS}),
    "receive_document": frozenset({O, R}),
    "submit_report": frozenset({R}),
    "approve_follow_up": frozenset({O, M}),
    "return_follow_up": frozenset({O, M}),
    "mark_report_overdue": frozenset({SYS, O}),
    "cancel_follow_up": frozenset({SYS, O}),
    # payout (utbetalning)
    "release_payout": frozenset({SYS, O}),
    "block_payout": frozenset({SYS}),
    "cancel_payout": frozenset({SYS, O}),
    # repayment claim (återkrav)
    "mark_claim_overdue": frozenset({SYS, O}),
    "record_claim_paid": frozenset({O}),
    "offset_claim": frozenset({O}),
    "write_off_claim": frozenset({M}),
}


@dataclass(frozen=True)
class Actor:
    """Whoever fires a step. `organisation` is the orgnr an organisation rep speaks for."""

    name: str
    role: Role
    municipality: str | None = None
    organisation: str | None = None


SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM)


def roles_for(trigger: str) -> frozenset[Role]:
    return PERMISSIONS.get(trigger, frozenset())


def may_fire(role: Role, trigger: str) -> bool:
    return role in roles_for(trigger)
