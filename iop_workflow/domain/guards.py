"""The rules of each step. A guard returns True or raises `GuardRefused` with its reason
(or `InvalidInput` naming the field, when what is missing is an input of the step).

Guards read the step's typed input from `ctx.command` (commands.py) and what `prepare`
derived from it from `ctx.values` (both set before the machine fires), and never
change anything, so a refused step leaves every object as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from . import calendar as cal
from . import due_rules as due
from .commands import AssessCommand, PlanCommand, TerminateCommand
from .context import StepContext
from .deadlines import follow_up_years
from .errors import GuardRefused, InvalidInput
from .gate import gate_block, has_approving_decision, missing_signatures, party_name
from .model import MUNICIPALITY_PARTY, FollowUp
from .money import format_sek
from .states import (
    DONE_FOLLOW_UP,
    OPEN_CLAIM,
    OPEN_PAYOUT,
    AgreementState,
    DecisionOutcome,
    PayoutState,
    Role,
    Verdict,
)


def guard(rule: Callable[[StepContext], None]) -> Callable[[Any], bool]:
    @wraps(rule)
    def check(event: Any) -> bool:
        try:
            rule(event.kwargs["ctx"])
        except GuardRefused as refused:
            if refused.guard is None:
                refused.guard = rule.__name__
            raise
        return True

    return check


def refuse(ctx: StepContext, reason: str) -> None:
    raise GuardRefused(ctx.trigger, reason)


# --- initiative ---------------------------------------------------------------


@guard
def criterion_known(ctx: StepContext) -> None:
    criterion = ctx.command_as(AssessCommand).criterion
    if ctx.policy.criterion(criterion) is None:
        keys = ", ".join(c.key for c in ctx.policy.criteria)
        refuse(ctx, f"'{criterion}' is not a {ctx.policy.key} criterion ({keys})")


@guard
def criteria_pass(ctx: StepContext) -> None:
    verdicts = {a.criterion: a for a in ctx.agreement.assessments}
    for criterion in ctx.policy.criteria:
        found = verdicts.get(criterion.key)
        if found is None:
            refuse(ctx, f"criterion '{criterion.key}' has not been assessed")
        elif criterion.required and found.verdict is not Verdict.MET:
            refuse(ctx, f"required criterion '{criterion.key}' is {found.verdict.value}")
        elif not found.motivation.strip():
            refuse(ctx, f"criterion '{criterion.key}' has no motivation")


@guard
def registered_if_required(ctx: StepContext) -> None:
    if not ctx.policy.requires_forening_registration:
        return
    for party in ctx.agreement.parties:
        if not party.organisation.forening_registered:
            refuse(
                ctx,
                f"{party.organisation.name} ({party.organisation.organisationsnummer}) is not "
                f"registered in {ctx.policy.municipality}'s föreningsregister",
            )


@guard
def reason_given(ctx: StepContext) -> None:
    if not ctx.command.reason:
        refuse(ctx, "a reason is required (--set reason=...)")


# --- the forum's meeting (steps.py prepare_meeting) ----------------------------


@guard
def forum_meeting_held(ctx: StepContext) -> None:
    """Where the preset names a forum (Kramfors: Seniorrådet), the dialogue and the
    follow-up's review happen in its meeting: the step records at least its date."""
    forum = ctx.policy.dialogue_forum
    if forum is None or ctx.values["meeting"].get("meeting_on") is not None:
        return
    what = "dialogue" if ctx.trigger == "start_dialogue" else "follow-up's review"
    refuse(
        ctx,
        f"{ctx.policy.municipality} holds the {what} in {forum}: the date of its meeting "
        "(meeting_on) is required",
    )


@guard
def meeting_not_before_submission(ctx: StepContext) -> None:
    """A report is reviewed in a meeting held on or after the day it was submitted."""
    held, submitted = ctx.values["meeting"].get("meeting_on"), ctx.target.submitted_on
    if held is not None and submitted is not None and held < submitted:
        refuse(ctx, f"the meeting {held} is before the report was submitted {submitted}")


# --- dialogue and economic plan -----------------------------------------------


@guard
def dialogue_outcome_recorded(ctx: StepContext) -> None:
    a = ctx.agreement
    given = ctx.command_as(PlanCommand).given()
    for name, value in (
        ("goals", a.goals),
        ("purpose", a.purpose),
        ("target_group", a.target_group),
    ):
        if not given.get(name, value):
            refuse(ctx, f"the dialogue's {name} is not recorded")
    if not given.get("indicators", a.indicators):
        refuse(ctx, "no indicators: the yearly report's statistics must be named")


