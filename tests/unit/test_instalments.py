from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.calendar import is_banking_day, previous_banking_day
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.instalments import (
    Instalment,
    month_day_in,
    plan_instalments,
    split_shares,
)
from iop_workflow.domain.policy import MonthDay

HALVES = (
    (MonthDay(1, 1), MonthDay(6, 30)),
    (MonthDay(7, 1), MonthDay(12, 31)),
)
PAYDAYS = (MonthDay(4, 30), MonthDay(10, 31))
KR = 100


def plan(start: date, end: date, support: dict[int, int]) -> list[Instalment]:
    return plan_instalments(start=start, end=end, support=support, parts=HALVES, dates=PAYDAYS)


def test_a_full_year_is_paid_in_two_equal_halves() -> None:
    instalments = plan(date(2027, 1, 1), date(2027, 12, 31), {2027: 300_000 * KR})
    assert instalments == [
        Instalment(date(2027, 1, 1), date(2027, 6, 30), date(2027, 4, 30), 150_000 * KR),
        Instalment(date(2027, 7, 1), date(2027, 12, 31), date(2027, 10, 29), 150_000 * KR),
    ]


def test_an_odd_ore_goes_to_the_first_half() -> None:
    first, second = plan(date(2027, 1, 1), date(2027, 12, 31), {2027: 300_000 * KR + 1})
    assert (first.amount_ore, second.amount_ore) == (150_000 * KR + 1, 150_000 * KR)


def test_a_mid_year_start_is_paid_in_proportion_to_the_covered_days() -> None:
    first, second = plan(date(2027, 6, 15), date(2027, 12, 31), {2027: 100_000 * KR})
    assert (first.covers_from, first.covers_to) == (date(2027, 6, 15), date(2027, 6, 30))
    # 16 of 181 days of the first half against the whole second half: 16/197 of the year.
    assert first.amount_ore == 812_183
    assert first.amount_ore + second.amount_ore == 100_000 * KR


def test_an_agreement_starting_after_the_payout_date_is_paid_on_its_first_banking_day() -> None:
    first = plan(date(2027, 6, 15), date(2027, 12, 31), {2027: 100_000 * KR})[0]
    assert first.due_on == date(2027, 6, 15)  # not 30 April, before it existed


def test_a_start_on_a_holiday_is_paid_the_next_banking_day() -> None:
    first = plan(date(2027, 6, 25), date(2027, 12, 31), {2027: 100_000 * KR})[0]
    assert first.due_on == date(2027, 6, 28)  # midsommarafton, then the weekend


def test_a_part_outside_the_period_gets_no_instalment() -> None:
    instalments = plan(date(2027, 1, 1), date(2027, 3, 31), {2027: 75_000 * KR})
    assert [(i.covers_from, i.covers_to, i.amount_ore) for i in instalments] == [
        (date(2027, 1, 1), date(2027, 3, 31), 75_000 * KR)
    ]


def test_a_year_without_support_is_planned_with_zero() -> None:
    instalments = plan(date(2027, 1, 1), date(2028, 12, 31), {2027: 100_000 * KR})
    assert [i.amount_ore for i in instalments] == [50_000 * KR, 50_000 * KR, 0, 0]


def test_instalments_come_in_the_order_of_the_parts_they_cover() -> None:
    instalments = plan(date(2026, 7, 1), date(2029, 6, 30), {})
    starts = [i.covers_from for i in instalments]
    assert starts == sorted(starts)
    assert len(starts) == 6


def test_a_period_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput, match="end"):
        plan(date(2027, 1, 1), date(2026, 12, 31), {})


def test_negative_support_is_refused() -> None:
    with pytest.raises(InvalidInput, match="must not be negative"):
        plan(date(2027, 1, 1), date(2027, 12, 31), {2027: -1})


def test_29_february_falls_back_to_28_february_in_a_common_year() -> None:
    assert month_day_in(MonthDay(2, 29), 2027) == date(2027, 2, 28)
    assert month_day_in(MonthDay(2, 29), 2028) == date(2028, 2, 29)


periods = st.tuples(
    st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31)),
    st.integers(min_value=0, max_value=5 * 366),
)


@given(periods, st.lists(st.integers(min_value=0, max_value=10**11), min_size=8, max_size=8))
def test_the_instalments_of_a_year_sum_exactly_to_its_support(
    period: tuple[date, int], amounts: list[int]
) -> None:
    start, length = period
    end = date.fromordinal(start.toordinal() + length)
    support = {start.year + n: amount for n, amount in enumerate(amounts)}
    instalments = plan(start, end, support)
    for year in range(start.year, end.year + 1):
        in_year = [i.amount_ore for i in instalments if i.covers_from.year == year]
        assert sum(in_year) == support.get(year, 0)
    assert all(i.amount_ore >= 0 for i in instalments)


@given(periods)
def test_instalments_are_due_on_banking_days_inside_the_period(
    period: tuple[date, int],
) -> None:
    start, length = period
    end = date.fromordinal(start.toordinal() + length)
    for instalment in plan(start, end, {}):
        assert is_banking_day(instalment.due_on)
        assert instalment.due_on <= end  # never after the agreement has ended
        if instalment.due_on < instalment.covers_from:
            # Only when no banking day is left between the part's start and the end
            # (a period ending in a run of holidays): then the banking day before it.
            assert instalment.due_on == previous_banking_day(end) < instalment.covers_from
        assert start <= instalment.covers_from <= instalment.covers_to <= end


def test_an_instalment_is_split_between_parties_by_basis_points() -> None:
    assert split_shares(150_000 * KR, [6_000, 4_000]) == [90_000 * KR, 60_000 * KR]
    assert split_shares(100, [3_333, 3_333, 3_334]) == [33, 33, 34]


@pytest.mark.parametrize("shares", [[5_000, 4_000], [10_000, 1], [12_000, -2_000], []])
def test_shares_that_do_not_make_a_whole_are_refused(shares: list[int]) -> None:
    with pytest.raises(InvalidInput, match="10000 basis points"):
        split_shares(100, shares)


@st.composite
def basis_points(draw: st.DrawFn) -> list[int]:
    cuts = sorted(draw(st.lists(st.integers(0, 10_000), max_size=5)))
    bounds = [0, *cuts, 10_000]
    return [b - a for a, b in zip(bounds, bounds[1:], strict=False)]


@given(st.integers(min_value=0, max_value=10**11), basis_points())
def test_party_shares_always_sum_exactly_to_the_instalment(amount: int, shares: list[int]) -> None:
    parts = split_shares(amount, shares)
    assert sum(parts) == amount
    assert all(part >= 0 for part in parts)
