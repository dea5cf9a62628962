"""The deadline engine: every dated obligation an agreement gives rise to.

Pure: the obligations follow from the agreement and its municipality's policy
alone; what is already done (released, approved) is for the caller to compare.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from . import calendar
from .errors import InvalidInput
from .instalments import Instalment, month_day_in, plan_dated_instalments, plan_instalments
from .model import Agreement
from .money import format_sek
from .payout_plan import PayoutPlan, stored_plan
from .policy import MonthDay, Policy

PAYOUT = "payout"
FOLLOW_UP_OPENS = "follow_up_opens"
REPORT_DUE = "report_due"
RENEWAL_WINDOW_OPENS = "renewal_window_opens"
RENEWAL_WINDOW_CLOSES = "renewal_window_closes"
RENEWAL_DECISION_DEADLINE = "renewal_decision_deadline"
AGREEMENT_ENDS = "agreement_ends"

KINDS = (
    PAYOUT,
    FOLLOW_UP_OPENS,
    REPORT_DUE,
    RENEWAL_WINDOW_OPENS,
    RENEWAL_WINDOW_CLOSES,
    RENEWAL_DECISION_DEADLINE,
    AGREEMENT_ENDS,
)

CLOSING = "closing of the agreement"


@dataclass(frozen=True)
class Obligation:
    kind: str
    due: date
    responsible: str  # "officer", "organisation", "committee", "officer and organisation"
    blocks: tuple[str, ...]  # what cannot happen until this is done
    subject: str  # "2027" for a follow-up year, covers_from for a payout, else ""
    description: str


def _record(agreement: Agreement) -> str:
    return f"agreement {agreement.diarienummer}"


def _check_allowed(agreement: Agreement, policy: Policy, field: str) -> None:
    if field not in policy.overridable:
        raise InvalidInput(
            f"the {policy.key} policy does not allow a per-agreement {field}",
            record=_record(agreement),
            field=field,
        )


def _month_day(agreement: Agreement, text: object, field: str) -> MonthDay:
    try:
        if isinstance(text, str):
            return MonthDay.parse(text, field)
    except InvalidInput:
        pass
    raise InvalidInput(
        f"'{text}' is not a valid MM-DD date", record=_record(agreement), field=field
    )


def effective_payout_dates(agreement: Agreement, policy: Policy) -> tuple[MonthDay, ...]:
    """The agreement's own payout dates where the policy allows them, else the policy's."""
    override = agreement.payout_dates
    if override is None:
        return policy.payout_dates
    _check_allowed(agreement, policy, "payout_dates")
    if not isinstance(override, (list, tuple)) or len(override) != len(policy.payout_parts):
        raise InvalidInput(
            f"needs exactly {len(policy.payout_parts)} dates, one per covered part "
            f"({', '.join(f'{a}..{b}' for a, b in policy.payout_parts)})",
            record=_record(agreement),
            field="payout_dates",
        )
    return tuple(_month_day(agreement, text, "payout_dates") for text in override)


def effective_report_due(agreement: Agreement, policy: Policy) -> MonthDay:
    """The agreement's own report due day (in year Y+1) where allowed, else the policy's."""
    override = agreement.report_due
    if override is None:
        return policy.report_due
    _check_allowed(agreement, policy, "report_due")
    return _month_day(agreement, override, "report_due")


def last_active_day(agreement: Agreement) -> date:
    if agreement.terminated_on is not None:
        return min(agreement.terminated_on, agreement.end)
    return agreement.end


def follow_up_years(agreement: Agreement) -> list[int]:
    """Every calendar year the agreement was active in, the final partial year included."""
    last = last_active_day(agreement)
    if last < agreement.origin:
        return []  # terminated before it ever started: nothing to follow up
    return list(calendar.years_between(agreement.origin, last))


def follow_up_dates(agreement: Agreement, policy: Policy, year: int) -> tuple[date, date]:
    """(opens_on, due_on) of the follow-up of `year`."""
    years = follow_up_years(agreement)
    if year not in years:
        raise InvalidInput(
            f"{year} is not a year the agreement is active in",
            record=_record(agreement),
            field="year",
        )
    opens_on = month_day_in(policy.follow_up_opens, year)
    if year == years[-1]:
        # An agreement ending before the usual opening day is followed up once it ends.
        opens_on = min(opens_on, last_active_day(agreement) + timedelta(days=1))
    due_on = month_day_in(effective_report_due(agreement, policy), year + 1)
    return opens_on, due_on


def obligations(agreement: Agreement, policy: Policy) -> list[Obligation]:
    """All dated obligations of the agreement, sorted by (due, kind)."""
    found = _payouts(agreement, policy)
    years = follow_up_years(agreement)
    for year in years:
        opens_on, due_on = follow_up_dates(agreement, policy, year)
        if year == years[-1]:
            blocks: tuple[str, ...] = (CLOSING,)
        else:
            # The payout gate: payouts in Y+1 wait for the approved report on Y.
            blocks = tuple(
                f"payout {p.due.isoformat()}"
                for p in found
                if p.kind == PAYOUT and p.due.year == year + 1
            )
        found.append(
            Obligation(
                kind=FOLLOW_UP_OPENS,
                due=opens_on,
                responsible="officer",
                blocks=(),
                subject=str(year),
                description=f"Follow-up of {year} opens",
            )
        )
        found.append(
            Obligation(
                kind=REPORT_DUE,
                due=due_on,
                responsible="organisation",
                blocks=blocks,
                subject=str(year),
                description=f"Report on {year} due from the organisation",
            )
        )
    if agreement.terminated_on is None:
        found.extend(_renewal(agreement, policy))
    return sorted(found, key=lambda o: (o.due, o.kind))


def effective_payout_plan(agreement: Agreement, policy: Policy) -> PayoutPlan | None:
    """The plan the nämnd decided for the agreement where the policy allows one, else
    None: the preset's parts and dates (with the agreement's own dates, if any)."""
    plan = stored_plan(agreement.payout_plan)
    if plan is not None:
        _check_allowed(agreement, policy, "payout_plan")
    return plan


def planned_instalments(agreement: Agreement, policy: Policy) -> list[Instalment]:
    """Every instalment of the agreement's plan over all its periods, by the part it
    covers: the one place the plan (preset's or decided) becomes dated amounts."""
    support: dict[int, int] = {}
    for entry in agreement.support:
        support[entry.year] = support.get(entry.year, 0) + entry.amount_ore
    start, end = agreement.origin, agreement.end
    plan = effective_payout_plan(agreement, policy)
    if plan is not None and plan.dates:
        return plan_dated_instalments(start=start, end=end, support=support, dates=plan.dates)
    if plan is not None and plan.per_year != len(policy.payout_parts):
        return plan_instalments(
            start=start, end=end, support=support, parts=plan.parts(), dates=plan.pay_days()
        )
    return plan_instalments(
        start=start,
        end=end,
        support=support,
        parts=policy.payout_parts,
        dates=effective_payout_dates(agreement, policy),
    )


def _payouts(agreement: Agreement, policy: Policy) -> list[Obligation]:
    # Planned over the whole period and then cut at a termination, so that the
    # instalments before it keep the amounts they were planned (and paid) with.
    plan = planned_instalments(agreement, policy)
    terminated_on = agreement.terminated_on
    return [
        Obligation(
            kind=PAYOUT,
            due=i.due_on,
            responsible="officer",
            blocks=(),
            subject=i.covers_from.isoformat(),
            description=(
                f"Payout of {format_sek(i.amount_ore)} for "
                f"{i.covers_from.isoformat()}–{i.covers_to.isoformat()}"
            ),
        )
        for i in plan
        if terminated_on is None or i.covers_from <= terminated_on
    ]


def end_dates(end: date, policy: Policy) -> dict[str, date]:
    """The dated steps towards an agreement's end, by obligation kind: the one place the
    renewal window and the decision deadline are computed from the end date."""
    window_opens, window_closes = calendar.renewal_window(end, policy.renewal_window_months)
    deadline = calendar.renewal_decision_deadline(end, policy.renewal_decision_months_before_end)
    return {
        AGREEMENT_ENDS: end,
        RENEWAL_WINDOW_OPENS: window_opens,
        RENEWAL_WINDOW_CLOSES: window_closes,
        RENEWAL_DECISION_DEADLINE: deadline,
    }


def _renewal(agreement: Agreement, policy: Policy) -> list[Obligation]:
    end = agreement.end
    dates = end_dates(end, policy)
    window_opens, window_closes = dates[RENEWAL_WINDOW_OPENS], dates[RENEWAL_WINDOW_CLOSES]
    deadline = dates[RENEWAL_DECISION_DEADLINE]
    both = "officer and organisation"
    return [
        Obligation(
            kind=RENEWAL_WINDOW_OPENS,
            due=window_opens,
            responsible=both,
            blocks=(),
            subject="",
            description=f"Renewal dialogue window of the final year {end.year} opens",
        ),
        Obligation(
            kind=RENEWAL_WINDOW_CLOSES,
            due=window_closes,
            responsible=both,
            blocks=(),
            subject="",
            description=f"Renewal dialogue window of the final year {end.year} closes",
        ),
        Obligation(
            kind=RENEWAL_DECISION_DEADLINE,
            due=deadline,
            responsible="committee",
            blocks=("renewal",),
            subject="",
            description=f"Last day for the committee to decide a renewal (agreement ends {end})",
        ),
        Obligation(
            kind=AGREEMENT_ENDS,
            due=end,
            responsible="officer",
            blocks=(),
            subject="",
            description=f"Agreement ends on {end}",
        ),
    ]
