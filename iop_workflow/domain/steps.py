"""What each step reads from its input (`prepare`) and what it changes (`apply`).

The step's input is parsed before `prepare` into its typed command (commands.py,
`ctx.command`); `prepare` runs before the guards and only derives what they check
(the period, the decision, the claims) into `ctx.values`; `apply` runs after the
machine changed state, so a refused step never leaves a half-applied change behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from .commands import (
    DIALOGUE_TEXTS,
    AmendCommand,
    AssessCommand,
    DecisionCommand,
    DocumentCommand,
    MeetingCommand,
    PlanCommand,
    RaiseClaimCommand,
    RenewCommand,
    ReportCommand,
    SignCommand,
    SubmitCommand,
    TerminateCommand,
)
from .context import StepContext
from .due_rules import PAYOUT_DUE
from .errors import InvalidInput
from .firing import fire_machine
from .gate import gate_block, payout_block_reason
from .model import (
    MUNICIPALITY_PARTY,
    Amendment,
    CriterionAssessment,
    Decision,
    FollowUpDocument,
    RepaymentClaim,
    Signature,
    YearSupport,
)
from .money import format_sek
from .payout_plan import stored_plan
from .reminders import renewal_start_note
from .repayment import pro_rata_repayment
from .schedule import OPEN_PAYOUT, cancel, claim_due, sync_schedule
from .states import (
    AgreementState,
    CancelCause,
    ClaimKind,
    DecisionKind,
    DecisionOutcome,
    FollowUpState,
    PayoutState,
    Role,
)

Hook = Callable[[StepContext], None]


def _nothing(ctx: StepContext) -> None:
    return None


@dataclass(frozen=True)
class Step:
    prepare: Hook = _nothing
    apply: Hook = _nothing


def _base(ctx: StepContext) -> None:
    """What every step derives: the period, unchanged unless the step sets another."""
    ctx.values.setdefault("period", (ctx.agreement.start, ctx.agreement.end))


def reason_of(ctx: StepContext) -> str:
    return ctx.command.reason or ""


def _support(ctx: StepContext, given: dict[int, int]) -> dict[int, int]:
    """The economic plan after the step: the agreement's, with the years `given`."""
    return {**{s.year: s.amount_ore for s in ctx.agreement.support}, **given}


def _set_support(ctx: StepContext) -> None:
    support: dict[int, int] = ctx.values["support"]
    by_year = {s.year: s for s in ctx.agreement.support}
    for year, amount in sorted(support.items()):
        if year in by_year:
            by_year[year].amount_ore = amount
        else:
            ctx.agreement.support.append(YearSupport(year=year, amount_ore=amount))


def _period(ctx: StepContext, command: PlanCommand | SubmitCommand) -> None:
    _base(ctx)
    start = command.start or ctx.agreement.start
    end = command.end or ctx.agreement.end
    ctx.values["period"] = (start, end)
    _payout_plan(ctx, command.payout_plan, start, end)


def _payout_plan(ctx: StepContext, given: dict[str, Any] | None, start: date, end: date) -> None:
    """The plan after the step (`values["payout_plan"]`), checked against the period it
    pays for: the one given, else the agreement's. A plan of dates that all lie before
    the period (a renewal) needs a new one."""
    a = ctx.agreement
    record = f"step '{ctx.trigger}'"
    plan = stored_plan(given)
    if plan is not None:
        if "payout_plan" not in ctx.policy.overridable:
            raise InvalidInput(
                f"the {ctx.policy.key} policy does not allow a per-agreement payout_plan",
                record=record,
                field="payout_plan",
            )
        plan.check_period(start, end, record=record)
    else:
        kept = stored_plan(a.payout_plan)
        if kept is not None and kept.dates and not any(start <= d <= end for d in kept.dates):
            raise InvalidInput(
                f"the payout plan's dates all lie before {start}; give the plan of the "
                "period (payout_plan=4 or a list of dates)",
                record=record,
                field="payout_plan",
            )
    ctx.values["payout_plan"] = given if given is not None else a.payout_plan


# --- the forum's meeting -------------------------------------------------------


def prepare_meeting(ctx: StepContext) -> None:
    """The meeting the step was taken in (`values["meeting"]`: forum, meeting_on,
    minutes_ref, each when known): the forum is the preset's unless another is given.
    Nothing is derived when no part of the meeting is given (the preset's forum alone
    says nothing about a meeting); guards.forum_meeting_held decides whether it must be."""
    _base(ctx)
    command = ctx.command_as(MeetingCommand)
    if command.meeting_on is not None and command.meeting_on > ctx.today:
        raise InvalidInput(
            f"the meeting {command.meeting_on} is after the day of the step {ctx.today}",
            record=f"step '{ctx.trigger}'",
            field="meeting_on",
        )
    given = {
        "forum": command.forum,
        "meeting_on": command.meeting_on,
        "minutes_ref": command.minutes_ref,
    }
    if any(value is not None for value in given.values()):
        given["forum"] = command.forum or ctx.policy.dialogue_forum
    ctx.values["meeting"] = {name: value for name, value in given.items() if value is not None}


