from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pytest

from iop_workflow.domain import deadlines as dl
from iop_workflow.domain.deadlines import (
    Obligation,
    effective_payout_dates,
    effective_report_due,
    follow_up_dates,
    follow_up_years,
    obligations,
)
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.model import Agreement, YearSupport
from iop_workflow.domain.policy import MonthDay, Policy
from iop_workflow.policies import load_policy

KR = 100


@pytest.fixture
def mjolby() -> Policy:
    return load_policy("mjolby")


def agreement(
    start: date = date(2027, 1, 1),
    end: date = date(2031, 12, 31),
    per_year_kr: int = 300_000,
    **changes: Any,
) -> Agreement:
    made = Agreement(
        diarienummer="OSN 2026/42",
        municipality="mjolby",
        committee="Omsorgs- och socialnämnden",
        title="Mötesplats för anhöriga",
        purpose="Stöd till anhöriga",
        target_group="Anhöriga",
        start=start,
        end=end,
        officer="Anna Handläggare",
        support=[YearSupport(y, per_year_kr * KR) for y in range(start.year, end.year + 1)],
    )
    return dataclasses.replace(made, **changes)


def of_kind(found: list[Obligation], kind: str) -> list[Obligation]:
    return [o for o in found if o.kind == kind]


def test_mjolby_five_year_agreement_pays_ten_halves_on_banking_days(mjolby: Policy) -> None:
    payouts = of_kind(obligations(agreement(), mjolby), dl.PAYOUT)
    assert [p.due for p in payouts] == [
        date(2027, 4, 30),
        date(2027, 10, 29),  # 31 October 2027 is a Sunday
        date(2028, 4, 28),  # 30 April 2028 is a Sunday
        date(2028, 10, 31),
        date(2029, 4, 30),
        date(2029, 10, 31),
        date(2030, 4, 30),
        date(2030, 10, 31),
        date(2031, 4, 30),
        date(2031, 10, 31),
    ]
    assert all(p.description.startswith("Payout of 150 000,00 kr") for p in payouts)
    assert all(p.responsible == "officer" for p in payouts)
    assert payouts[0].subject == "2027-01-01"
    assert payouts[1].subject == "2027-07-01"


def test_mjolby_five_year_agreement_has_a_report_for_every_year(mjolby: Policy) -> None:
    found = obligations(agreement(), mjolby)
    reports = of_kind(found, dl.REPORT_DUE)
    assert [(r.subject, r.due) for r in reports] == [
        (str(year), date(year + 1, 3, 31)) for year in range(2027, 2032)
    ]
    assert all(r.responsible == "organisation" for r in reports)
    opens = of_kind(found, dl.FOLLOW_UP_OPENS)
    assert [(o.subject, o.due) for o in opens] == [
        (str(year), date(year, 11, 1)) for year in range(2027, 2032)
    ]


def test_mjolby_five_year_agreement_has_its_renewal_dates(mjolby: Policy) -> None:
    found = obligations(agreement(), mjolby)
    assert [o.due for o in of_kind(found, dl.RENEWAL_WINDOW_OPENS)] == [date(2031, 1, 1)]
    assert [o.due for o in of_kind(found, dl.RENEWAL_WINDOW_CLOSES)] == [date(2031, 2, 28)]
    (deadline,) = of_kind(found, dl.RENEWAL_DECISION_DEADLINE)
    assert (deadline.due, deadline.responsible, deadline.blocks) == (
        date(2031, 9, 30),
        "committee",
        ("renewal",),
    )
    assert [o.due for o in of_kind(found, dl.AGREEMENT_ENDS)] == [date(2031, 12, 31)]


def test_a_report_blocks_the_payouts_of_the_next_year(mjolby: Policy) -> None:
    reports = {r.subject: r for r in of_kind(obligations(agreement(), mjolby), dl.REPORT_DUE)}
    assert reports["2027"].blocks == ("payout 2028-04-28", "payout 2028-10-31")
    assert reports["2031"].blocks == ("closing of the agreement",)


def test_obligations_come_in_date_order(mjolby: Policy) -> None:
    found = obligations(agreement(), mjolby)
    assert found == sorted(found, key=lambda o: (o.due, o.kind))
    assert {o.kind for o in found} == set(dl.KINDS)


def test_a_terminated_agreement_plans_no_payout_for_time_after_termination(
    mjolby: Policy,
) -> None:
    found = obligations(agreement(terminated_on=date(2029, 5, 31)), mjolby)
    payouts = of_kind(found, dl.PAYOUT)
    assert payouts[-1].subject == "2029-01-01"
    # The half it ends in keeps the amount it was planned with.
    assert payouts[-1].description.startswith("Payout of 150 000,00 kr")
    assert len(payouts) == 5


