"""Who may fire which step (iop-rules §1 "who"), as data.

The service layer enforces it; the workflow only records who acted.
"""

from __future__ import annotations

from dataclasses import dataclass

from .states import Role

OFF, MAN, SEC, REP, SYS = Role.OFFICER, Role.MANAGER, Role.SECRETARY, Role.ORG_REP, Role.SYSTEM

PERMISSIONS: dict[str, frozenset[Role]] = {
    # agreement
    "assess_criterion": frozenset({OFF, MAN}),
    "start_dialogue": frozenset({OFF, MAN}),
    "reject": frozenset({OFF, MAN}),
    "withdraw": frozenset({REP, OFF}),
    "propose_plan": frozenset({OFF}),
    "back_to_dialogue": frozenset({OFF}),
    "submit_for_decision": frozenset({OFF}),
    "approve_decision": frozenset({SEC}),
    "reject_decision": frozenset({SEC}),
    "return_decision": frozenset({SEC}),
    "sign": frozenset({OFF, REP}),
    "activate": frozenset({OFF}),
    "amend": frozenset({SEC}),
    "start_renewal": frozenset({OFF, REP, SYS}),
    "renew": frozenset({SEC}),
    "decline_renewal": frozenset({OFF, REP, SEC}),
    "end": frozenset({OFF, SYS}),
    "terminate": frozenset({OFF, MAN}),
    "raise_claim": frozenset({OFF}),
    "close": frozenset({OFF, MAN}),
    # follow-up (uppföljning)
    "open_follow_up": frozenset({OFF, SYS}),
    "receive_document": frozenset({OFF, REP}),
    "submit_report": frozenset({REP, OFF}),  # an officer may register a report sent by post
    "approve_follow_up": frozenset({OFF, MAN}),
    "return_follow_up": frozenset({OFF, MAN}),
    "mark_report_overdue": frozenset({SYS, OFF}),
    "cancel_follow_up": frozenset({SYS, OFF}),
    # payout (utbetalning)
    "release_payout": frozenset({SYS, OFF}),
    "block_payout": frozenset({SYS}),
    "cancel_payout": frozenset({SYS, OFF}),
    # repayment claim (återkrav)
    "mark_claim_overdue": frozenset({SYS, OFF}),
    "record_claim_paid": frozenset({OFF}),
    "offset_claim": frozenset({OFF}),
    "write_off_claim": frozenset({MAN}),
}


@dataclass(frozen=True)
class Actor:
    """Whoever fires a step. `organisation` is the orgnr an organisation rep speaks for."""

    name: str
    role: Role
    municipality: str | None = None
    organisation: str | None = None


SYSTEM_ACTOR = Actor(name="system", role=Role.SYSTEM)

# The entry points a change can come through. "internal": an in-process caller that
# names none (the demo, scripts, tests).
CHANNELS = frozenset({"cli", "flow", "import", "web", "api", "internal"})


@dataclass(frozen=True)
class Origin:
    """Through which entry point a change came, and, when the entry point knows them
    (the CLI does), the operating-system user and host that ran it. Audited with it."""

    channel: str = "internal"
    os_user: str | None = None
    host: str | None = None

    def __post_init__(self) -> None:
        if self.channel not in CHANNELS:
            raise ValueError(f"unknown channel '{self.channel}'; known: {sorted(CHANNELS)}")


DEFAULT_ORIGIN = Origin()
FLOW_ORIGIN = Origin("flow")  # the scheduled flows: the only origin that may act as system
IMPORT_ORIGIN = Origin("import")


def roles_for(trigger: str) -> frozenset[Role]:
    return PERMISSIONS.get(trigger, frozenset())


def may_fire(role: Role, trigger: str) -> bool:
    return role in roles_for(trigger)