def apply_dialogue(ctx: StepContext) -> None:
    meeting = ctx.values["meeting"]
    if meeting:
        a = ctx.agreement
        a.dialogue_forum = meeting.get("forum")
        a.dialogue_held_on = meeting.get("meeting_on")
        a.dialogue_minutes_ref = meeting.get("minutes_ref")


def _record_review_meeting(ctx: StepContext) -> None:
    meeting = ctx.values["meeting"]
    if meeting:
        f = ctx.target
        f.forum = meeting.get("forum")
        f.meeting_on = meeting.get("meeting_on")
        f.minutes_ref = meeting.get("minutes_ref")


# --- agreement ----------------------------------------------------------------


def apply_assess(ctx: StepContext) -> None:
    command = ctx.command_as(AssessCommand)
    key = command.criterion
    earlier = next((a for a in ctx.agreement.assessments if a.criterion == key), None)
    if earlier is not None:
        # Update in place: a delete plus an insert of the same (agreement, criterion) is
        # flushed insert-first and breaks the table's unique key.
        earlier.verdict, earlier.motivation = command.verdict, command.motivation
        earlier.assessed_by, earlier.assessed_on = ctx.actor.name, ctx.today
        return
    ctx.agreement.assessments.append(
        CriterionAssessment(
            criterion=key,
            verdict=command.verdict,
            motivation=command.motivation,
            assessed_by=ctx.actor.name,
            assessed_on=ctx.today,
        )
    )


TEXT_FIELDS = DIALOGUE_TEXTS


def prepare_plan(ctx: StepContext) -> None:
    _period(ctx, ctx.command_as(PlanCommand))


def apply_plan(ctx: StepContext) -> None:
    a = ctx.agreement
    for name, value in ctx.command_as(PlanCommand).given().items():
        setattr(a, name, value)
    a.start, a.end = ctx.values["period"]
    a.first_start = a.start
    a.payout_plan = ctx.values["payout_plan"]


def prepare_submit(ctx: StepContext) -> None:
    command = ctx.command_as(SubmitCommand)
    _period(ctx, command)
    ctx.values["support"] = _support(ctx, command.support)


def apply_submit(ctx: StepContext) -> None:
    ctx.agreement.start, ctx.agreement.end = ctx.values["period"]
    ctx.agreement.first_start = ctx.agreement.start
    ctx.agreement.payout_plan = ctx.values["payout_plan"]
    _set_support(ctx)


def _decision(
    ctx: StepContext,
    command: DecisionCommand | RenewCommand,
    kind: DecisionKind,
    outcome: DecisionOutcome,
    period: int,
) -> None:
    ctx.values["decision"] = Decision(
        kind=kind,
        body=command.body or ctx.policy.committee,
        meeting_date=command.meeting_date,
        paragraph=command.paragraph,
        outcome=outcome,
        minutes_adjusted_on=command.minutes_adjusted,
        recorded_by=ctx.actor.name,
        period_no=period,
    )


def decision_step(outcome: DecisionOutcome) -> Step:
    def prepare(ctx: StepContext) -> None:
        _base(ctx)
        command = ctx.command_as(DecisionCommand)
        _decision(ctx, command, DecisionKind.ENTRY, outcome, ctx.agreement.period_no)

    def apply(ctx: StepContext) -> None:
        ctx.agreement.decisions.append(ctx.values["decision"])

    return Step(prepare, apply)


def prepare_sign(ctx: StepContext) -> None:
    _base(ctx)
    command = ctx.command_as(SignCommand)
    default = ctx.actor.organisation if ctx.actor.role is Role.ORG_REP else MUNICIPALITY_PARTY
    ctx.values["party"] = command.party or default
    signed_on = command.signed_on or ctx.today
    if signed_on > ctx.today:
        raise InvalidInput(f"{signed_on} is in the future", record="step 'sign'", field="signed_on")
    ctx.values["signed_on"] = signed_on


def apply_sign(ctx: StepContext) -> None:
    ctx.agreement.signatures.append(
        Signature(
            party=ctx.values["party"],
            signed_on=ctx.values["signed_on"],
            signed_by=ctx.actor.name,
            period_no=ctx.agreement.period_no,
        )
    )


def prepare_amend(ctx: StepContext) -> None:
    _base(ctx)
    command = ctx.command_as(AmendCommand)
    ctx.values["period"] = (ctx.agreement.start, command.end or ctx.agreement.end)
    ctx.values["support"] = _support(ctx, command.support)
    _payout_plan(ctx, command.payout_plan, *ctx.values["period"])


