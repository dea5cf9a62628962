"""What each step reads from its input (`prepare`) and what it changes (`apply`).

`prepare` runs before the guards and only parses; `apply` runs after the machine
changed state, so a refused step never leaves a half-applied change behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from . import limits
from .context import StepContext
from .errors import InvalidInput
from .firing import fire_machine
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
from .money import format_sek, parse_sek
from .repayment import pro_rata_repayment
from .schedule import OPEN_PAYOUT, cancel, claim_due, sync_schedule
from .states import (
    AgreementState,
    CancelCause,
    ClaimKind,
    DecisionKind,
    DecisionOutcome,
    DocumentKind,
    FollowUpState,
    PayoutState,
    Role,
    Verdict,
)

Hook = Callable[[StepContext], None]


def _nothing(ctx: StepContext) -> None:
    return None


@dataclass(frozen=True)
class Step:
    prepare: Hook = _nothing
    apply: Hook = _nothing


def _reason(ctx: StepContext) -> None:
    ctx.values["reason"] = ctx.data.text("reason") or ""
    ctx.values.setdefault("period", (ctx.agreement.start, ctx.agreement.end))


def _support(ctx: StepContext) -> dict[int, int]:
    support = {s.year: s.amount_ore for s in ctx.agreement.support}
    record = f"step '{ctx.trigger}'"
    for key, value in ctx.data.prefixed("support").items():
        if not (key.isascii() and key.isdigit()):
            raise InvalidInput(f"'{key}' is not a year", record=record, field=f"support.{key}")
        problem = limits.year_problem(int(key) if len(key) <= 4 else limits.LAST_YEAR + 1)
        if problem is not None:
            raise InvalidInput(
                problem if len(key) <= 4 else f"{key[:12]} is not a year",
                record=record,
                field=f"support.{key}",
            )
        support[int(key)] = parse_sek(value, record=record, field=f"support.{key}")
    return support


def _set_support(ctx: StepContext) -> None:
    support: dict[int, int] = ctx.values["support"]
    by_year = {s.year: s for s in ctx.agreement.support}
    for year, amount in sorted(support.items()):
        if year in by_year:
            by_year[year].amount_ore = amount
        else:
            ctx.agreement.support.append(YearSupport(year=year, amount_ore=amount))


def _period(ctx: StepContext) -> None:
    _reason(ctx)
    start = ctx.data.date("start") or ctx.agreement.start
    end = ctx.data.date("end") or ctx.agreement.end
    ctx.values["period"] = (start, end)


# --- agreement ----------------------------------------------------------------


def prepare_assess(ctx: StepContext) -> None:
    _reason(ctx)
    ctx.values["criterion"] = ctx.data.text("criterion", required=True, limit=limits.CRITERION)
    ctx.values["verdict"] = ctx.data.choice("verdict", Verdict, required=True)
    ctx.values["motivation"] = ctx.data.text("motivation", required=True)


def apply_assess(ctx: StepContext) -> None:
    key = ctx.values["criterion"]
    earlier = next((a for a in ctx.agreement.assessments if a.criterion == key), None)
    if earlier is not None:
        # Update in place: a delete plus an insert of the same (agreement, criterion) is
        # flushed insert-first and breaks the table's unique key.
        earlier.verdict, earlier.motivation = ctx.values["verdict"], ctx.values["motivation"]
        earlier.assessed_by, earlier.assessed_on = ctx.actor.name, ctx.today
        return
    ctx.agreement.assessments.append(
        CriterionAssessment(
            criterion=key,
            verdict=ctx.values["verdict"],
            motivation=ctx.values["motivation"],
            assessed_by=ctx.actor.name,
            assessed_on=ctx.today,
        )
    )


TEXT_FIELDS = ("goals", "values", "purpose", "target_group")


def prepare_plan(ctx: StepContext) -> None:
    _period(ctx)
    for name in TEXT_FIELDS:
        if ctx.data.has(name):
            ctx.values[name] = ctx.data.text(name)
    if ctx.data.has("indicators"):
        raw = ctx.data.raw["indicators"]
        ctx.data.used.add("indicators")
        items = raw if isinstance(raw, list) else str(raw).split(",")
        indicators = [str(i).strip() for i in items if str(i).strip()]
        for indicator in indicators:
            problem = limits.text_problem(indicator)
            if problem is not None:
                raise InvalidInput(problem, record=f"step '{ctx.trigger}'", field="indicators")
        ctx.values["indicators"] = indicators


def apply_plan(ctx: StepContext) -> None:
    a = ctx.agreement
    for name in (*TEXT_FIELDS, "indicators"):
        if name in ctx.values:
            setattr(a, name, ctx.values[name])
    a.start, a.end = ctx.values["period"]
    a.first_start = a.start


def prepare_submit(ctx: StepContext) -> None:
    _period(ctx)
    ctx.values["support"] = _support(ctx)


def apply_submit(ctx: StepContext) -> None:
    ctx.agreement.start, ctx.agreement.end = ctx.values["period"]
    ctx.agreement.first_start = ctx.agreement.start
    _set_support(ctx)


def _decision(ctx: StepContext, kind: DecisionKind, outcome: DecisionOutcome, period: int) -> None:
    ctx.values["decision"] = Decision(
        kind=kind,
        body=ctx.data.text("body", limit=limits.NAME) or ctx.policy.committee,
        meeting_date=ctx.data.date("meeting_date", required=True),  # type: ignore[arg-type]
        paragraph=ctx.data.text("paragraph", required=True, limit=limits.PARAGRAPH) or "",
        outcome=outcome,
        minutes_adjusted_on=ctx.data.date("minutes_adjusted"),
        recorded_by=ctx.actor.name,
        period_no=period,
    )


def decision_step(outcome: DecisionOutcome) -> Step:
    def prepare(ctx: StepContext) -> None:
        _reason(ctx)
        _decision(ctx, DecisionKind.ENTRY, outcome, ctx.agreement.period_no)

    def apply(ctx: StepContext) -> None:
        ctx.agreement.decisions.append(ctx.values["decision"])

    return Step(prepare, apply)


def prepare_sign(ctx: StepContext) -> None:
    _reason(ctx)
    default = ctx.actor.organisation if ctx.actor.role is Role.ORG_REP else MUNICIPALITY_PARTY
    ctx.values["party"] = ctx.data.text("party", limit=limits.PARTY) or default
    signed_on = ctx.data.date("signed_on") or ctx.today
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
    _reason(ctx)
    ctx.values["decided_on"] = ctx.data.date("decided_on", required=True)
    ctx.values["paragraph"] = ctx.data.text("paragraph", required=True, limit=limits.PARAGRAPH)
    ctx.values["description"] = ctx.data.text("description", required=True)
    new_end = ctx.data.date("end")
    ctx.values["new_end"] = new_end
    ctx.values["period"] = (ctx.agreement.start, new_end or ctx.agreement.end)
    ctx.values["support"] = _support(ctx)


def apply_amend(ctx: StepContext) -> None:
    a = ctx.agreement
    changes = {str(y): v for y, v in ctx.values["support"].items() if a.support_for(y) != v}
    a.amendments.append(
        Amendment(
            decided_on=ctx.values["decided_on"],
            paragraph=ctx.values["paragraph"],
            description=ctx.values["description"],
            new_end=ctx.values["new_end"],
            support_changes=changes,
            recorded_by=ctx.actor.name,
        )
    )
    previous_end, a.end = a.end, ctx.values["period"][1]
    _set_support(ctx)
    # Years this amendment brings back (an earlier one cut them) are planned again.
    sync_schedule(ctx, previous_end=previous_end)


def prepare_renew(ctx: StepContext) -> None:
    _reason(ctx)
    new_end = ctx.data.date("end", required=True)
    assert new_end is not None
    ctx.values["period"] = (ctx.agreement.end + timedelta(days=1), new_end)
    ctx.values["support"] = _support(ctx)
    _decision(ctx, DecisionKind.RENEWAL, DecisionOutcome.APPROVED, ctx.agreement.period_no + 1)


def apply_renew(ctx: StepContext) -> None:
    a = ctx.agreement
    a.decisions.append(ctx.values["decision"])
    a.period_no += 1
    a.start, a.end = ctx.values["period"]
    a.renewal_declined_by = None
    _set_support(ctx)
    sync_schedule(ctx)


def apply_decline(ctx: StepContext) -> None:
    ctx.agreement.renewal_declined_by = ctx.actor.name


def prepare_terminate(ctx: StepContext) -> None:
    _reason(ctx)
    ctx.values["date"] = ctx.data.date("date", required=True)


def apply_terminate(ctx: StepContext) -> None:
    a = ctx.agreement
    a.terminated_on = ctx.values["date"]
    a.termination_reason = ctx.values["reason"]
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
    _reason(ctx)
    if ctx.agreement.state is AgreementState.TERMINATED:
        ctx.values["claims"] = pro_rata_claims(ctx)
        return
    amount = ctx.data.money("amount", required=True) or 0
    basis = ctx.data.text("basis", required=True) or ""
    orgnr = ctx.data.text("organisation")
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
            amount_ore=amount,
            basis=basis,
            raised_on=ctx.today,
            due_on=claim_due(ctx),
        )
    ]


def apply_raise_claim(ctx: StepContext) -> None:
    ctx.agreement.claims.extend(ctx.values["claims"])


def prepare_close(ctx: StepContext) -> None:
    _reason(ctx)
    if ctx.agreement.state is AgreementState.TERMINATED:
        ctx.values["owed"] = sum(c.amount_ore for c in pro_rata_claims(ctx))


# --- follow-up, payout, claim -------------------------------------------------


def prepare_document(ctx: StepContext) -> None:
    _reason(ctx)
    ctx.values["kind"] = ctx.data.choice("kind", DocumentKind, required=True)
    ctx.values["arrived"] = ctx.data.date("arrived") or ctx.today
    ctx.values["note"] = ctx.data.text("note") or ""


def apply_document(ctx: StepContext) -> None:
    ctx.target.documents.append(
        FollowUpDocument(
            kind=ctx.values["kind"],
            arrived_on=ctx.values["arrived"],
            received_by=ctx.actor.name,
            note=ctx.values["note"],
        )
    )


def prepare_submit_report(ctx: StepContext) -> None:
    _reason(ctx)
    stats: dict[str, int] = {}
    for key, value in ctx.data.prefixed("statistics").items():
        text = str(value).strip()
        if isinstance(value, bool) or not (text.isascii() and text.isdigit()):
            raise InvalidInput(
                f"'{value}' is not a count (a whole number, 0 or more)",
                record="step 'submit_report'",
                field=f"statistics.{key}",
            )
        if len(text) > len(str(limits.MAX_COUNT)) or int(text) > limits.MAX_COUNT:
            raise InvalidInput(
                f"{text[:12]} is more than {limits.MAX_COUNT}",
                record="step 'submit_report'",
                field=f"statistics.{key}",
            )
        stats[key] = int(text)
    ctx.values["statistics"] = stats


def apply_submit_report(ctx: StepContext) -> None:
    ctx.target.statistics = {**ctx.target.statistics, **ctx.values["statistics"]}
    ctx.target.submitted_by = ctx.actor.name
    ctx.target.submitted_on = ctx.today


def apply_review(ctx: StepContext) -> None:
    ctx.target.reviewed_by = ctx.actor.name
    ctx.target.reviewed_on = ctx.today
    if ctx.trigger == "return_follow_up":
        ctx.target.return_reason = ctx.values["reason"]
        return
    release_held_payouts(ctx)


def release_held_payouts(ctx: StepContext) -> None:
    """An approved follow-up releases, at once, the due payouts it was holding back."""
    from .gate import payout_block_reason

    reason = f"follow-up {ctx.target.year} approved"
    for payout in sorted(ctx.agreement.payouts, key=lambda p: p.due_on):
        held = payout.state in OPEN_PAYOUT and payout.due_on <= ctx.today
        if held and payout_block_reason(ctx.agreement, payout) is None:
            fire_machine(ctx, "payout", payout, "release_payout", reason=reason)
            payout.released_on, payout.released_by = ctx.today, ctx.actor.name
            payout.blocked_reason = None


def apply_release(ctx: StepContext) -> None:
    ctx.target.released_on = ctx.today
    ctx.target.released_by = ctx.actor.name
    ctx.target.blocked_reason = None


def apply_block(ctx: StepContext) -> None:
    from .gate import payout_block_reason

    ctx.target.blocked_reason = payout_block_reason(ctx.agreement, ctx.target)


def apply_cancel(ctx: StepContext) -> None:
    """A follow-up or payout cancelled as a step of its own (by an officer): it never
    comes back by itself, whatever later happens to the period (schedule.py)."""
    ctx.target.cancel_cause = CancelCause.MANUAL


def apply_settle(ctx: StepContext) -> None:
    ctx.target.settled_on = ctx.today
    ctx.target.settled_by = ctx.actor.name


REASON = Step(_reason)

STEPS: dict[str, Step] = {
    "assess_criterion": Step(prepare_assess, apply_assess),
    "start_dialogue": REASON,
    "reject": REASON,
    "withdraw": REASON,
    "propose_plan": Step(prepare_plan, apply_plan),
    "back_to_dialogue": REASON,
    "submit_for_decision": Step(prepare_submit, apply_submit),
    "approve_decision": decision_step(DecisionOutcome.APPROVED),
    "reject_decision": decision_step(DecisionOutcome.REJECTED),
    "return_decision": decision_step(DecisionOutcome.RETURNED),
    "sign": Step(prepare_sign, apply_sign),
    "activate": Step(_reason, sync_schedule),
    "amend": Step(prepare_amend, apply_amend),
    "start_renewal": REASON,
    "renew": Step(prepare_renew, apply_renew),
    "decline_renewal": Step(_reason, apply_decline),
    "end": REASON,
    "terminate": Step(prepare_terminate, apply_terminate),
    "raise_claim": Step(prepare_raise_claim, apply_raise_claim),
    "close": Step(prepare_close),
    "open_follow_up": REASON,
    "receive_document": Step(prepare_document, apply_document),
    "submit_report": Step(prepare_submit_report, apply_submit_report),
    "approve_follow_up": Step(_reason, apply_review),
    "return_follow_up": Step(_reason, apply_review),
    "mark_report_overdue": REASON,
    "cancel_follow_up": Step(_reason, apply_cancel),
    "release_payout": Step(_reason, apply_release),
    "block_payout": Step(_reason, apply_block),
    "cancel_payout": Step(_reason, apply_cancel),
    "mark_claim_overdue": REASON,
    "record_claim_paid": Step(_reason, apply_settle),
    "offset_claim": Step(_reason, apply_settle),
    "write_off_claim": Step(_reason, apply_settle),
}

__all__ = ["OPEN_PAYOUT", "STEPS", "Step"]
