from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.calendar import (
    add_months,
    days_inclusive,
    is_banking_day,
    max_end_date,
    next_banking_day,
    period_within_max,
    previous_banking_day,
    renewal_decision_deadline,
    renewal_window,
)
from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.orgnr import luhn_ok, normalise_orgnr

days = st.dates(min_value=date(2020, 1, 1), max_value=date(2040, 12, 31))


@pytest.mark.parametrize(
    "day",
    [
        date(2027, 6, 25),  # midsommarafton (a Friday)
        date(2027, 12, 24),  # julafton (a Friday)
        date(2027, 12, 31),  # nyårsafton (a Friday)
        date(2027, 3, 26),  # långfredagen
        date(2027, 5, 6),  # Kristi himmelfärdsdag (a Thursday)
        date(2028, 6, 6),  # nationaldagen (a Tuesday)
        date(2027, 10, 31),  # a Sunday
        date(2027, 10, 30),  # a Saturday
    ],
)
def test_weekends_holidays_and_the_eves_are_not_banking_days(day: date) -> None:
    assert not is_banking_day(day)


@pytest.mark.parametrize("day", [date(2027, 6, 24), date(2027, 12, 23), date(2028, 10, 31)])
def test_ordinary_weekdays_are_banking_days(day: date) -> None:
    assert is_banking_day(day)


def test_a_sunday_payout_moves_back_to_the_friday() -> None:
    assert previous_banking_day(date(2027, 10, 31)) == date(2027, 10, 29)


def test_a_payout_on_christmas_moves_back_past_julafton() -> None:
    assert previous_banking_day(date(2027, 12, 26)) == date(2027, 12, 23)


def test_a_payout_on_midsummer_day_moves_back_past_midsommarafton() -> None:
    assert previous_banking_day(date(2027, 6, 26)) == date(2027, 6, 24)


def test_the_next_banking_day_after_julafton_is_after_the_christmas_weekend() -> None:
    assert next_banking_day(date(2027, 12, 24)) == date(2027, 12, 27)


def test_a_banking_day_stays_where_it_is() -> None:
    assert previous_banking_day(date(2028, 10, 31)) == date(2028, 10, 31)
    assert next_banking_day(date(2028, 10, 31)) == date(2028, 10, 31)


@given(days)
def test_the_previous_banking_day_is_the_closest_one_on_or_before(day: date) -> None:
    moved = previous_banking_day(day)
    assert moved <= day
    assert is_banking_day(moved)
    skipped = (moved + timedelta(days=n) for n in range(1, (day - moved).days + 1))
    assert not any(is_banking_day(d) for d in skipped)


@given(days)
def test_the_next_banking_day_is_the_closest_one_on_or_after(day: date) -> None:
    moved = next_banking_day(day)
    assert moved >= day
    assert is_banking_day(moved)
    skipped = (day + timedelta(days=n) for n in range((moved - day).days))
    assert not any(is_banking_day(d) for d in skipped)


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2024, 5, 31), -3, date(2024, 2, 29)),
        (date(2023, 5, 31), -3, date(2023, 2, 28)),
        (date(2031, 12, 31), -3, date(2031, 9, 30)),
        (date(2027, 11, 30), 3, date(2028, 2, 29)),
        (date(2027, 1, 15), 12, date(2028, 1, 15)),
    ],
)
def test_adding_months_clamps_to_the_last_day_of_the_month(
    day: date, months: int, expected: date
) -> None:
    assert add_months(day, months) == expected


def test_a_five_year_agreement_may_run_to_the_day_before_the_fifth_anniversary() -> None:
    assert max_end_date(date(2027, 1, 1), 5) == date(2031, 12, 31)
    assert period_within_max(date(2027, 1, 1), date(2031, 12, 31), 5)


def test_a_period_ending_on_the_fifth_anniversary_is_too_long() -> None:
    assert not period_within_max(date(2027, 1, 1), date(2032, 1, 1), 5)


def test_a_period_ending_before_it_starts_is_not_within_the_maximum() -> None:
    assert not period_within_max(date(2027, 1, 1), date(2026, 12, 31), 5)


def test_the_renewal_decision_is_due_three_calendar_months_before_the_end() -> None:
    assert renewal_decision_deadline(date(2031, 12, 31), 3) == date(2031, 9, 30)
    assert renewal_decision_deadline(date(2024, 5, 31), 3) == date(2024, 2, 29)


def test_the_renewal_window_is_the_first_two_months_of_the_final_year() -> None:
    assert renewal_window(date(2031, 12, 31), 2) == (date(2031, 1, 1), date(2031, 2, 28))
    assert renewal_window(date(2028, 6, 30), 2) == (date(2028, 1, 1), date(2028, 2, 29))


def test_a_period_counts_both_its_first_and_last_day() -> None:
    assert days_inclusive(date(2020, 1, 1), date(2020, 6, 30)) == 182
    assert days_inclusive(date(2020, 6, 1), date(2020, 6, 1)) == 1


# 802000-1239 checked by hand: doubling every second digit from the right gives
# 9 + 6 + 2 + 2 + 0 + 0 + 0 + 4 + 0 + 7 = 30, a multiple of ten.
VALID_ORGNR = "802000-1239"


@pytest.mark.parametrize("text", ["802000-1239", "8020001239", "16802000-1239", " 802000-1239 "])
def test_an_organisationsnummer_is_stored_in_one_normal_form(text: str) -> None:
    assert normalise_orgnr(text) == VALID_ORGNR


def test_the_luhn_check_accepts_the_valid_number_and_no_other_last_digit() -> None:
    assert luhn_ok("8020001239")
    assert [d for d in range(10) if luhn_ok(f"802000123{d}")] == [9]


@pytest.mark.parametrize(
    ("text", "hint"),
    [
        ("802000-1238", "wrong check digit"),
        ("802000-1230", "wrong check digit"),
        ("8020001", "is not an organisationsnummer"),
        ("föreningen", "is not an organisationsnummer"),
        ("801000-1234", "third digit"),  # looks like a personnummer
    ],
)
def test_a_bad_organisationsnummer_is_refused_naming_the_field(text: str, hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        normalise_orgnr(text, record="organisation Hjälpande Händer")
    assert hint in str(refused.value)
    assert "organisation Hjälpande Händer" in str(refused.value)
    assert refused.value.field == "organisationsnummer"
