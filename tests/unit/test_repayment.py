from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.repayment import pro_rata_repayment

FIRST_HALF_2020 = (15_000_000, date(2020, 1, 1), date(2020, 6, 30))
SECOND_HALF_2020 = (15_000_000, date(2020, 7, 1), date(2020, 12, 31))


def test_the_worked_example_of_the_rules_repays_24_725_27_kr() -> None:
    total, lines = pro_rata_repayment([FIRST_HALF_2020], date(2020, 5, 31))
    assert total == 2_472_527
    assert lines == ["150 000,00 kr × 30/182 days (2020-06-01–2020-06-30) = 24 725,27 kr"]


def test_an_instalment_covering_only_time_after_termination_is_repaid_in_full() -> None:
    total, lines = pro_rata_repayment([FIRST_HALF_2020, SECOND_HALF_2020], date(2020, 5, 31))
    assert total == 2_472_527 + 15_000_000
    assert lines[1] == "150 000,00 kr × 184/184 days (2020-07-01–2020-12-31) = 150 000,00 kr"


def test_instalments_entirely_before_termination_are_not_repaid_nor_listed() -> None:
    total, lines = pro_rata_repayment([FIRST_HALF_2020, SECOND_HALF_2020], date(2020, 9, 30))
    assert len(lines) == 1
    assert lines[0].startswith("150 000,00 kr × 92/184 days (2020-10-01–2020-12-31)")
    assert total == 7_500_000


def test_termination_on_the_last_covered_day_repays_nothing() -> None:
    assert pro_rata_repayment([FIRST_HALF_2020], date(2020, 6, 30)) == (0, [])


def test_no_released_instalments_means_no_repayment() -> None:
    assert pro_rata_repayment([], date(2020, 6, 30)) == (0, [])


def test_the_sum_is_rounded_once_not_each_instalment() -> None:
    # Each share is 1/3 öre: rounding per line would claim 0, the rule claims 1.
    third = [(1, date(2020, 1, 1), date(2020, 1, 3))] * 3
    total, lines = pro_rata_repayment(third, date(2020, 1, 2))
    assert total == 1
    assert len(lines) == 3


def test_an_instalment_ending_before_it_starts_is_refused() -> None:
    with pytest.raises(InvalidInput):
        pro_rata_repayment([(100, date(2020, 6, 30), date(2020, 1, 1))], date(2020, 3, 1))


instalments = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=10**10),
        st.dates(min_value=date(2020, 1, 1), max_value=date(2030, 12, 31)),
        st.integers(min_value=0, max_value=400),
    ).map(lambda t: (t[0], t[1], t[1] + timedelta(days=t[2]))),
    max_size=10,
)
terminations = st.dates(min_value=date(2019, 6, 1), max_value=date(2031, 6, 30))


@given(instalments, terminations)
def test_a_repayment_never_exceeds_what_was_released(
    released: list[tuple[int, date, date]], terminated_on: date
) -> None:
    total, _ = pro_rata_repayment(released, terminated_on)
    assert 0 <= total <= sum(amount for amount, _, _ in released)


@given(instalments, st.integers(min_value=0, max_value=400))
def test_nothing_is_repaid_when_terminated_after_every_covered_day(
    released: list[tuple[int, date, date]], days_after: int
) -> None:
    last = max((covers_to for _, _, covers_to in released), default=date(2020, 1, 1))
    assert pro_rata_repayment(released, last + timedelta(days=days_after)) == (0, [])


@given(instalments, st.integers(min_value=1, max_value=400))
def test_everything_is_repaid_when_terminated_before_every_covered_day(
    released: list[tuple[int, date, date]], days_before: int
) -> None:
    first = min((covers_from for _, covers_from, _ in released), default=date(2020, 1, 1))
    total, _ = pro_rata_repayment(released, first - timedelta(days=days_before))
    assert total == sum(amount for amount, _, _ in released)