def apply_amend(ctx: StepContext) -> None:
    a = ctx.agreement
    command = ctx.command_as(AmendCommand)
    changes = {str(y): v for y, v in ctx.values["support"].items() if a.support_for(y) != v}
    a.amendments.append(
        Amendment(
            decided_on=command.decided_on,
            paragraph=command.paragraph,
            description=command.description,
            new_end=command.end,
            support_changes=changes,
            new_payout_plan=command.payout_plan,
            recorded_by=ctx.actor.name,
        )
    )
    previous_end, a.end = a.end, ctx.values["period"][1]
    a.payout_plan = ctx.values["payout_plan"]
    _set_support(ctx)
    # Years this amendment brings back (an earlier one cut them) are planned again.
    sync_schedule(ctx, previous_end=previous_end)


def prepare_renew(ctx: StepContext) -> None:
    _base(ctx)
    command = ctx.command_as(RenewCommand)
    ctx.values["period"] = (ctx.agreement.end + timedelta(days=1), command.end)
    ctx.values["support"] = _support(ctx, command.support)
    _payout_plan(ctx, command.payout_plan, *ctx.values["period"])
    next_period = ctx.agreement.period_no + 1
    _decision(ctx, command, DecisionKind.RENEWAL, DecisionOutcome.APPROVED, next_period)


def apply_renew(ctx: StepContext) -> None:
    a = ctx.agreement
    a.decisions.append(ctx.values["decision"])
    a.period_no += 1
    a.start, a.end = ctx.values["period"]
    a.renewal_declined_by = None
    a.payout_plan = ctx.values["payout_plan"]
    _set_support(ctx)
    sync_schedule(ctx)


def apply_start_renewal(ctx: StepContext) -> None:
    """A person may start the dialogue before the recommended window, or after the
    decision deadline (guards.in_final_year): the step's audit record says so. The
    schedule's own start, when the window opens, is recorded as the set-wise sweep
    records it."""
    if ctx.actor.role is Role.SYSTEM:
        return
    note = renewal_start_note(ctx.agreement.end, ctx.today, ctx.policy)
    if note:
        step = ctx.changes[0]
        ctx.changes[0] = replace(step, data={**step.data, **note})


def apply_decline(ctx: StepContext) -> None:
    ctx.agreement.renewal_declined_by = ctx.actor.name


def apply_terminate(ctx: StepContext) -> None:
    a = ctx.agreement
    a.terminated_on = ctx.command_as(TerminateCommand).date
    a.termination_reason = reason_of(ctx)
    for follow_up in list(a.follow_ups):
        if follow_up.year > a.terminated_on.year and follow_up.state in {
            FollowUpState.PLANNED,
            FollowUpState.OPEN,
        }:
            cancel(ctx, "follow_up", follow_up, CancelCause.TERMINATION, reason="terminated")
    sync_schedule(ctx)


def pro_rata_claims(ctx: StepContext) -> list[RepaymentClaim]:
    a = ctx.agreement
    assert a.terminated_on is not None
    claims = []
    for party in a.parties:
        released = [
            (p.amount_ore, p.covers_from, p.covers_to)
            for p in a.payouts
            if p.state is PayoutState.RELEASED and p.organisation_id == party.organisation.id
        ]
        amount, lines = pro_rata_repayment(released, a.terminated_on)
        if amount > 0:
            claims.append(
                RepaymentClaim(
                    organisation_id=party.organisation.id or -1,
                    kind=ClaimKind.TERMINATION,
                    amount_ore=amount,
                    basis="; ".join(lines)
                    + (f"; in all {format_sek(amount)}" if len(lines) > 1 else ""),
                    raised_on=ctx.today,
                    due_on=claim_due(ctx),
                )
            )
    return claims


def prepare_raise_claim(ctx: StepContext) -> None:
    _base(ctx)
    if ctx.agreement.state is AgreementState.TERMINATED:
        ctx.values["claims"] = pro_rata_claims(ctx)
        return
    command = ctx.command_as(RaiseClaimCommand)
    orgnr = command.organisation
    parties = ctx.agreement.parties
    match = [p for p in parties if orgnr in (None, p.organisation.organisationsnummer)]
    if not match or (orgnr is None and len(parties) > 1):
        raise InvalidInput(
            "name one party organisation (organisationsnummer)",
            record="step 'raise_claim'",
            field="organisation",
        )
    ctx.values["claims"] = [
        RepaymentClaim(
            organisation_id=match[0].organisation.id or -1,
            kind=ClaimKind.UNUSED,
            amount_ore=command.amount,
            basis=command.basis,
            raised_on=ctx.today,
            due_on=claim_due(ctx),
        )
    ]


def apply_raise_claim(ctx: StepContext) -> None:
    ctx.agreement.claims.extend(ctx.values["claims"])