def test_a_terminated_agreement_has_no_renewal_and_a_final_follow_up(mjolby: Policy) -> None:
    found = obligations(agreement(terminated_on=date(2029, 5, 31)), mjolby)
    kinds = {o.kind for o in found}
    assert not kinds & {
        dl.RENEWAL_WINDOW_OPENS,
        dl.RENEWAL_WINDOW_CLOSES,
        dl.RENEWAL_DECISION_DEADLINE,
        dl.AGREEMENT_ENDS,
    }
    final = of_kind(found, dl.REPORT_DUE)[-1]
    assert (final.subject, final.due, final.blocks) == (
        "2029",
        date(2030, 3, 31),
        ("closing of the agreement",),
    )


def test_the_final_follow_up_opens_the_day_after_an_early_end(mjolby: Policy) -> None:
    terminated = agreement(terminated_on=date(2029, 5, 31))
    assert follow_up_years(terminated) == [2027, 2028, 2029]
    assert follow_up_dates(terminated, mjolby, 2029) == (date(2029, 6, 1), date(2030, 3, 31))
    short = agreement(start=date(2027, 3, 1), end=date(2029, 8, 31))
    assert follow_up_dates(short, mjolby, 2029) == (date(2029, 9, 1), date(2030, 3, 31))


def test_a_follow_up_of_a_year_outside_the_agreement_is_refused(mjolby: Policy) -> None:
    with pytest.raises(InvalidInput, match="2032"):
        follow_up_dates(agreement(), mjolby, 2032)


def test_follow_ups_count_from_the_first_period_after_a_renewal() -> None:
    renewed = agreement(
        start=date(2032, 1, 1), end=date(2033, 12, 31), first_start=date(2027, 1, 1)
    )
    assert follow_up_years(renewed) == list(range(2027, 2034))


def test_an_agreement_may_set_its_own_payout_dates_where_the_policy_allows(
    mjolby: Policy,
) -> None:
    own = agreement(payout_dates=["03-15", "09-15"])
    assert effective_payout_dates(own, mjolby) == (MonthDay(3, 15), MonthDay(9, 15))
    payouts = of_kind(obligations(own, mjolby), dl.PAYOUT)
    assert [p.due for p in payouts[:2]] == [date(2027, 3, 15), date(2027, 9, 15)]


def test_an_agreement_may_set_its_own_report_due_day_where_the_policy_allows(
    mjolby: Policy,
) -> None:
    own = agreement(report_due="02-29")
    assert effective_report_due(own, mjolby) == MonthDay(2, 29)
    assert follow_up_dates(own, mjolby, 2027)[1] == date(2028, 2, 29)
    assert follow_up_dates(own, mjolby, 2028)[1] == date(2029, 2, 28)


def test_without_overrides_the_policy_dates_apply(mjolby: Policy) -> None:
    assert effective_payout_dates(agreement(), mjolby) == mjolby.payout_dates
    assert effective_report_due(agreement(), mjolby) == mjolby.report_due


def test_an_override_the_policy_does_not_allow_is_refused(mjolby: Policy) -> None:
    strict = dataclasses.replace(mjolby, overridable=frozenset())
    with pytest.raises(InvalidInput, match="does not allow") as refused:
        effective_payout_dates(agreement(payout_dates=["03-15", "09-15"]), strict)
    assert refused.value.field == "payout_dates"
    with pytest.raises(InvalidInput, match="does not allow") as refused:
        effective_report_due(agreement(report_due="02-28"), strict)
    assert refused.value.field == "report_due"


@pytest.mark.parametrize(
    ("dates", "hint"),
    [
        (["03-15"], "exactly 2 dates"),
        (["03-15", "09-15", "12-15"], "exactly 2 dates"),
        (["03-15", "13-01"], "not a valid MM-DD"),
        (["03-15", "sept"], "not a valid MM-DD"),
    ],
)
def test_malformed_payout_dates_are_refused(mjolby: Policy, dates: list[str], hint: str) -> None:
    with pytest.raises(InvalidInput, match=hint) as refused:
        obligations(agreement(payout_dates=dates), mjolby)
    assert refused.value.field == "payout_dates"
    assert refused.value.record == "agreement OSN 2026/42"


def test_a_malformed_report_due_day_is_refused(mjolby: Policy) -> None:
    with pytest.raises(InvalidInput, match="not a valid MM-DD") as refused:
        effective_report_due(agreement(report_due="31-03"), mjolby)
    assert refused.value.field == "report_due"
