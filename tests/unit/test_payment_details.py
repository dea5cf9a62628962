"""Bankgiro, plusgiro and bank account numbers: shape, check digit, display."""

from __future__ import annotations

import pytest

from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.payment_details import (
    PaymentDetails,
    parse_bank_account,
    parse_bankgiro,
    parse_plusgiro,
)

# 5050-1055: Bankgirot's own published example number.
# 90 20 03-3: Radiohjälpen's well-known plusgiro.
# 6001, 801230659 (Handelsbanken) and 1234, 5612541 (Danske Bank) and
# 3300, 8012016286 (Nordea personkonto): valid in bankkonto's own test suite.


@pytest.mark.parametrize("text", ["5050-1055", "50501055", "5050 1055", " 5050-1055 "])
def test_a_valid_bankgiro_becomes_its_digits(text: str) -> None:
    details = parse_bankgiro(text)
    assert details == PaymentDetails("bankgiro", "50501055")
    assert details.shown == "5050-1055"


def test_a_seven_digit_bankgiro_is_shown_three_four() -> None:
    # the Luhn check digit of 505010 is 9
    details = parse_bankgiro("505-0109")
    assert details.number == "5050109"
    assert details.shown == "505-0109"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("5050-1056", "bankgiro 5050-1056: the check digit is wrong"),
        ("5050-1505", "the check digit is wrong"),  # two digits swapped
        ("505-010", "has 6 digits; a bankgiro has 7 to 8"),
        ("505 010 551", "has 9 digits"),
        ("5050/1055", "only digits"),
        ("BG 5050-1055", "only digits"),
        ("", "only digits"),
        ("5050--", "only digits"),
    ],
)
def test_a_wrong_bankgiro_is_refused_naming_field_and_problem(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        parse_bankgiro(text)
    assert caught.value.field == "bankgiro"


def test_the_field_name_can_be_given() -> None:
    with pytest.raises(InvalidInput) as caught:
        parse_bankgiro("5050-1056", field="payee_bankgiro")
    assert caught.value.field == "payee_bankgiro"
    assert "payee_bankgiro" in str(caught.value)


@pytest.mark.parametrize("text", ["90 20 03-3", "902003-3", "9020033"])
def test_radiohjalpens_plusgiro_is_valid(text: str) -> None:
    details = parse_plusgiro(text)
    assert details == PaymentDetails("plusgiro", "9020033")
    assert details.shown == "902003-3"


def test_the_shortest_plusgiro_has_two_digits() -> None:
    assert parse_plusgiro("1-8").shown == "1-8"  # Luhn check digit of "1" is 8


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("90 20 03-4", "plusgiro 90 20 03-4: the check digit is wrong"),
        ("9", "has 1 digits; a plusgiro has 2 to 8"),
        ("123 456 789", "has 9 digits"),
        ("90.20.03-3", "only digits"),
    ],
)
def test_a_wrong_plusgiro_is_refused(text: str, problem: str) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        parse_plusgiro(text)
    assert caught.value.field == "plusgiro"


@pytest.mark.parametrize(
    ("clearing", "account", "number"),
    [
        ("6001", "801230659", "801230659"),  # Handelsbanken, type 2, mod 11
        ("6001", "801 230 659", "801230659"),
        ("1234", "5612541", "5612541"),  # Danske Bank, type 1
        ("3300", "801201-6286", "8012016286"),  # Nordea personkonto, type 2, mod 10
    ],
)
def test_a_valid_bank_account_keeps_clearing_and_account_apart(
    clearing: str, account: str, number: str
) -> None:
    details = parse_bank_account(clearing, account)
    assert details == PaymentDetails("bank_account", number, clearing=clearing)
    assert details.shown == f"{clearing}, {number}"


def test_a_type_2_account_written_without_leading_zeros_is_padded() -> None:
    # Handelsbanken: nine digits, mod 11; 012345679 is valid and often written 12 345 679.
    assert parse_bank_account("6001", "012345679").number == "012345679"
    assert parse_bank_account("6001", "12 345 679").number == "012345679"
    with pytest.raises(InvalidInput, match="invalid control digit"):
        parse_bank_account("6001", "12 345 678")


def test_a_swedbank_account_has_a_five_digit_clearing_number() -> None:
    # Swedbank 8-series: ten-digit account, mod 10 over the account number.
    # 000000000 + Luhn check digit 0 would be trivial; 123456789 -> check digit 7.
    details = parse_bank_account("8327-9", "123456789-7")
    assert details.clearing == "83279"
    assert details.number == "1234567897"
    assert details.shown == "8327-9, 1234567897"
    with pytest.raises(InvalidInput, match="5 digits"):
        parse_bank_account("8327", "1234567897")


@pytest.mark.parametrize(
    ("clearing", "account", "problem"),
    [
        ("6001", "801230658", "invalid control digit"),
        ("3300", "8012346589", "invalid control digit"),
        ("9680", "1234567", "invalid control digit"),
        ("9022", "84564244343243", "must be 7 digits"),
        ("0123", "1234567", "range 1000 - 9999"),
        ("9999", "8012306581", "does not correspond to any Swedish bank"),
        ("600", "801230659", "must be 4 digits"),
        ("6001", "8012x0659", "only digits"),
    ],
)
def test_a_wrong_bank_account_is_refused_with_the_reason(
    clearing: str, account: str, problem: str
) -> None:
    with pytest.raises(InvalidInput, match=problem) as caught:
        parse_bank_account(clearing, account)
    assert caught.value.field == "bank_account"


def test_payment_details_hold_digits_only() -> None:
    with pytest.raises(ValueError):
        PaymentDetails("bankgiro", "5050-1055")
    with pytest.raises(ValueError):
        PaymentDetails("bank_account", "801230659")  # no clearing
    with pytest.raises(ValueError):
        PaymentDetails("plusgiro", "9020033", clearing="6001")