def prepare_close(ctx: StepContext) -> None:
    _base(ctx)
    if ctx.agreement.state is AgreementState.TERMINATED:
        ctx.values["owed"] = sum(c.amount_ore for c in pro_rata_claims(ctx))


# --- follow-up, payout, claim -------------------------------------------------


def prepare_document(ctx: StepContext) -> None:
    _base(ctx)
    ctx.values["arrived"] = ctx.command_as(DocumentCommand).arrived or ctx.today


def apply_document(ctx: StepContext) -> None:
    command = ctx.command_as(DocumentCommand)
    ctx.target.documents.append(
        FollowUpDocument(
            kind=command.kind,
            arrived_on=ctx.values["arrived"],
            received_by=ctx.actor.name,
            note=command.note or "",
        )
    )


def apply_submit_report(ctx: StepContext) -> None:
    statistics = ctx.command_as(ReportCommand).statistics
    ctx.target.statistics = {**ctx.target.statistics, **statistics}
    ctx.target.submitted_by = ctx.actor.name
    ctx.target.submitted_on = ctx.today


def apply_review(ctx: StepContext) -> None:
    ctx.target.reviewed_by = ctx.actor.name
    ctx.target.reviewed_on = ctx.today
    _record_review_meeting(ctx)
    if ctx.trigger == "return_follow_up":
        ctx.target.return_reason = reason_of(ctx)
        return
    release_held_payouts(ctx)


def release_held_payouts(ctx: StepContext) -> None:
    """An approved follow-up releases, at once, the due payouts it was holding back."""
    reason = f"follow-up {ctx.target.year} approved"
    for payout in sorted(ctx.agreement.payouts, key=lambda p: p.due_on):
        held = payout.state in OPEN_PAYOUT and PAYOUT_DUE.holds(payout, ctx.today)
        if held and gate_block(ctx.agreement, payout) is None:
            fire_machine(ctx, "payout", payout, "release_payout", reason=reason)
            payout.released_on, payout.released_by = ctx.today, ctx.actor.name
            payout.blocked_reason = None


def apply_release(ctx: StepContext) -> None:
    ctx.target.released_on = ctx.today
    ctx.target.released_by = ctx.actor.name
    ctx.target.blocked_reason = None


def apply_block(ctx: StepContext) -> None:
    ctx.target.blocked_reason = payout_block_reason(ctx.agreement, ctx.target)


def apply_cancel(ctx: StepContext) -> None:
    """A follow-up or payout cancelled as a step of its own (by an officer): it never
    comes back by itself, whatever later happens to the period (schedule.py)."""
    ctx.target.cancel_cause = CancelCause.MANUAL


def apply_settle(ctx: StepContext) -> None:
    ctx.target.settled_on = ctx.today
    ctx.target.settled_by = ctx.actor.name


REASON = Step(_base)

STEPS: dict[str, Step] = {
    "assess_criterion": Step(_base, apply_assess),
    "start_dialogue": Step(prepare_meeting, apply_dialogue),
    "reject": REASON,
    "withdraw": REASON,
    "propose_plan": Step(prepare_plan, apply_plan),
    "back_to_dialogue": REASON,
    "submit_for_decision": Step(prepare_submit, apply_submit),
    "approve_decision": decision_step(DecisionOutcome.APPROVED),
    "reject_decision": decision_step(DecisionOutcome.REJECTED),
    "return_decision": decision_step(DecisionOutcome.RETURNED),
    "sign": Step(prepare_sign, apply_sign),
    "activate": Step(_base, sync_schedule),
    "amend": Step(prepare_amend, apply_amend),
    "start_renewal": Step(_base, apply_start_renewal),
    "renew": Step(prepare_renew, apply_renew),
    "decline_renewal": Step(_base, apply_decline),
    "end": REASON,
    "terminate": Step(_base, apply_terminate),
    "raise_claim": Step(prepare_raise_claim, apply_raise_claim),
    "close": Step(prepare_close),
    "open_follow_up": REASON,
    "receive_document": Step(prepare_document, apply_document),
    "submit_report": Step(_base, apply_submit_report),
    "approve_follow_up": Step(prepare_meeting, apply_review),
    "return_follow_up": Step(prepare_meeting, apply_review),
    "mark_report_overdue": REASON,
    "cancel_follow_up": Step(_base, apply_cancel),
    "release_payout": Step(_base, apply_release),
    "block_payout": Step(_base, apply_block),
    "cancel_payout": Step(_base, apply_cancel),
    "mark_claim_overdue": REASON,
    "record_claim_paid": Step(_base, apply_settle),
    "offset_claim": Step(_base, apply_settle),
    "write_off_claim": Step(_base, apply_settle),
}

__all__ = ["OPEN_PAYOUT", "STEPS", "Step"]