@guard
def period_ok(ctx: StepContext) -> None:
    start, end = ctx.values["period"]
    years = ctx.policy.max_period_years
    if end < start:
        refuse(ctx, f"the period ends ({end}) before it starts ({start})")
    if not cal.period_within_max(start, end, years):
        refuse(
            ctx,
            f"period {start} – {end} is longer than {ctx.policy.municipality}'s maximum of "
            f"{years} years (last allowed end date {cal.max_end_date(start, years)})",
        )


@guard
def support_covers_period(ctx: StepContext) -> None:
    start, end = ctx.values["period"]
    support: dict[int, int] = ctx.values["support"]
    for year in cal.years_between(start, end):
        if support.get(year, 0) <= 0:
            refuse(ctx, f"the economic plan has no municipal support for {year}")
    first = min(start, ctx.agreement.origin).year
    outside = sorted(y for y, amount in support.items() if amount and not first <= y <= end.year)
    if outside:
        refuse(ctx, f"the economic plan has support for {outside[0]}, outside the period")


@guard
def both_parties_contribute(ctx: StepContext) -> None:
    start, end = ctx.values["period"]
    if sum(ctx.values["support"].values()) <= 0:
        refuse(ctx, "the municipality contributes no support")
    own = [c for c in ctx.agreement.contributions if start.year <= c.year <= end.year]
    if sum(c.amount_ore for c in own) <= 0:
        refuse(ctx, "the organisation's own contribution (egna insatser) is missing")
    for c in own:
        if c.kind not in ctx.policy.contribution_kinds:
            refuse(ctx, f"{ctx.policy.municipality} does not count {c.kind.value} contributions")


@guard
def shares_complete(ctx: StepContext) -> None:
    parties = ctx.agreement.parties
    if not parties:
        refuse(ctx, "the agreement has no organisation as party")
    total = sum(p.share_bp for p in parties)
    if total != 10_000:
        refuse(ctx, f"the parties' shares sum to {total / 100:.2f} %, not 100 %")


# --- decision and signing -----------------------------------------------------


@guard
def decision_recorded(ctx: StepContext) -> None:
    decision = ctx.values["decision"]
    if decision.minutes_adjusted_on and decision.minutes_adjusted_on < decision.meeting_date:
        refuse(ctx, "the minutes cannot be adjusted (justerat) before the meeting")
    if decision.meeting_date > ctx.today:
        refuse(ctx, f"the meeting date {decision.meeting_date} is in the future")


@guard
def signer_may_sign(ctx: StepContext) -> None:
    party = ctx.values["party"]
    orgnrs = [p.organisation.organisationsnummer for p in ctx.agreement.parties]
    if party != MUNICIPALITY_PARTY and party not in orgnrs:
        refuse(ctx, f"'{party}' is not a party to the agreement")
    if ctx.actor.role is Role.ORG_REP and party != ctx.actor.organisation:
        refuse(ctx, f"{ctx.actor.name} may sign only for their own organisation")
    if ctx.actor.role is Role.OFFICER and party != MUNICIPALITY_PARTY:
        refuse(ctx, "an officer signs for the municipality only")
    if party not in missing_signatures(ctx.agreement, ctx.agreement.period_no):
        refuse(ctx, f"'{party}' has already signed")


@guard
def approving_decision(ctx: StepContext) -> None:
    if not has_approving_decision(ctx.agreement):
        refuse(ctx, "no approving nämnd decision is recorded")


@guard
def all_signed(ctx: StepContext) -> None:
    missing = missing_signatures(ctx.agreement, ctx.agreement.period_no)
    if missing:
        names = [party_name(ctx.agreement, party) for party in missing]
        refuse(ctx, f"not signed yet by: {', '.join(names)}")


# --- active period ------------------------------------------------------------


@guard
def amendment_ok(ctx: StepContext) -> None:
    new_end = ctx.values["period"][1]
    if new_end < ctx.today:
        refuse(ctx, f"the new end date {new_end} has already passed")
    released_after = [
        p
        for p in ctx.agreement.payouts
        if p.state is PayoutState.RELEASED and p.covers_from > new_end
    ]
    if released_after:
        refuse(ctx, f"a payout covering {released_after[0].covers_from} is already released")


