"""Swedish organisationsnummer: ten digits, the last a Luhn check digit."""

from __future__ import annotations

import re

from .errors import InvalidInput

_SHAPE = re.compile(r"^(16)?(\d{6})-?(\d{4})$")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 1:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def normalise_orgnr(text: object, *, record: str | None = None) -> str:
    """Return `NNNNNN-NNNN`, or refuse naming the field and what is wrong.

    Accepts `8020001234`, `802000-1234` and the 12-digit form `16802000-1234`.
    The third digit of a legal person's number is at least 2 (it is what keeps
    it apart from a personnummer, whose third digit is a month's first digit).
    """
    field = "organisationsnummer"
    match = _SHAPE.match(str(text).strip())
    if not match:
        raise InvalidInput(
            f"'{text}' is not an organisationsnummer (ten digits, NNNNNN-NNNN)",
            record=record,
            field=field,
        )
    digits = match.group(2) + match.group(3)
    if int(digits[2]) < 2:
        raise InvalidInput(
            f"'{text}' has third digit {digits[2]}; an organisationsnummer has 2 or more there",
            record=record,
            field=field,
        )
    if not luhn_ok(digits):
        raise InvalidInput(f"'{text}' has a wrong check digit", record=record, field=field)
    return f"{digits[:6]}-{digits[6:]}"
