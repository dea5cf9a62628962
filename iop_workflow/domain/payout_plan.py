"""The payout plan the nämnd decides: how many instalments a year, or on which dates.

Mjölby: payouts are "normally twice a year; the nämnd may decide other intervals".
An agreement without a plan of its own follows its preset (two half-years paid on the
preset's dates). A plan of its own is either

- `per_year` 1, 2, 4 or 12: the calendar year in that many equal runs of months
  (the year, half-years, quarters, months). Two a year keeps the preset's dates;
  otherwise each instalment is due on the first banking day of the part it covers.
- `dates`: explicit instalment dates. Each instalment covers from its date (the first
  from the period's start) to the day before the next one (the last to the period's
  end). A span that crosses 1 January is cut there, and the part in the new year is an
  instalment of its own, due on that year's first banking day in the period: a payout
  never mixes two years' support, because the gate and the follow-ups are per year.

Stored as JSON on the agreement: `{"per_year": 4}` or `{"dates": ["2027-01-15", ...]}`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from .errors import InvalidInput
from .policy import MonthDay

PER_YEAR_CHOICES = (1, 2, 4, 12)
PER_YEAR_WORDS = {1: "årsvis", 2: "halvårsvis", 4: "kvartalsvis", 12: "månadsvis"}
WORDS_PER_YEAR = {
    "yearly": 1,
    "half-yearly": 2,
    "quarterly": 4,
    "monthly": 12,
    **{word: n for n, word in PER_YEAR_WORDS.items()},
}
MAX_DATES = 5 * 12 * 2  # twice a month over the longest period is already far beyond use
FIELD = "payout_plan"


@dataclass(frozen=True)
class PayoutPlan:
    per_year: int | None = None
    dates: tuple[date, ...] = ()

    def stored(self) -> dict[str, Any]:
        if self.per_year is not None:
            return {"per_year": self.per_year}
        return {"dates": [d.isoformat() for d in self.dates]}

    def text_sv(self) -> str:
        """How an officer reads the plan: "kvartalsvis (4 utbetalningar per år)"."""
        if self.per_year is not None:
            count = "1 utbetalning" if self.per_year == 1 else f"{self.per_year} utbetalningar"
            return f"{PER_YEAR_WORDS[self.per_year]} ({count} per år)"
        return "på bestämda dagar: " + ", ".join(d.isoformat() for d in self.dates)

    def describe(self) -> str:
        """The plan in the CLI's English: "quarterly (4 a year)", "on 2027-03-01, ..."."""
        if self.per_year is not None:
            word = next(w for w, n in WORDS_PER_YEAR.items() if n == self.per_year)
            return f"{word} ({self.per_year} a year)"
        return "on " + ", ".join(d.isoformat() for d in self.dates)

    def parts(self) -> tuple[tuple[MonthDay, MonthDay], ...]:
        """The parts of a calendar year of a `per_year` plan, as (first, last) days."""
        assert self.per_year is not None
        months = 12 // self.per_year
        return tuple(
            (MonthDay(first, 1), MonthDay(first + months - 1, 31)) for first in range(1, 13, months)
        )

    def pay_days(self) -> tuple[MonthDay, ...]:
        """The first day of each part: the instalment is paid as its part begins."""
        return tuple(first for first, _ in self.parts())

    def check_period(self, start: date, end: date, *, record: str | None = None) -> None:
        """Explicit dates must lie inside the period they pay for."""
        for day in self.dates:
            if not start <= day <= end:
                raise InvalidInput(
                    f"{day} is outside the period {start}–{end}", record=record, field=FIELD
                )


def parse_plan(raw: object, *, record: str | None = None, field: str = FIELD) -> PayoutPlan:
    """A plan from input: 1, 2, 4 or 12 (or quarterly, monthly, kvartalsvis, ...), a
    comma-separated text or list of ISO dates, or the stored mapping."""
    if isinstance(raw, Mapping):
        if set(raw) == {"per_year"}:
            return _per_year(raw["per_year"], record, field)
        if set(raw) == {"dates"}:
            return _dates(raw["dates"], record, field)
        raise InvalidInput(
            "must be a number of instalments a year or a list of dates",
            record=record,
            field=field,
        )
    if isinstance(raw, (list, tuple)):
        return _dates(raw, record, field)
    text = str(raw).strip()
    if not text:
        raise InvalidInput("is empty", record=record, field=field)
    if "-" in text and any(ch.isdigit() for ch in text.split("-")[0]):
        return _dates(text.split(","), record, field)
    return _per_year(WORDS_PER_YEAR.get(text.lower(), text), record, field)


def _per_year(value: object, record: str | None, field: str) -> PayoutPlan:
    text = str(value).strip()
    if isinstance(value, bool) or text not in {str(n) for n in PER_YEAR_CHOICES}:
        shown = text[:20]
        raise InvalidInput(
            f"'{shown}' is not a payout interval: 1, 2, 4 or 12 instalments a year "
            "(yearly, half-yearly, quarterly, monthly), or a list of dates YYYY-MM-DD",
            record=record,
            field=field,
        )
    return PayoutPlan(per_year=int(text))


def _dates(values: Sequence[object], record: str | None, field: str) -> PayoutPlan:
    days: list[date] = []
    items = [v for v in values if str(v).strip()]
    if not items:
        raise InvalidInput("needs at least one date", record=record, field=field)
    if len(items) > MAX_DATES:
        raise InvalidInput(f"has more than {MAX_DATES} dates", record=record, field=field)
    for item in items:
        if isinstance(item, date):
            day = item
        else:
            try:
                day = date.fromisoformat(str(item).strip())
            except ValueError:
                shown = str(item).strip()[:20]
                raise InvalidInput(
                    f"'{shown}' is not a date (YYYY-MM-DD)", record=record, field=field
                ) from None
        if days and day <= days[-1]:
            raise InvalidInput(
                f"the dates must be in order, each after the one before ({day} is not "
                f"after {days[-1]})",
                record=record,
                field=field,
            )
        days.append(day)
    return PayoutPlan(dates=tuple(days))


def stored_plan(raw: Mapping[str, Any] | None) -> PayoutPlan | None:
    """The plan kept on an agreement (None: the preset's)."""
    return None if raw is None else parse_plan(raw)
