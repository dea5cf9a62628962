"""The payout plan: one instalment per covered part of each calendar year.

With the default policy a year has two parts (1 January–30 June paid 30 April,
1 July–31 December paid 31 October), cut to the agreement's period (iop-rules §3).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction

from .calendar import (
    days_inclusive,
    last_day_of_month,
    next_banking_day,
    previous_banking_day,
    years_between,
)
from .errors import InvalidInput
from .money import split_largest_remainder
from .policy import MonthDay

FULL_SHARE_BP = 10_000


@dataclass(frozen=True)
class Instalment:
    covers_from: date
    covers_to: date
    due_on: date  # a banking day, never after the period's end (see _due_on)
    amount_ore: int


def month_day_in(month_day: MonthDay, year: int) -> date:
    """`month_day` in `year`; 29 February falls back to 28 February in a common year."""
    last = last_day_of_month(year, month_day.month)
    return last.replace(day=min(month_day.day, last.day))


def plan_instalments(
    *,
    start: date,
    end: date,
    support: Mapping[int, int],
    parts: Sequence[tuple[MonthDay, MonthDay]],
    dates: Sequence[MonthDay],
) -> list[Instalment]:
    """The instalments of the period [start, end], sorted by the part they cover.

    A year's support (`support[year]`, 0 if absent) is split over that year's
    instalments by the share of each policy part that the period covers, so a
    full year gets equal halves and the instalments of a year always sum exactly
    to its support.
    """
    if start > end:
        raise InvalidInput(f"{end} is before the start {start}", field="end")
    if len(parts) != len(dates):
        raise InvalidInput("needs one payout date per covered part", field="payout_dates")
    plan: list[Instalment] = []
    for year in years_between(start, end):
        amount = support.get(year, 0)
        if amount < 0:
            raise InvalidInput(f"support for {year} must not be negative", field="support")
        pieces: list[tuple[date, date, Fraction, MonthDay]] = []
        for (first, last), pay in zip(parts, dates, strict=True):
            part_from, part_to = month_day_in(first, year), month_day_in(last, year)
            if part_from > part_to:
                raise InvalidInput(
                    f"part {first}..{last} ends before it starts", field="payout_parts"
                )
            covers_from, covers_to = max(part_from, start), min(part_to, end)
            if covers_from > covers_to:
                continue
            share = Fraction(
                days_inclusive(covers_from, covers_to), days_inclusive(part_from, part_to)
            )
            pieces.append((covers_from, covers_to, share, pay))
        if not pieces:
            continue
        # Integer weights with the same ratios as the shares keep the split exact.
        scale = math.lcm(*(share.denominator for _, _, share, _ in pieces))
        weights = [int(share * scale) for _, _, share, _ in pieces]
        for (covers_from, covers_to, _, pay), part_amount in zip(
            pieces, split_largest_remainder(amount, weights), strict=True
        ):
            due = _due_on(month_day_in(pay, year), covers_from, end)
            plan.append(Instalment(covers_from, covers_to, due, part_amount))
    return sorted(plan, key=lambda instalment: instalment.covers_from)


def plan_dated_instalments(
    *, start: date, end: date, support: Mapping[int, int], dates: Sequence[date]
) -> list[Instalment]:
    """The instalments of an explicit list of dates (domain/payout_plan.py).

    Per calendar year of the period: the first instalment covers from the year's first
    day in the period and is paid on the year's first listed date (on that first day
    when the year lists none); each further date of the year starts an instalment that
    covers up to the day before the next date, the year's last up to 31 December or
    the end. The year's support is split over its instalments by their days, so it
    sums exactly to the support.
    """
    if start > end:
        raise InvalidInput(f"{end} is before the start {start}", field="end")
    plan: list[Instalment] = []
    for year in years_between(start, end):
        amount = support.get(year, 0)
        if amount < 0:
            raise InvalidInput(f"support for {year} must not be negative", field="support")
        first_day, last_day = max(start, date(year, 1, 1)), min(end, date(year, 12, 31))
        listed = [d for d in dates if first_day <= d <= last_day]
        pay_days = listed or [first_day]
        starts = [first_day, *listed[1:]]
        spans = [
            (first, starts[i + 1] - timedelta(days=1) if i + 1 < len(starts) else last_day)
            for i, first in enumerate(starts)
        ]
        weights = [days_inclusive(first, last) for first, last in spans]
        for (first, last), pay, part_amount in zip(
            spans, pay_days, split_largest_remainder(amount, weights), strict=True
        ):
            plan.append(Instalment(first, last, _due_on(pay, first, end), part_amount))
    return plan


def _due_on(payout_day: date, covers_from: date, end: date) -> date:
    due = previous_banking_day(payout_day)
    # An agreement that starts after the part's payout date (e.g. on 15 June) is
    # paid as soon as it has started, not retroactively before it existed.
    if due < covers_from:
        due = next_banking_day(covers_from)
    # Nor after it has ended: an agreement ending on 15 March is not paid on 30 April
    # but on its last banking day. (A span with no banking day in it at all, a few
    # holidays at the very end, is paid on the banking day before it.)
    if due > end:
        due = previous_banking_day(end)
    return due


def split_shares(amount_ore: int, shares_bp: Sequence[int]) -> list[int]:
    """An instalment split between the party organisations by basis points (sum 10 000)."""
    if any(share < 0 for share in shares_bp) or sum(shares_bp) != FULL_SHARE_BP:
        raise InvalidInput(
            f"shares {list(shares_bp)} must be non-negative and sum to {FULL_SHARE_BP} "
            "basis points",
            field="share_bp",
        )
    return split_largest_remainder(amount_ore, shares_bp)
