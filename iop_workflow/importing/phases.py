"""What an agreement imported in a given state must already have passed.

Importing an agreement in state S claims that every step up to S was taken. So the
import replays those steps' guards on what the file holds (domain/workflow.py
`check_guards`, which changes nothing): an agreement imported as `active` must pass
start_dialogue, propose_plan, submit_for_decision, approve_decision, every sign and
activate, as one that reached `active` step by step did. Every criterion, decision and
signature in the file is a step of its own (assess_criterion, approve_decision or
reject_/return_decision, sign) and is replayed with the file's values as its input;
so is each follow-up's way to its state (open_follow_up, receive_document for each
document, submit_report, approve_follow_up, ...).

Each step is replayed on the day of the import, from the state it leaves, by whoever
took it (the signer of a signature, the reviewer of a report, the system otherwise).
A refusal is the step's own message, placed at the record and field of the file that
the step read.

The import adds only what no step checks: the file must hold the input of a step it
claims (an approving decision for `signing`), and a state reached by a step whose
input the file cannot hold (a termination, a repayment claim, a rejection's reason)
cannot be imported.

This module is below `bundle.py` (which runs the checks it defers): of the import it
imports only `schema.py`, so the import's modules form no cycle
(tests/unit/test_import_layers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from ..domain.errors import GuardRefused, InvalidInput, RuleViolation
from ..domain.model import MUNICIPALITY_PARTY, Agreement, FollowUp, Signature
from ..domain.policy import Policy
from ..domain.roles import SYSTEM_ACTOR, Actor
from ..domain.states import AgreementState as A
from ..domain.states import DecisionKind, DecisionOutcome, Role
from ..domain.states import FollowUpState as F
from ..domain.workflow import check_guards
from .schema import bare_message

# The step by which the import takes an agreement into each state, and the state that
# step leaves from. Following it back from a state gives the path the import replays.
LEAD: dict[A, tuple[A, str]] = {
    A.DIALOGUE: (A.INITIATIVE, "start_dialogue"),
    A.ECONOMIC_PLAN: (A.DIALOGUE, "propose_plan"),
    A.DECISION: (A.ECONOMIC_PLAN, "submit_for_decision"),
    A.SIGNING: (A.DECISION, "approve_decision"),
    A.ACTIVE: (A.SIGNING, "activate"),
    A.RENEWAL: (A.ACTIVE, "start_renewal"),
    A.NOT_RENEWED: (A.ACTIVE, "decline_renewal"),
    A.ENDED: (A.ACTIVE, "end"),
    A.TERMINATED: (A.ACTIVE, "terminate"),
    A.REPAYMENT: (A.TERMINATED, "raise_claim"),
    A.CLOSED: (A.ENDED, "close"),
    A.WITHDRAWN: (A.INITIATIVE, "withdraw"),
    A.REJECTED: (A.INITIATIVE, "reject"),
}
# Rejected by the nämnd: the path when the file holds a rejecting entry decision.
REJECTED_BY_DECISION = (A.DECISION, "reject_decision")

# Steps whose input an import file has no place for.
NOT_IN_A_FILE = {
    "reject": "the reason for the rejection",
    "terminate": "the termination date and reason",
    "raise_claim": "the repayment claim",
}

# Steps whose guards read the follow-ups and payouts that only the storing side plans
# (service/importer.py): replayed once more after it has planned them.
AFTER_SCHEDULE = frozenset({"close"})

_DECISION_STEP = {
    DecisionOutcome.APPROVED: "approve_decision",
    DecisionOutcome.REJECTED: "reject_decision",
    DecisionOutcome.RETURNED: "return_decision",
}


def path(state: A, rejected_by_decision: bool = False) -> list[tuple[A, str]]:
    """The steps (state left, trigger) that lead from initiative to `state`, in order."""
    steps: list[tuple[A, str]] = []
    while state in LEAD:
        step = REJECTED_BY_DECISION if state is A.REJECTED and rejected_by_decision else None
        source, trigger = step or LEAD[state]
        steps.append((source, trigger))
        state = source
    return steps[::-1]


# The states an import reaches through `activate`: they have a payout plan and
# follow-ups, and may have paid instalments before the import.
HAS_BEEN_ACTIVE = frozenset(s for s in A if "activate" in (t for _, t in path(s)))

# The same for a follow-up: the step into each of its states and the state it leaves.
FOLLOW_UP_LEAD: dict[F, tuple[F, str]] = {
    F.OPEN: (F.PLANNED, "open_follow_up"),
    F.OVERDUE: (F.OPEN, "mark_report_overdue"),
    F.SUBMITTED: (F.OPEN, "submit_report"),
    F.RETURNED: (F.SUBMITTED, "return_follow_up"),
    F.APPROVED: (F.SUBMITTED, "approve_follow_up"),
    F.CANCELLED: (F.PLANNED, "cancel_follow_up"),
}


def follow_up_path(state: F) -> list[tuple[F, str]]:
    """The steps (state left, trigger) that lead a follow-up from planned to `state`."""
    steps: list[tuple[F, str]] = []
    while state in FOLLOW_UP_LEAD:
        source, trigger = FOLLOW_UP_LEAD[state]
        steps.append((source, trigger))
        state = source
    return steps[::-1]


@dataclass(frozen=True)
class Replay:
    """One step to replay: its trigger, the state it leaves, its input from the file.

    `where` is the field of the record that holds what the step reads; `inputs` names
    the field of each input key; `signatures` are those the agreement had when the
    step was taken (None: all of them). A follow-up's step has the follow-up as its
    `follow_up` and names the fields its guards read in `fields`.
    """

    trigger: str
    source: A | F
    where: str
    data: Mapping[str, Any] = field(default_factory=dict)
    inputs: Mapping[str, str] = field(default_factory=dict)
    actor: Actor = SYSTEM_ACTOR
    signatures: tuple[Signature, ...] | None = None
    beyond: bool = False  # a step the file records beyond the path to its state
    follow_up: FollowUp | None = None  # the step's target, when not the agreement
    fields: Mapping[str, str] = field(default_factory=dict)  # guard name -> field
    claim: str | None = None  # what the file claims, when not the agreement's state


@dataclass(frozen=True)
class PhaseCheck:
    """`check_phase` for an agreement whose parties are not all known yet (a party
    stored in the database): `ImportBundle.resolve_organisations` runs it."""

    agreement: Agreement
    policy: Policy
    record: str
    today: date
    follow_up_at: Mapping[int, str] = field(default_factory=dict)

    def run(self) -> None:
        check_phase(self.agreement, self.policy, self.record, self.today, self.follow_up_at)


def check_phase(
    agreement: Agreement,
    policy: Policy,
    record: str,
    today: date,
    follow_up_at: Mapping[int, str] | None = None,
) -> None:
    """Refuse, as its step would, the first step on the way to the agreement's state
    (and then to each follow-up's) that what the file holds does not pass.

    `follow_up_at`: year -> the follow-up's place in the record (`follow_ups[0]`); by
    default its place among the agreement's follow-ups.
    """
    for replay in replays(agreement, record):
        run(replay, agreement, policy, record, today)
    for index, follow_up in enumerate(agreement.follow_ups):
        at = (follow_up_at or {}).get(follow_up.year, f"follow_ups[{index}]")
        for replay in follow_up_replays(follow_up, at):
            run(replay, agreement, policy, record, today)


def check_scheduled(agreement: Agreement, policy: Policy, record: str, today: date) -> None:
    """Replay the steps whose guards read the follow-ups and payouts, once the storing
    side has planned them (a `closed` agreement has none open)."""
    for replay in replays(agreement, record):
        if replay.trigger in AFTER_SCHEDULE:
            run(replay, agreement, policy, record, today)


def replays(agreement: Agreement, record: str) -> list[Replay]:
    """The steps the file claims were taken, in the order they were."""
    state = agreement.state
    rejected = any(
        d.kind is DecisionKind.ENTRY and d.outcome is DecisionOutcome.REJECTED
        for d in agreement.decisions
    )
    steps = path(state, rejected_by_decision=rejected)
    criteria, decisions, signatures = (
        _criteria(agreement),
        _decisions(agreement),
        _signatures(agreement),
    )
    found: list[Replay] = []
    for source, trigger in steps:
        if trigger in NOT_IN_A_FILE:
            raise InvalidInput(
                f"an agreement reaches '{state.value}' through the step '{trigger}', which "
                f"needs {NOT_IN_A_FILE[trigger]}: an import file cannot hold it; import the "
                f"agreement in an earlier state and take the step after the import",
                record=record,
                field="state",
            )
        if trigger == "start_dialogue":
            found += criteria
            criteria = []
        if trigger in ("approve_decision", "reject_decision"):
            if trigger == "approve_decision" and not _approving(agreement):
                raise InvalidInput(
                    f"no approved entry decision is recorded; required in state '{state.value}'",
                    record=record,
                    field="decisions",
                )
            found += decisions
            decisions = []
            continue  # the file's decisions are this step
        if trigger == "activate":
            found += signatures
            signatures = []
        if trigger == "start_dialogue":
            data = _meeting(
                agreement.dialogue_forum, agreement.dialogue_held_on, agreement.dialogue_minutes_ref
            )
            found.append(
                Replay(trigger, source, "state", data=data, inputs=_MEETING_AT["dialogue"])
            )
            continue
        if trigger == "start_renewal":
            # The guideline only recommends the window: a person (the file does not say
            # who, so the agreement's officer) may start the dialogue any day of the
            # period, as the step allows; only the schedule waits for the window.
            officer = Actor(agreement.officer, Role.OFFICER, agreement.municipality)
            found.append(Replay(trigger, source, "state", actor=officer))
            continue
        found.append(Replay(trigger, source, "state"))
    # What the file records beyond its state's path (a decision returned to the plan,
    # the signatures of an agreement still in signing) was a step as well.
    return found + [replace(r, beyond=True) for r in criteria + decisions + signatures]


def _meeting(forum: str | None, held_on: date | None, minutes: str | None) -> dict[str, Any]:
    """The forum's meeting as the input of start_dialogue or a follow-up's review."""
    given = {"forum": forum, "meeting_on": held_on, "minutes_ref": minutes}
    return {
        name: value.isoformat() if isinstance(value, date) else value
        for name, value in given.items()
        if value is not None
    }


def _meeting_fields(at: str) -> dict[str, str]:
    return {name: f"{at}.{name}" for name in ("forum", "meeting_on", "minutes_ref")}


_MEETING_AT = {"dialogue": _meeting_fields("dialogue")}


def _approving(agreement: Agreement) -> bool:
    return any(
        d.kind is DecisionKind.ENTRY and d.outcome is DecisionOutcome.APPROVED
        for d in agreement.decisions
    )


def _criteria(agreement: Agreement) -> list[Replay]:
    found = []
    for index, assessment in enumerate(agreement.assessments):
        at = f"criteria[{index}]"
        found.append(
            Replay(
                "assess_criterion",
                A.INITIATIVE,
                f"{at}.criterion",
                data={
                    "criterion": assessment.criterion,
                    "verdict": assessment.verdict.value,
                    "motivation": assessment.motivation,
                },
                inputs={name: f"{at}.{name}" for name in ("criterion", "verdict", "motivation")},
            )
        )
    return found


def _decisions(agreement: Agreement) -> list[Replay]:
    found = []
    order = sorted(enumerate(agreement.decisions), key=lambda d: d[1].meeting_date)
    for index, decision in order:
        at = f"decisions[{index}]"
        data: dict[str, Any] = {
            "meeting_date": decision.meeting_date.isoformat(),
            "paragraph": decision.paragraph,
            "body": decision.body,
        }
        if decision.minutes_adjusted_on is not None:
            data["minutes_adjusted"] = decision.minutes_adjusted_on.isoformat()
        found.append(
            Replay(
                _DECISION_STEP[decision.outcome],
                A.DECISION,
                f"{at}.meeting_date",
                data=data,
                inputs={name: f"{at}.{name}" for name in data},
            )
        )
    return found


def _signatures(agreement: Agreement) -> list[Replay]:
    found = []
    order = sorted(enumerate(agreement.signatures), key=lambda s: s[1].signed_on)
    for position, (index, signature) in enumerate(order):
        at = f"signatures[{index}]"
        municipality = signature.party == MUNICIPALITY_PARTY
        actor = Actor(
            name=signature.signed_by,
            role=Role.OFFICER if municipality else Role.ORG_REP,
            municipality=agreement.municipality if municipality else None,
            organisation=None if municipality else signature.party,
        )
        found.append(
            Replay(
                "sign",
                A.SIGNING,
                f"{at}.party",
                data={"party": signature.party, "signed_on": signature.signed_on.isoformat()},
                inputs={"party": f"{at}.party", "signed_on": f"{at}.signed_on"},
                actor=actor,
                signatures=tuple(s for _, s in order[:position]),
            )
        )
    return found


def follow_up_replays(follow_up: FollowUp, at: str) -> list[Replay]:
    """The steps a follow-up in the file has been through: opened, its documents
    received, its report submitted and reviewed (or marked overdue, or cancelled)."""
    claim = f"required for a follow-up that is {follow_up.state.value}"
    documents = [
        Replay(
            "receive_document",
            F.OPEN,
            f"{at}.documents[{index}].arrived",
            data={"kind": d.kind.value, "arrived": d.arrived_on.isoformat(), "note": d.note},
            inputs={
                "kind": f"{at}.documents[{index}].kind",
                "arrived": f"{at}.documents[{index}].arrived",
                "note": f"{at}.documents[{index}].note",
            },
            follow_up=follow_up,
            claim=claim,
        )
        for index, d in enumerate(follow_up.documents)
    ]
    reviewer = Actor(name=follow_up.reviewed_by or "", role=Role.OFFICER)
    meeting = _meeting(follow_up.forum, follow_up.meeting_on, follow_up.minutes_ref)
    inputs: dict[str, tuple[str, Mapping[str, Any], Actor]] = {
        "open_follow_up": (f"{at}.state", {}, SYSTEM_ACTOR),
        "mark_report_overdue": (f"{at}.state", {}, SYSTEM_ACTOR),
        "submit_report": (
            f"{at}.statistics",
            {"statistics": dict(follow_up.statistics)},
            SYSTEM_ACTOR,
        ),
        "return_follow_up": (
            f"{at}.return_reason",
            {"reason": follow_up.return_reason, **meeting},
            reviewer,
        ),
        "approve_follow_up": (f"{at}.reviewed_by", meeting, reviewer),
        "cancel_follow_up": (f"{at}.state", {}, SYSTEM_ACTOR),
    }
    fields = {
        "documents_complete": f"{at}.documents",
        "statistics_complete": f"{at}.statistics",
        "approver_is_not_submitter": f"{at}.reviewed_by",
        "not_before_submission": f"{at}.submitted_on",
        "reason_given": f"{at}.return_reason",
        "forum_meeting_held": f"{at}.meeting.meeting_on",
        "meeting_not_before_submission": f"{at}.meeting.meeting_on",
    }
    found: list[Replay] = []
    for source, trigger in follow_up_path(follow_up.state):
        if trigger == "submit_report":
            found += documents
            documents = []
        where, data, actor = inputs[trigger]
        found.append(
            Replay(
                trigger,
                source,
                where,
                data=data,
                inputs={"reason": f"{at}.return_reason", **_meeting_fields(f"{at}.meeting")},
                actor=actor,
                follow_up=follow_up,
                fields=fields,
                claim=claim,
            )
        )
    return found + [replace(r, beyond=True) for r in documents]


def run(replay: Replay, agreement: Agreement, policy: Policy, record: str, today: date) -> None:
    """Run the guards of one replayed step; a refusal names the record and the field."""
    try:
        with _as_when_taken(agreement, replay):
            check_guards(
                agreement,
                replay.trigger,
                policy=policy,
                today=today,
                actor=replay.actor,
                data=replay.data,
                target=replay.follow_up,
            )
    except InvalidInput as error:
        where = replay.inputs.get(error.field or "") or _guard_field(error, replay, agreement)
        message = f"step '{replay.trigger}': {bare_message(error)}"
        raise _refusal(message, replay, agreement, record, where) from None
    except RuleViolation as error:
        where = _guard_field(error, replay, agreement)
        raise _refusal(str(error), replay, agreement, record, where) from None


def _refusal(
    message: str, replay: Replay, agreement: Agreement, record: str, field: str
) -> InvalidInput:
    if not replay.beyond:
        message += "; " + (replay.claim or f"required in state '{agreement.state.value}'")
    return InvalidInput(message, record=record, field=field)


@contextmanager
def _as_when_taken(agreement: Agreement, replay: Replay) -> Iterator[None]:
    """The agreement (or the follow-up) in the state the step left, with the signatures
    it had then."""
    state, signatures = agreement.state, agreement.signatures
    follow_up_state = None if replay.follow_up is None else replay.follow_up.state
    if replay.follow_up is None:
        agreement.state = A(replay.source)
    else:
        replay.follow_up.state = F(replay.source)
    if replay.signatures is not None:
        agreement.signatures = list(replay.signatures)
    try:
        yield
    finally:
        agreement.state, agreement.signatures = state, signatures
        if replay.follow_up is not None and follow_up_state is not None:
            replay.follow_up.state = follow_up_state


# --- where in the file a guard's refusal points ---------------------------------


def _unregistered_party(agreement: Agreement) -> str:
    for index, party in enumerate(agreement.parties):
        if not party.organisation.forening_registered:
            return f"parties[{index}].organisation"
    return "parties"


def _missing_outcome(agreement: Agreement) -> str:
    for name in ("goals", "purpose", "target_group"):
        if not getattr(agreement, name):
            return name
    return "indicators"


# The file field that holds what a guard reads (a function: which one of a list).
# Guards not named here point at the replayed step's own field.
GUARD_FIELDS: dict[str, str | Callable[[Agreement], str]] = {
    "registered_if_required": _unregistered_party,
    "criteria_pass": "criteria",
    "forum_meeting_held": "dialogue.meeting_on",
    "dialogue_outcome_recorded": _missing_outcome,
    "period_ok": "period.end",
    "support_covers_period": "economic_plan.support",
    "both_parties_contribute": "economic_plan.contributions",
    "shares_complete": "parties",
    "approving_decision": "decisions",
    "all_signed": "signatures",
    "signed_before_activation": "signatures",
    "final_follow_up_done": "follow_ups",
    "payouts_done": "payouts_released_through",
}


def _guard_field(error: BaseException, replay: Replay, agreement: Agreement) -> str:
    name = (error.guard if isinstance(error, GuardRefused) else None) or ""
    found = replay.fields.get(name) or GUARD_FIELDS.get(name, replay.where)
    return found if isinstance(found, str) else found(agreement)
