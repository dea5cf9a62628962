"""Pro-rata repayment after early termination (iop-rules §3).

Each released instalment is repaid for the share of its covered days that lie
after the termination date. The exact fractions are summed with
`fractions.Fraction` and rounded once, half away from zero: rounding each
instalment first could make the claim differ by an öre per instalment from the
rule's "summed, rounded to whole öre". The explanation lines show each
instalment's share rounded on its own, for reading only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from fractions import Fraction

from .calendar import days_inclusive
from .errors import InvalidInput
from .money import format_sek, round_half_away


def pro_rata_repayment(
    released: Sequence[tuple[int, date, date]], terminated_on: date
) -> tuple[int, list[str]]:
    """The öre to repay for released (amount_ore, covers_from, covers_to) instalments.

    Returns the total and one line per instalment that contributes, e.g.
    "150 000,00 kr × 30/182 days (2020-06-01–2020-06-30) = 24 725,27 kr".
    """
    total = Fraction(0)
    lines: list[str] = []
    for amount_ore, covers_from, covers_to in released:
        if covers_to < covers_from:
            raise InvalidInput(
                f"instalment {covers_from}–{covers_to} ends before it starts",
                field="covers_to",
            )
        if amount_ore < 0:
            raise InvalidInput("must not be negative", field="amount_ore")
        # The termination date itself was still an active day.
        after_from = max(covers_from, terminated_on + timedelta(days=1))
        if after_from > covers_to:
            continue
        after_days = days_inclusive(after_from, covers_to)
        covered_days = days_inclusive(covers_from, covers_to)
        share = Fraction(amount_ore * after_days, covered_days)
        total += share
        lines.append(
            f"{format_sek(amount_ore)} × {after_days}/{covered_days} days "
            f"({after_from.isoformat()}–{covers_to.isoformat()}) = "
            f"{format_sek(round_half_away(share.numerator, share.denominator))}"
        )
    return round_half_away(total.numerator, total.denominator), lines
