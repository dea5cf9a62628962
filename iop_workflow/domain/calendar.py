"""Date arithmetic of iop-rules §3: periods, months, banking days."""

from __future__ import annotations

import calendar as _cal
from datetime import date, timedelta
from functools import cache

import holidays


@cache
def _non_banking_holidays(year: int) -> frozenset[date]:
    # "de_facto" adds midsommarafton, julafton and nyårsafton: not banking days.
    days = holidays.country_holidays("SE", categories=("public", "de_facto"), years=year)
    return frozenset(days.keys())


def is_banking_day(day: date) -> bool:
    return day.weekday() < 5 and day not in _non_banking_holidays(day.year)


def previous_banking_day(day: date) -> date:
    """`day` itself if it is a banking day, else the closest banking day before it."""
    while not is_banking_day(day):
        day -= timedelta(days=1)
    return day


def next_banking_day(day: date) -> date:
    """`day` itself if it is a banking day, else the closest banking day after it."""
    while not is_banking_day(day):
        day += timedelta(days=1)
    return day


def last_day_of_month(year: int, month: int) -> date:
    return date(year, month, _cal.monthrange(year, month)[1])


def add_months(day: date, months: int) -> date:
    """Calendar months, clamped to the month's last day (2024-05-31 - 3 → 2024-02-29)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    return date(year, month, min(day.day, _cal.monthrange(year, month)[1]))


def add_years(day: date, years: int) -> date:
    return add_months(day, 12 * years)


def max_end_date(start: date, years: int) -> date:
    """The last allowed end date: the day before the start's `years`-th anniversary."""
    return add_years(start, years) - timedelta(days=1)


def period_within_max(start: date, end: date, years: int) -> bool:
    return start <= end <= max_end_date(start, years)


def renewal_decision_deadline(end: date, months_before: int) -> date:
    return add_months(end, -months_before)


def renewal_window(end: date, months: int) -> tuple[date, date]:
    """1 January to the end of month `months` of the calendar year holding `end`."""
    return date(end.year, 1, 1), last_day_of_month(end.year, months)


def last_end_with_window_open(day: date, months: int) -> date:
    """The latest end date whose renewal window has opened by `day`: the inverse of
    `renewal_window(...)[0]`, kept beside it so a set-wise query can compare `end` to a
    bound instead of computing each row's window (the two must change together)."""
    del months  # the window opens on 1 January whatever its length
    return date(day.year, 12, 31)


def days_inclusive(first: date, last: date) -> int:
    return (last - first).days + 1


def years_between(first: date, last: date) -> range:
    return range(first.year, last.year + 1)