@guard
def amended_support_given(ctx: StepContext) -> None:
    """Every year of the amended period has support, after the step's own `support.YYYY`.

    Without it the new years would be paid 0 kr instalments. A missing amount is an
    input of this step, so it is refused as bad input naming the field to give.
    """
    start, end = ctx.values["period"]
    support: dict[int, int] = ctx.values["support"]
    for year in cal.years_between(start, end):
        if support.get(year, 0) <= 0:
            raise InvalidInput(
                f"no municipal support for {year}, a year of the amended period {start} – {end}",
                record=f"step '{ctx.trigger}'",
                field=f"support.{year}",
            )


@guard
def in_final_year(ctx: StepContext) -> None:
    """The guideline *recommends* the renewal dialogue in the first months of the final
    year (the window). The schedule (the system) starts it when the window opens
    (`due.START_RENEWAL`); a person may start it earlier, any day of the current
    period, and after the decision deadline too: the audit record notes either
    (steps.py, `reminders.renewal_start_note`)."""
    opens = due.START_RENEWAL.first_day(ctx.agreement.end, ctx.policy)
    if ctx.actor.role is Role.SYSTEM:
        if not due.START_RENEWAL.holds(ctx.agreement, ctx.today, ctx.policy):
            refuse(ctx, f"the renewal dialogue opens {opens}, in the agreement's final year")
        return
    if ctx.today < ctx.agreement.start:
        refuse(
            ctx,
            f"the current period starts {ctx.agreement.start}; the renewal dialogue can start "
            f"from then (the recommended window opens {opens})",
        )


@guard
def renewal_decided_in_time(ctx: StepContext) -> None:
    decision = ctx.values["decision"]
    deadline = cal.renewal_decision_deadline(
        ctx.agreement.end, ctx.policy.renewal_decision_months_before_end
    )
    if decision.outcome is not DecisionOutcome.APPROVED:
        refuse(ctx, "renewal needs an approving nämnd decision")
    if decision.meeting_date > deadline:
        refuse(
            ctx,
            f"renewal must be decided by {deadline}; the decision is dated {decision.meeting_date}",
        )
    if decision.meeting_date > ctx.today:
        refuse(ctx, f"the meeting date {decision.meeting_date} is in the future")


@guard
def period_over(ctx: StepContext) -> None:
    if not due.END.holds(ctx.agreement, ctx.today):
        refuse(ctx, f"the period runs until {ctx.agreement.end}")


@guard
def termination_date_ok(ctx: StepContext) -> None:
    when = ctx.command_as(TerminateCommand).date
    if not ctx.agreement.start <= when <= ctx.agreement.end:
        refuse(ctx, f"termination date {when} is outside the period")
    if when > ctx.today:
        refuse(ctx, f"termination date {when} is after the day of the step {ctx.today}")


@guard
def money_owed(ctx: StepContext) -> None:
    if sum(c.amount_ore for c in ctx.values["claims"]) <= 0:
        refuse(ctx, "nothing to repay: the computed claim is 0,00 kr; close the agreement instead")


@guard
def nothing_owed(ctx: StepContext) -> None:
    owed = ctx.values["owed"]
    if owed > 0:
        refuse(ctx, f"{format_sek(owed)} is owed back; raise the claim (raise_claim) first")


@guard
def final_follow_up_done(ctx: StepContext) -> None:
    for follow_up in ctx.agreement.follow_ups:
        if follow_up.state not in DONE_FOLLOW_UP:
            refuse(ctx, f"follow-up {follow_up.year} is {follow_up.state.value}, not approved")


@guard
def payouts_done(ctx: StepContext) -> None:
    """Nothing is closed while a payout is planned or blocked: it would never be paid.

    (An agreement may end before the payout date of its last covered part.) The
    officer releases such a payout (the payout run does on its due day) or cancels it.
    """
    still_open = sorted(
        (p for p in ctx.agreement.payouts if p.state in OPEN_PAYOUT),
        key=lambda p: (p.due_on, p.covers_from, p.organisation_id),
    )
    if not still_open:
        return
    if len(still_open) == 1:
        (p,) = still_open
        refuse(
            ctx,
            f"payout {p.id} due {p.due_on} of {format_sek(p.amount_ore)} is still "
            f"{p.state.value}; release or cancel it (cancel_payout) before closing",
        )
    listed = ", ".join(
        f"payout {p.id} due {p.due_on} of {format_sek(p.amount_ore)} ({p.state.value})"
        for p in still_open
    )
    refuse(
        ctx,
        f"payouts still open: {listed}; release or cancel them (cancel_payout) before closing",
    )


