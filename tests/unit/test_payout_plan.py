"""Payout plans the nämnd decides: 1, 2, 4 or 12 instalments a year, or explicit dates."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.calendar import is_banking_day
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.instalments import Instalment, plan_dated_instalments, plan_instalments
from iop_workflow.domain.payout_plan import PayoutPlan, parse_plan

KR = 100


def per_year(plan: PayoutPlan, start: date, end: date, support: dict[int, int]) -> list[Instalment]:
    return plan_instalments(
        start=start, end=end, support=support, parts=plan.parts(), dates=plan.pay_days()
    )


@st.composite
def periods(draw: st.DrawFn) -> tuple[date, date, dict[int, int]]:
    """1 to 5 years from any day of 2026–2030, with any support (öre) per year."""
    start = draw(st.dates(date(2026, 1, 1), date(2030, 12, 31)))
    days = draw(st.integers(0, 5 * 365 - 1))
    end = start + timedelta(days=days)
    support = {
        year: draw(st.integers(0, 10_000_000 * KR)) for year in range(start.year, end.year + 1)
    }
    return start, end, support


def assert_plan_holds(
    instalments: list[Instalment], start: date, end: date, support: dict[int, int]
) -> None:
    sums: dict[int, int] = defaultdict(int)
    for i in instalments:
        sums[i.covers_from.year] += i.amount_ore
        assert i.covers_from.year == i.covers_to.year  # never two years' support in one
        assert start <= i.covers_from <= i.covers_to <= end
        assert is_banking_day(i.due_on)
        assert i.due_on <= end
    assert dict(sums) == support
    # The instalments cover the period, day by day, without a gap or an overlap.
    days = sorted(instalments, key=lambda i: i.covers_from)
    assert days[0].covers_from == start and days[-1].covers_to == end
    for before, after in zip(days, days[1:], strict=False):
        assert after.covers_from == before.covers_to + timedelta(days=1)


@pytest.mark.parametrize("count", [1, 2, 4, 12])
@given(period=periods())
def test_every_interval_sums_exactly_to_each_years_support(
    count: int, period: tuple[date, date, dict[int, int]]
) -> None:
    start, end, support = period
    instalments = per_year(PayoutPlan(per_year=count), start, end, support)
    assert_plan_holds(instalments, start, end, support)
    for year in support:
        in_year = [i for i in instalments if i.covers_from.year == year]
        assert len(in_year) <= count


@given(period=periods(), data=st.data())
def test_explicit_dates_sum_exactly_and_cover_the_period(
    period: tuple[date, date, dict[int, int]], data: st.DataObject
) -> None:
    start, end, support = period
    dates = sorted(set(data.draw(st.lists(st.dates(start, end), min_size=1, max_size=20))))
    instalments = plan_dated_instalments(start=start, end=end, support=support, dates=dates)
    assert_plan_holds(instalments, start, end, support)


def test_a_full_year_of_quarters_is_four_equal_instalments_paid_as_each_quarter_begins() -> None:
    plan = parse_plan("kvartalsvis")
    instalments = per_year(plan, date(2027, 1, 1), date(2027, 12, 31), {2027: 300_000 * KR})
    assert [(i.covers_from, i.covers_to, i.due_on, i.amount_ore) for i in instalments] == [
        (date(2027, 1, 1), date(2027, 3, 31), date(2027, 1, 4), 75_000 * KR),  # 1 Jan: holiday
        (date(2027, 4, 1), date(2027, 6, 30), date(2027, 4, 1), 75_000 * KR),
        (date(2027, 7, 1), date(2027, 9, 30), date(2027, 7, 1), 75_000 * KR),
        (date(2027, 10, 1), date(2027, 12, 31), date(2027, 10, 1), 75_000 * KR),
    ]


def test_a_part_cut_by_the_period_gets_its_share_of_the_part() -> None:
    # From 15 February: the first quarter is covered for 45 of its 90 days.
    instalments = per_year(
        PayoutPlan(per_year=4), date(2027, 2, 15), date(2027, 12, 31), {2027: 350_000 * KR}
    )
    amounts = [i.amount_ore for i in instalments]
    assert sum(amounts) == 350_000 * KR
    assert amounts[0] * 2 == pytest.approx(amounts[1], abs=2)


def test_the_half_years_end_before_their_payout_day_are_paid_on_the_last_banking_day() -> None:
    # A Mjölby-style half-year paid 30 April, but the agreement ends 15 March 2027.
    from iop_workflow.domain.policy import MonthDay

    (only,) = plan_instalments(
        start=date(2027, 1, 1),
        end=date(2027, 3, 14),  # a Sunday
        support={2027: 100 * KR},
        parts=[(MonthDay(1, 1), MonthDay(6, 30)), (MonthDay(7, 1), MonthDay(12, 31))],
        dates=[MonthDay(4, 30), MonthDay(10, 31)],
    )
    assert only.due_on == date(2027, 3, 12)  # the Friday before


@pytest.mark.parametrize(
    ("text", "plan"),
    [
        ("1", PayoutPlan(per_year=1)),
        ("12", PayoutPlan(per_year=12)),
        ("monthly", PayoutPlan(per_year=12)),
        ("Halvårsvis", PayoutPlan(per_year=2)),
        ("2027-03-01, 2027-09-01", PayoutPlan(dates=(date(2027, 3, 1), date(2027, 9, 1)))),
        ({"per_year": 4}, PayoutPlan(per_year=4)),
        ({"dates": ["2027-03-01"]}, PayoutPlan(dates=(date(2027, 3, 1),))),
    ],
)
def test_a_plan_is_read_from_a_number_a_word_or_dates(text: object, plan: PayoutPlan) -> None:
    assert parse_plan(text) == plan
    assert parse_plan(plan.stored()) == plan


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("3", "'3' is not a payout interval"),
        ("weekly", "'weekly' is not a payout interval"),
        ("2027-03-01,2027-03-01", "the dates must be in order"),
        ("2027-02-30", "'2027-02-30' is not a date"),
        ({"per_year": 4, "dates": []}, "must be a number of instalments a year or a list"),
        ([], "needs at least one date"),
    ],
)
def test_a_bad_plan_names_the_field(text: object, message: str) -> None:
    with pytest.raises(InvalidInput, match="payout_plan") as error:
        parse_plan(text)
    assert message in str(error.value)


def test_dates_outside_the_period_are_refused() -> None:
    plan = parse_plan("2027-03-01,2028-03-01")
    with pytest.raises(InvalidInput, match="2028-03-01 is outside the period"):
        plan.check_period(date(2027, 1, 1), date(2027, 12, 31))
