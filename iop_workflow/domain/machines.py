"""The four state machines, declared as data and built once with `transitions`.

One machine per entity kind serves every object of that kind (the model is bound
only for the duration of one step), so sweeping thousands of rows costs nothing
extra. Guards are named functions from `guards.py`: the diagrams in docs/ show
them on the arrows, and each raises `GuardRefused` with its reason.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Any

from transitions import Machine

from . import guards as g
from .states import (
    AWAITING_REPORT,
    LIVE_AGREEMENT,
    OPEN_CLAIM,
    OPEN_PAYOUT,
    RENEWABLE_AGREEMENT,
    UNSUBMITTED_FOLLOW_UP,
)
from .states import AgreementState as A
from .states import ClaimState as C
from .states import FollowUpState as F
from .states import PayoutState as P

Guard = Callable[[Any], bool]


def _t(trigger: str, source: Any, dest: Any, *conds: Guard) -> dict[str, Any]:
    return {"trigger": trigger, "source": source, "dest": dest, "conditions": list(conds)}


def _in(group: frozenset[Any]) -> list[Any]:
    """A state group (domain/states.py) as a transition source, in declaration order."""
    kind = type(next(iter(group)))
    return [state for state in kind if state in group]


LIVE = _in(LIVE_AGREEMENT)

AGREEMENT_TRANSITIONS = [
    _t("assess_criterion", A.INITIATIVE, None, g.criterion_known),
    # The forum's meeting is checked last: a case that fails the rules is refused for
    # them, not for a missing meeting date.
    _t(
        "start_dialogue",
        A.INITIATIVE,
        A.DIALOGUE,
        g.registered_if_required,
        g.criteria_pass,
        g.forum_meeting_held,
    ),
    _t("reject", A.INITIATIVE, A.REJECTED, g.reason_given),
    _t("withdraw", [A.INITIATIVE, A.DIALOGUE, A.ECONOMIC_PLAN, A.DECISION], A.WITHDRAWN),
    _t("propose_plan", A.DIALOGUE, A.ECONOMIC_PLAN, g.dialogue_outcome_recorded, g.period_ok),
    _t("back_to_dialogue", A.ECONOMIC_PLAN, A.DIALOGUE),
    _t(
        "submit_for_decision",
        A.ECONOMIC_PLAN,
        A.DECISION,
        g.period_ok,
        g.support_covers_period,
        g.both_parties_contribute,
        g.shares_complete,
    ),
    _t("approve_decision", A.DECISION, A.SIGNING, g.decision_recorded),
    _t("reject_decision", A.DECISION, A.REJECTED, g.decision_recorded),
    _t("return_decision", A.DECISION, A.ECONOMIC_PLAN, g.decision_recorded),
    _t("sign", A.SIGNING, None, g.signer_may_sign),
    _t(
        "activate",
        A.SIGNING,
        A.ACTIVE,
        g.approving_decision,
        g.all_signed,
        g.signed_before_activation,
    ),
    _t("amend", A.ACTIVE, None, g.amendment_ok, g.period_ok, g.amended_support_given),
    _t("start_renewal", A.ACTIVE, A.RENEWAL, g.in_final_year),
    _t(
        "renew",
        A.RENEWAL,
        A.ACTIVE,
        g.renewal_decided_in_time,
        g.period_ok,
        g.support_covers_period,
    ),
    _t("decline_renewal", _in(RENEWABLE_AGREEMENT), A.NOT_RENEWED),
    _t("end", LIVE, A.ENDED, g.period_over),
    _t("terminate", LIVE, A.TERMINATED, g.termination_date_ok, g.reason_given),
    _t("raise_claim", [A.TERMINATED, A.ENDED], A.REPAYMENT, g.money_owed),
    _t("close", A.TERMINATED, A.CLOSED, g.nothing_owed, g.final_follow_up_done, g.payouts_done),
    _t("close", A.ENDED, A.CLOSED, g.final_follow_up_done, g.payouts_done),
    _t("close", A.REPAYMENT, A.CLOSED, g.claims_settled, g.final_follow_up_done, g.payouts_done),
]

FOLLOW_UP_TRANSITIONS = [
    _t("open_follow_up", F.PLANNED, F.OPEN, g.follow_up_opening_reached),
    _t("receive_document", [F.OPEN, F.OVERDUE, F.RETURNED, F.SUBMITTED], None, g.document_ok),
    _t("submit_report", _in(AWAITING_REPORT), F.SUBMITTED),
    _t(
        "approve_follow_up",
        F.SUBMITTED,
        F.APPROVED,
        g.documents_complete,
        g.statistics_complete,
        g.approver_is_not_submitter,
        g.not_before_submission,
        g.meeting_not_before_submission,
        g.forum_meeting_held,
    ),
    _t(
        "return_follow_up",
        F.SUBMITTED,
        F.RETURNED,
        g.reason_given,
        g.not_before_submission,
        g.meeting_not_before_submission,
    ),
    _t("mark_report_overdue", [F.OPEN, F.RETURNED], F.OVERDUE, g.report_past_due),
    _t("cancel_follow_up", _in(UNSUBMITTED_FOLLOW_UP), F.CANCELLED),
]

# Steps only the schedule sync fires (schedule.py), never a person or a flow: no role
# may fire them (roles.py). When a tilläggsavtal or a renewal brings back a year that
# an earlier tilläggsavtal had cut from the period, that year's follow-up and payouts,
# cancelled then, are planned again; what a termination or a person's own cancel step
# cancelled never comes back (each cancellation records its `cancel_cause`).
FOLLOW_UP_SYNC_TRANSITIONS = [
    _t("reinstate_follow_up", F.CANCELLED, F.PLANNED, g.back_in_period),
]

PAYOUT_TRANSITIONS = [
    _t("release_payout", _in(OPEN_PAYOUT), P.RELEASED, g.payout_due, g.gate_holds),
    _t("block_payout", _in(OPEN_PAYOUT), P.BLOCKED, g.payout_due, g.gate_fails),
    _t("cancel_payout", _in(OPEN_PAYOUT), P.CANCELLED),
]

PAYOUT_SYNC_TRANSITIONS = [
    _t("reinstate_payout", P.CANCELLED, P.PLANNED, g.back_in_period),
]

SYNC_ONLY_TRIGGERS: frozenset[str] = frozenset(
    str(t["trigger"]) for t in FOLLOW_UP_SYNC_TRANSITIONS + PAYOUT_SYNC_TRANSITIONS
)

CLAIM_TRANSITIONS = [
    _t("mark_claim_overdue", C.RAISED, C.OVERDUE, g.claim_past_due),
    _t("record_claim_paid", _in(OPEN_CLAIM), C.PAID),
    _t("offset_claim", _in(OPEN_CLAIM), C.OFFSET),
    _t("write_off_claim", _in(OPEN_CLAIM), C.WRITTEN_OFF, g.reason_given),
]

DEFINITIONS: dict[str, tuple[type[StrEnum], Any, list[dict[str, Any]]]] = {
    "agreement": (A, A.INITIATIVE, AGREEMENT_TRANSITIONS),
    "follow_up": (F, F.PLANNED, FOLLOW_UP_TRANSITIONS + FOLLOW_UP_SYNC_TRANSITIONS),
    "payout": (P, P.PLANNED, PAYOUT_TRANSITIONS + PAYOUT_SYNC_TRANSITIONS),
    "claim": (C, C.RAISED, CLAIM_TRANSITIONS),
}

TITLES = {
    "agreement": "IOP agreement (överenskommelse)",
    "follow_up": "Annual follow-up (uppföljning)",
    "payout": "Payout (utbetalning)",
    "claim": "Repayment claim (återkrav)",
}


def _build(entity: str) -> Machine:
    states, initial, transitions = DEFINITIONS[entity]
    return Machine(
        model=None,
        states=states,
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        send_event=True,
        model_attribute="state",
    )


MACHINES: dict[str, Machine] = {entity: _build(entity) for entity in DEFINITIONS}

ENTITY_OF: dict[str, str] = {
    t["trigger"]: entity for entity, (_, _, table) in DEFINITIONS.items() for t in table
}


def triggers_from(entity: str, state: StrEnum) -> list[str]:
    """The steps the machine allows from `state` (before guards and roles)."""
    return sorted(set(MACHINES[entity].get_triggers(state)))


def mermaid(entity: str) -> str:
    """The Mermaid state diagram of one machine, generated from its definition."""
    from transitions.extensions import GraphMachine

    states, initial, transitions = DEFINITIONS[entity]

    class _Model:
        pass

    machine = GraphMachine(
        model=_Model(),
        states=states,
        transitions=transitions,
        initial=initial,
        auto_transitions=False,
        graph_engine="mermaid",
        show_conditions=True,
        title=TITLES[entity],
        model_attribute="state",
    )
    drawn = str(machine.models[0].get_graph().draw(None))
    # `transitions` does not draw internal steps (no destination: assess, sign, amend,
    # receive a document); they are steps an officer takes, so draw them as loops.
    loops = [
        f"  {source.name} --> {source.name}: {_label(row)} (state kept)"
        for row in transitions
        if row["dest"] is None
        for source in (row["source"] if isinstance(row["source"], list) else [row["source"]])
    ]
    start = f"  [*] --> {initial.name}"
    return drawn.replace(start, "\n".join([*loops, start])) if loops else drawn


def _label(row: dict[str, Any]) -> str:
    guards = " & ".join(c.__name__ for c in row.get("conditions", []))
    return f"{row['trigger']} [{guards}]" if guards else str(row["trigger"])


def sources(entity: str, trigger: str) -> list[StrEnum]:
    """The states `trigger` may leave from: set-wise sweeps select rows by these."""
    found: list[StrEnum] = []
    for row in DEFINITIONS[entity][2]:
        if row["trigger"] == trigger:
            source = row["source"]
            found += source if isinstance(source, list) else [source]
    return found


def guards_of(entity: str, trigger: str, state: StrEnum | None = None) -> list[Guard]:
    """The guards of `trigger` (from `state`, when the step has a row per source state)."""
    rows = [row for row in DEFINITIONS[entity][2] if row["trigger"] == trigger]
    if state is not None:
        leaving = [
            row
            for row in rows
            if state in (row["source"] if isinstance(row["source"], list) else [row["source"]])
        ]
        rows = leaving or rows[:1]
    else:
        rows = rows[:1]
    return [condition for row in rows for condition in row["conditions"]]


def destination(entity: str, trigger: str) -> StrEnum:
    for row in DEFINITIONS[entity][2]:
        if row["trigger"] == trigger and row["dest"] is not None:
            return row["dest"]  # type: ignore[no-any-return]
    raise KeyError(f"{entity} step {trigger} has no destination")