@guard
def claims_settled(ctx: StepContext) -> None:
    for claim in ctx.agreement.claims:
        if claim.state in OPEN_CLAIM:
            refuse(ctx, f"claim {claim.id} of {format_sek(claim.amount_ore)} is not settled")


# --- follow-up ----------------------------------------------------------------


@guard
def follow_up_opening_reached(ctx: StepContext) -> None:
    if not due.OPEN_FOLLOW_UP.holds(ctx.target, ctx.today):
        refuse(ctx, f"follow-up {ctx.target.year} opens {ctx.target.opens_on}")


@guard
def document_ok(ctx: StepContext) -> None:
    if ctx.values["arrived"] > ctx.today:
        refuse(ctx, f"arrival date {ctx.values['arrived']} is in the future")


@guard
def documents_complete(ctx: StepContext) -> None:
    arrived = {d.kind for d in ctx.target.documents}
    missing = [k.value for k in ctx.policy.required_documents if k not in arrived]
    if missing:
        refuse(ctx, f"follow-up {ctx.target.year} lacks documents: {', '.join(missing)}")


@guard
def statistics_complete(ctx: StepContext) -> None:
    missing = [i for i in ctx.agreement.indicators if i not in ctx.target.statistics]
    if missing:
        refuse(ctx, f"the report lacks the statistics the agreement names: {', '.join(missing)}")


@guard
def not_before_submission(ctx: StepContext) -> None:
    """A report is reviewed (approved or returned) on or after the day it was submitted."""
    submitted = ctx.target.submitted_on
    if submitted is not None and ctx.today < submitted:
        refuse(ctx, f"the report was submitted {submitted}, after {ctx.today}")


@guard
def signed_before_activation(ctx: StepContext) -> None:
    """An agreement is activated on or after the day of its last signature."""
    days = [s.signed_on for s in ctx.agreement.signatures if s.period_no == ctx.agreement.period_no]
    if days and ctx.today < max(days):
        refuse(ctx, f"the last signature is dated {max(days)}, after {ctx.today}")


@guard
def approver_is_not_submitter(ctx: StepContext) -> None:
    if ctx.actor.name == ctx.target.submitted_by:
        refuse(ctx, f"{ctx.actor.name} submitted the report and may not approve it")


@guard
def report_past_due(ctx: StepContext) -> None:
    if not due.MARK_REPORT_OVERDUE.holds(ctx.target, ctx.today):
        refuse(ctx, f"the report for {ctx.target.year} is due {ctx.target.due_on}")


@guard
def back_in_period(ctx: StepContext) -> None:
    """A cancelled follow-up or payout is planned again only inside the period, and
    never on a terminated agreement (what a termination cancelled stays cancelled)."""
    a, target = ctx.agreement, ctx.target
    if a.terminated_on is not None:
        refuse(ctx, f"agreement terminated {a.terminated_on}; nothing it cancelled comes back")
    if isinstance(target, FollowUp):
        if target.year not in follow_up_years(a):
            refuse(ctx, f"{target.year} is not a year of the period {a.origin} – {a.end}")
    elif not a.origin <= target.covers_from <= a.end:
        refuse(ctx, f"{target.covers_from} is outside the period {a.origin} – {a.end}")


# --- payout and claim ---------------------------------------------------------


@guard
def payout_due(ctx: StepContext) -> None:
    if not due.PAYOUT_DUE.holds(ctx.target, ctx.today):
        refuse(ctx, f"payout {ctx.target.id} is due {ctx.target.due_on}")


@guard
def gate_holds(ctx: StepContext) -> None:
    block = gate_block(ctx.agreement, ctx.target)
    if block is not None:
        refuse(ctx, block.reason)


@guard
def gate_fails(ctx: StepContext) -> None:
    if gate_block(ctx.agreement, ctx.target) is None:
        refuse(ctx, f"payout {ctx.target.id} may be released; there is nothing to block")


@guard
def claim_past_due(ctx: StepContext) -> None:
    if not due.MARK_CLAIM_OVERDUE.holds(ctx.target, ctx.today):
        refuse(ctx, f"claim {ctx.target.id} is due {ctx.target.due_on}")


__all__ = ["AgreementState", "guard", "refuse"]
