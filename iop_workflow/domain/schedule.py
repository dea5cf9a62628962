"""Keep an agreement's follow-ups and payouts in line with its period and plan.

Called when an agreement is activated, renewed, amended or terminated. Released
payouts are history and never change; planned and blocked ones follow the plan
(a tilläggsavtal changes instalments not yet released).

A tilläggsavtal that shortens the period cancels the follow-ups and payouts of the
years it cuts. When a later tilläggsavtal or a renewal brings such a year back, its
follow-up and payouts are planned again (`reinstate_*`, one state change and audit
record each), with the support the plan now has for the year. Only what the period
cut comes back: never what a termination cancelled, and never what a person cancelled
with a step of its own, even when a later tilläggsavtal cut its year too. Each
cancellation records its cause (`cancel_cause`) for that; reinstating clears it.
"""

from __future__ import annotations

from datetime import date, timedelta

from .context import StepContext
from .deadlines import follow_up_dates, follow_up_years, planned_instalments
from .firing import fire_machine
from .instalments import split_shares
from .model import Agreement, FollowUp, Payout
from .money import split_largest_remainder
from .states import OPEN_PAYOUT as OPEN_PAYOUT
from .states import UNSUBMITTED_FOLLOW_UP, CancelCause, FollowUpState, PayoutState

# A follow-up whose report has not been handed in can still be cancelled with its year.
CANCELLABLE_FOLLOW_UP = UNSUBMITTED_FOLLOW_UP


def last_active_day(agreement: Agreement) -> date:
    return agreement.terminated_on or agreement.end


def desired_payouts(ctx: StepContext) -> dict[tuple[date, int], Payout]:
    agreement = ctx.agreement
    instalments = planned_instalments(agreement, ctx.policy)
    wanted: dict[tuple[date, int], Payout] = {}
    shares = [p.share_bp for p in agreement.parties]
    for instalment in instalments:
        amounts = split_shares(instalment.amount_ore, shares)
        for party, amount in zip(agreement.parties, amounts, strict=True):
            org_id = party.organisation.id if party.organisation.id is not None else -1
            wanted[(instalment.covers_from, org_id)] = Payout(
                organisation_id=org_id,
                covers_from=instalment.covers_from,
                covers_to=instalment.covers_to,
                due_on=instalment.due_on,
                amount_ore=amount,
            )
    return wanted


def cancel(
    ctx: StepContext, entity: str, item: FollowUp | Payout, cause: CancelCause, *, reason: str
) -> None:
    """Cancel a follow-up or a payout as part of another step, recording why."""
    fire_machine(ctx, entity, item, f"cancel_{entity}", reason=reason)
    item.cancel_cause = cause


def cut_from_period(
    agreement: Agreement, item: FollowUp | Payout, first_day: date, previous_end: date
) -> bool:
    """Was `item` (starting on `first_day`) cancelled because the period was cut?

    Its recorded cause decides: only `CancelCause.PERIOD` comes back, never what a
    termination or a person cancelled.
    """
    if agreement.terminated_on is not None:
        return False  # what a termination left behind stays as it is (back_in_period)
    if item.cancel_cause is None:
        # Cancelled before migration 0004 recorded the cause: fall back to the dates as
        # before. This guess is wrong for an item a person cancelled inside the period
        # whose year a tilläggsavtal later cut; only rows from before 0004 meet it.
        return cut_by_amendment(agreement, first_day, previous_end)
    return item.cancel_cause is CancelCause.PERIOD


def cut_by_amendment(agreement: Agreement, first_day: date, previous_end: date) -> bool:
    """The fallback for a cancellation without a recorded cause (from before 0004).

    Was something starting on `first_day` cancelled because a tilläggsavtal cut it?
    It lay after the end the period had before this step (so the period had been
    shortened past it), a recorded tilläggsavtal ended the period before it, and the
    agreement was never terminated. An item cancelled inside the period (by hand)
    fails the first test, unless a later tilläggsavtal also cut its year: the dates
    cannot tell that case apart, which is why the cause is recorded now.
    """
    if agreement.terminated_on is not None or first_day <= previous_end:
        return False
    return any(
        amendment.new_end is not None and amendment.new_end < first_day
        for amendment in agreement.amendments
    )


