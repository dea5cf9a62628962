"""Where a grant is paid to: a bankgiro, a plusgiro or a Swedish bank account.

Pure: the numbers are checked here, nothing is looked up. A bankgiro and a
plusgiro end in a Luhn (mod 10) check digit. A bank account is a clearing
number and an account number, checked with the `bankkonto` package against
Bankgirot's "Bankernas kontonummeruppbyggnad" (the clearing ranges of each bank,
the account length and the mod 10 / mod 11 check digit of each account type).

A check digit that holds says the number is well formed, not that the
association owns it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from bankkonto import BankkontoValidationError
from bankkonto.account import (
    expected_account_length,
    get_account_number_format_based_on_clearing_number,
    validate,
)

from .errors import InvalidInput
from .orgnr import luhn_ok

PaymentKind = Literal["bankgiro", "plusgiro", "bank_account"]

# Digits, with spaces and hyphens between them; nothing else.
_SHAPE = re.compile(r"^\d(?:[\d \-]*\d)?$")


@dataclass(frozen=True)
class PaymentDetails:
    """A payee's account. `number` holds digits only.

    For a bank account `clearing` holds the clearing number (four digits, five for
    Swedbank's 8-series) and `number` the account number without it.
    """

    kind: PaymentKind
    number: str
    clearing: str | None = None

    def __post_init__(self) -> None:
        if not self.number.isdigit():
            raise ValueError(f"PaymentDetails.number must be digits only, not {self.number!r}")
        if (self.kind == "bank_account") != (self.clearing is not None):
            raise ValueError("PaymentDetails.clearing is set for a bank account and only for one")
        if self.clearing is not None and not self.clearing.isdigit():
            raise ValueError(f"PaymentDetails.clearing must be digits only, not {self.clearing!r}")

    @property
    def shown(self) -> str:
        """The number as people write it: 5050-1055, 902003-3, "6001, 801230659"."""
        if self.kind == "bankgiro":
            return f"{self.number[:-4]}-{self.number[-4:]}"
        if self.kind == "plusgiro":
            return f"{self.number[:-1]}-{self.number[-1]}"
        clearing = self.clearing or ""
        if len(clearing) == 5:  # Swedbank 8-series: the fifth digit is written after a hyphen
            clearing = f"{clearing[:4]}-{clearing[4]}"
        return f"{clearing}, {self.number}"


def _digits(text: str, what: str, field: str) -> str:
    stripped = str(text).strip()
    if not _SHAPE.match(stripped):
        raise InvalidInput(
            f"{what} {stripped!r}: only digits, with spaces or hyphens between them",
            field=field,
        )
    return re.sub(r"[ \-]", "", stripped)


def _giro(
    text: str, kind: Literal["bankgiro", "plusgiro"], lengths: range, field: str
) -> PaymentDetails:
    digits = _digits(text, kind, field)
    shown = str(text).strip()
    if len(digits) not in lengths:
        raise InvalidInput(
            f"{kind} {shown}: has {len(digits)} digits; "
            f"a {kind} has {lengths.start} to {lengths.stop - 1}",
            field=field,
        )
    if not luhn_ok(digits):
        raise InvalidInput(f"{kind} {shown}: the check digit is wrong", field=field)
    return PaymentDetails(kind, digits)


def parse_bankgiro(text: str, field: str = "bankgiro") -> PaymentDetails:
    """A bankgiro number: 7 or 8 digits, the last a Luhn check digit (5050-1055)."""
    return _giro(text, "bankgiro", range(7, 9), field)


def parse_plusgiro(text: str, field: str = "plusgiro") -> PaymentDetails:
    """A plusgiro number: 2 to 8 digits, the last a Luhn check digit (90 20 03-3)."""
    return _giro(text, "plusgiro", range(2, 9), field)


def parse_bank_account(clearing: str, account: str, field: str = "bank_account") -> PaymentDetails:
    """A Swedish bank account: clearing number and account number, checked by `bankkonto`.

    Swedbank's 8-series has a five-digit clearing number (8327-9); give all five.
    An account number of a type 2 account (Handelsbanken, Swedbank 8-series, Nordea
    personkonto, ...) that is shorter than the bank's length is padded with leading
    zeros, as it is often written without them; the check digit is unchanged by it.
    """
    clearing_digits = _digits(clearing, "clearing number", field)
    account_digits = _digits(account, "account number", field)
    shown = f"{str(clearing).strip()}, {str(account).strip()}"
    try:
        _, account_type, _, _ = get_account_number_format_based_on_clearing_number(clearing_digits)
        length = int(expected_account_length(clearing_digits))
        if account_type == 2 and len(account_digits) < length:
            account_digits = account_digits.zfill(length)
        validate(clearing_digits, account_digits)
    except BankkontoValidationError as exc:
        raise InvalidInput(f"bank account {shown}: {exc}", field=field) from exc
    return PaymentDetails("bank_account", account_digits, clearing=clearing_digits)
