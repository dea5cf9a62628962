from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.money import (
    format_sek,
    parse_sek,
    round_half_away,
    split_largest_remainder,
)


@pytest.mark.parametrize(
    ("value", "ore"),
    [
        (150000, 15_000_000),
        ("150000", 15_000_000),
        ("150 000", 15_000_000),
        ("150\u00a0000", 15_000_000),
        ("150 000,50", 15_000_050),
        ("150000.50", 15_000_050),
        ("1 234 567,8", 123_456_780),
        ("  42 ", 4_200),
        ("24 725,27 kr", 2_472_527),
        (0, 0),
        (150000.5, 15_000_050),
        (0.1, 10),
        (Decimal("99.90"), 9_990),
    ],
)
def test_sek_amounts_as_people_write_them_become_exact_ore(value: object, ore: int) -> None:
    assert parse_sek(value, field="support") == ore


@pytest.mark.parametrize(
    ("value", "hint"),
    [
        (-1, "must not be negative"),
        ("-150 000", "must not be negative"),
        (Decimal("-0.01"), "must not be negative"),
        ("150 000,505", "more than 2 decimals"),
        (0.005, "more than 2 decimals"),
        (True, "not an amount"),
        (None, "not an amount"),
        ("", "not an amount"),
        ("etthundra", "not an amount"),
        ("1 50 000", "not an amount"),
        ("1,234.56", "not an amount"),
        (float("nan"), "not a finite amount"),
        (float("inf"), "not a finite amount"),
        ([150000], "not an amount"),
        ("9" * 5000, "too large"),
        (10**20, "too large"),
    ],
)
def test_bad_amounts_are_refused_naming_record_and_field(value: object, hint: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_sek(value, record="agreement OSN 2026/17", field="support 2027")
    message = str(refused.value)
    assert hint in message
    assert "agreement OSN 2026/17" in message
    assert "support 2027" in message
    assert refused.value.field == "support 2027"


def test_an_absurdly_long_number_is_refused_rather_than_crashing() -> None:
    with pytest.raises(InvalidInput, match="too large"):
        parse_sek(10**5000, field="support")


@given(st.one_of(st.text(), st.floats(), st.integers(), st.decimals(), st.none(), st.booleans()))
def test_parsing_any_input_either_gives_whole_ore_or_refuses_with_invalid_input(
    value: object,
) -> None:
    try:
        ore = parse_sek(value, field="amount")
    except InvalidInput:
        return
    assert isinstance(ore, int)
    assert ore >= 0


@given(st.integers(min_value=0, max_value=10**17 - 1))
def test_a_formatted_amount_reads_back_as_the_same_amount(ore: int) -> None:
    assert parse_sek(format_sek(ore), field="amount") == ore


@pytest.mark.parametrize(
    ("ore", "text"),
    [
        (2_472_527, "24 725,27 kr"),
        (5, "0,05 kr"),
        (0, "0,00 kr"),
        (15_000_000, "150 000,00 kr"),
        (123_456_789_012, "1 234 567 890,12 kr"),
        (-150_000, "-1 500,00 kr"),
    ],
)
def test_amounts_are_shown_in_swedish_form(ore: int, text: str) -> None:
    assert format_sek(ore) == text


@pytest.mark.parametrize(
    ("numerator", "denominator", "rounded"),
    [
        (5, 2, 3),
        (-5, 2, -3),
        (5, -2, -3),
        (7, 3, 2),
        (8, 3, 3),
        (0, 7, 0),
        (450_000_000, 182, 2_472_527),
    ],
)
def test_fractions_round_half_away_from_zero(
    numerator: int, denominator: int, rounded: int
) -> None:
    assert round_half_away(numerator, denominator) == rounded


def test_splitting_by_weights_gives_leftover_ore_to_the_largest_remainders() -> None:
    assert split_largest_remainder(100, [1, 1, 1]) == [34, 33, 33]
    assert split_largest_remainder(10, [1, 2]) == [3, 7]
    assert split_largest_remainder(1, [1, 1]) == [1, 0]
    assert split_largest_remainder(5, [0, 1]) == [0, 5]


def test_splitting_over_no_weight_is_refused() -> None:
    with pytest.raises(ValueError):
        split_largest_remainder(100, [0, 0])
    with pytest.raises(ValueError):
        split_largest_remainder(100, [1, -1])


@given(
    st.integers(min_value=0, max_value=10**12),
    st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=8).filter(any),
)
def test_split_parts_always_sum_exactly_to_the_total(total: int, weights: list[int]) -> None:
    parts = split_largest_remainder(total, weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    weight_sum = sum(weights)
    for part, weight in zip(parts, weights, strict=True):
        # Each part is within one öre of its exact share.
        assert abs(part * weight_sum - total * weight) < weight_sum