def sync_schedule(ctx: StepContext, *, previous_end: date | None = None) -> None:
    """Follow-ups and payouts after a change of period or plan.

    `previous_end` is the period's end before the step; by default the day before the
    current period starts (right for activation and renewal, which start a period).
    """
    agreement = ctx.agreement
    if previous_end is None:
        previous_end = agreement.start - timedelta(days=1)
    back = f"back in the period, which now ends {agreement.end}"
    cause = CancelCause.TERMINATION if agreement.terminated_on else CancelCause.PERIOD
    years = follow_up_years(agreement)
    for year in years:
        opens_on, due_on = follow_up_dates(agreement, ctx.policy, year)
        existing = agreement.follow_up(year)
        if existing is None:
            agreement.follow_ups.append(FollowUp(year=year, opens_on=opens_on, due_on=due_on))
            continue
        if existing.state is FollowUpState.CANCELLED and cut_from_period(
            agreement, existing, date(year, 1, 1), previous_end
        ):
            fire_machine(ctx, "follow_up", existing, "reinstate_follow_up", reason=back)
            existing.cancel_cause = None
        if existing.state in CANCELLABLE_FOLLOW_UP:
            existing.opens_on, existing.due_on = opens_on, due_on
    for follow_up in list(agreement.follow_ups):
        if follow_up.year not in years and follow_up.state in CANCELLABLE_FOLLOW_UP:
            cancel(ctx, "follow_up", follow_up, cause, reason="outside the period")

    wanted = {} if agreement.terminated_on else desired_payouts(ctx)
    have = {(p.covers_from, p.organisation_id): p for p in agreement.payouts}
    for key in wanted:
        current = have.get(key)
        if (
            current is not None
            and current.state is PayoutState.CANCELLED
            and cut_from_period(agreement, current, current.covers_from, previous_end)
        ):
            fire_machine(ctx, "payout", current, "reinstate_payout", reason=back)
            current.blocked_reason = current.cancel_cause = None
    totals = _year_totals(wanted)
    _drop_paid_for(agreement, wanted)
    _rest_after_released(agreement, wanted, have, totals)
    for key, payout in wanted.items():
        current = have.get(key)
        if current is None:
            agreement.payouts.append(payout)
        elif current.state in OPEN_PAYOUT:
            current.covers_to, current.due_on = payout.covers_to, payout.due_on
            current.amount_ore = payout.amount_ore
    for key, payout in have.items():
        if key not in wanted and payout.state in OPEN_PAYOUT:
            reason = (
                f"agreement terminated {agreement.terminated_on}"
                if agreement.terminated_on
                else "no longer in the payout plan"
            )
            cancel(ctx, "payout", payout, cause, reason=reason)


def _year_totals(wanted: dict[tuple[date, int], Payout]) -> dict[tuple[int, int], int]:
    """What the plan pays each party for each year: (year, organisation) -> öre."""
    totals: dict[tuple[int, int], int] = {}
    for (covers_from, org_id), payout in wanted.items():
        key = (covers_from.year, org_id)
        totals[key] = totals.get(key, 0) + payout.amount_ore
    return totals


def _drop_paid_for(agreement: Agreement, wanted: dict[tuple[date, int], Payout]) -> None:
    """A new plan (a tilläggsavtal or a renewal changing the interval) re-plans only
    what is not yet paid: an instalment whose days a released payout of another part
    already covers is not planned again."""
    released = [p for p in agreement.payouts if p.state is PayoutState.RELEASED]
    for key, payout in list(wanted.items()):
        if any(
            p.organisation_id == key[1]
            and p.covers_from != key[0]
            and p.covers_from <= payout.covers_to
            and payout.covers_from <= p.covers_to
            for p in released
        ):
            del wanted[key]


def _rest_after_released(
    agreement: Agreement,
    wanted: dict[tuple[date, int], Payout],
    have: dict[tuple[date, int], Payout],
    totals: dict[tuple[int, int], int],
) -> None:
    """A year's released instalments keep their amounts; its open ones share the rest
    of what the plan pays for the year (`totals`).

    So when a tilläggsavtal changes the support of a year that is partly paid, the
    year's payouts to each party still sum to that party's share of the new support
    (never less than what is already paid: that would need a repayment claim).
    """
    groups: dict[tuple[int, int], list[tuple[date, int]]] = {}
    for key in wanted:
        groups.setdefault((key[0].year, key[1]), []).append(key)
    for (year, org_id), keys in groups.items():
        paid = sum(
            p.amount_ore
            for p in agreement.payouts
            if p.state is PayoutState.RELEASED
            and p.covers_from.year == year
            and p.organisation_id == org_id
        )
        if not paid:
            continue
        open_keys = [k for k in keys if k not in have or have[k].state in OPEN_PAYOUT]
        if not open_keys:
            continue
        rest = max(0, totals[(year, org_id)] - paid)
        weights = [wanted[k].amount_ore for k in open_keys]
        if not any(weights):
            weights = [1] * len(open_keys)
        for key, amount in zip(open_keys, split_largest_remainder(rest, weights), strict=True):
            wanted[key].amount_ore = amount


def claim_due(ctx: StepContext) -> date:
    return ctx.today + timedelta(days=ctx.policy.claim_due_days)
