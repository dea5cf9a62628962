"""Money as whole öre (int): parsing SEK input, Swedish formatting, exact splitting.

Floats never enter a computation: every division is done on integers or
`fractions.Fraction` and rounded once, at the end, to whole öre.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from decimal import Decimal

from .errors import InvalidInput

ORE_PER_SEK = 100

# No public budget comes near 10^15 kr; longer numbers are typing mistakes.
_MAX_DIGITS = 15

_Refuse = Callable[[str], InvalidInput]

# Thousands may be grouped with any of the spaces Swedish text and spreadsheets use.
_SPACES = str.maketrans({"\u00a0": " ", "\u2009": " ", "\u202f": " ", "\t": " "})
# ASCII digits only: `int()` would also take other scripts' digits, which no one means.
_AMOUNT = re.compile(
    r"(?P<sign>[-\u2212])?\s*"
    r"(?P<whole>[0-9]{1,3}(?: [0-9]{3})+|[0-9]+)"
    r"(?:[.,](?P<frac>[0-9]+))?"
    r"(?:\s*(?:kr|sek))?",
    re.ASCII | re.IGNORECASE,
)


def parse_sek(value: object, *, record: str | None = None, field: str) -> int:
    """An amount in SEK (int, exact float, Decimal or Swedish text) as whole öre.

    Text may group thousands with spaces and use a comma or a point for the
    decimals ("1 234 567,8", "150000.50"). Anything that is not a non-negative
    amount exact to the öre is refused with `InvalidInput` naming record and field.
    """

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, record=record, field=field)

    try:
        ore = _to_ore(value, refuse)
    except InvalidInput:
        raise
    except (ArithmeticError, ValueError, TypeError):
        # A last guard (huge exponents, over-long digit strings): the caller
        # must only ever have to handle InvalidInput.
        raise refuse("is not an amount in SEK") from None
    if ore < 0:
        raise refuse("must not be negative")
    return ore


def _to_ore(value: object, refuse: _Refuse) -> int:
    # bool is an int subclass, but True is never meant as 1 kr.
    if isinstance(value, bool) or value is None:
        raise refuse(f"is not an amount in SEK (got {type(value).__name__})")
    if isinstance(value, int):
        if abs(value) >= 10**_MAX_DIGITS:
            raise refuse("is too large an amount")
        return value * ORE_PER_SEK
    if isinstance(value, float):
        if not math.isfinite(value):
            raise refuse("is not a finite amount")
        # repr() is the shortest text that reads back as the same float, so
        # 0.1 counts as ten öre while 0.005 or 1e-7 are refused.
        return _decimal_to_ore(Decimal(repr(value)), refuse)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise refuse("is not a finite amount")
        return _decimal_to_ore(value, refuse)
    if isinstance(value, str):
        return _text_to_ore(value, refuse)
    raise refuse(f"is not an amount in SEK (got {type(value).__name__})")


def _decimal_to_ore(amount: Decimal, refuse: _Refuse) -> int:
    # Work on the digits: Decimal arithmetic (normalize too) rounds beyond 28 digits.
    sign, digit_tuple, exponent = amount.as_tuple()
    assert isinstance(exponent, int)  # the caller let only finite values through
    digits = "".join(map(str, digit_tuple)).lstrip("0")
    if not digits:
        return 0
    significant = digits.rstrip("0")
    exponent += len(digits) - len(significant)
    shown = f"'{amount}' " if len(digits) <= 40 else ""
    if exponent < -2:
        raise refuse(f"{shown}has more than 2 decimals (öre)")
    if len(significant) + exponent > _MAX_DIGITS:
        raise refuse(f"{shown}is too large an amount")
    ore = int(significant + "0" * (exponent + 2))
    return -ore if sign else ore


def _text_to_ore(text: str, refuse: _Refuse) -> int:
    shown = text if len(text) <= 40 else text[:40] + "…"
    match = _AMOUNT.fullmatch(text.translate(_SPACES).strip())
    if match is None:
        raise refuse(f"'{shown}' is not an amount in SEK (e.g. 150 000 or 150 000,50)")
    frac = match["frac"] or ""
    whole = match["whole"].replace(" ", "")
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise refuse(f"'{shown}' is too large an amount")
    if len(frac) > 2:
        raise refuse(f"'{shown}' has more than 2 decimals (öre)")
    ore = int(whole) * ORE_PER_SEK + int(frac.ljust(2, "0"))
    return -ore if match["sign"] else ore


def format_sek(ore: int) -> str:
    """Swedish form: "24 725,27 kr" (space between thousands, comma before öre)."""
    sign = "-" if ore < 0 else ""
    kronor, rest = divmod(abs(ore), ORE_PER_SEK)
    return f"{sign}{kronor:,}".replace(",", " ") + f",{rest:02d} kr"


def round_half_away(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded to an integer, halves away from zero."""
    if denominator == 0:
        raise ZeroDivisionError("round_half_away: denominator is zero")
    negative = (numerator < 0) != (denominator < 0)
    quotient, remainder = divmod(abs(numerator), abs(denominator))
    if 2 * remainder >= abs(denominator):
        quotient += 1
    return -quotient if negative else quotient


def split_largest_remainder(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights`; the parts always sum to `total`.

    Each part gets its floor share; the öre left over go one each to the parts
    with the largest remainders, ties to the earliest part. A zero weight always
    gets 0.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total == 0:
            return [0] * len(weights)
        raise ValueError("cannot split a non-zero total over zero weights")
    if total < 0:
        return [-part for part in split_largest_remainder(-total, weights)]
    shares = [divmod(total * w, weight_sum) for w in weights]
    parts = [base for base, _ in shares]
    left_over = total - sum(parts)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-shares[i][1], i))
    for i in by_remainder[:left_over]:
        parts[i] += 1
    return parts
