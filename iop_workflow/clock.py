"""The system's day, and the one seam through which it may move.

The system's day is today in Europe/Stockholm. A step or a run may be dated in the past
(a document that came by post, a meeting, a signature), never after the system's day:
otherwise `--as-of` next April would pay next April's instalments today.

Only a *sandbox* database may move the clock: the temporary copy `iop simulate` walks
day by day, the demo's database, the benchmark's and the tests'. Being a sandbox is a
mark inside that database (`Database.mark_sandbox`, table `installation`), set by code
that makes such a database, never by a setting: an environment variable left in a
production unit cannot switch it on. On a sandbox the day asked for is the system's
day (a free clock), unless a test hands the service a clock fixed at a day of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from .config import today_in_stockholm
from .domain.errors import InvalidInput


def now_utc() -> datetime:
    """The moment, in UTC: what is stored (audit records, notifications, leases)."""
    return datetime.now(tz=UTC)


@dataclass(frozen=True)
class Clock:
    """`fixed_day`: the system's day for a test; `free`: any day is the system's day."""

    fixed_day: date | None = None
    free: bool = False

    def now(self) -> datetime:
        return now_utc()

    def today(self) -> date:
        return self.fixed_day or today_in_stockholm(self.now())

    def refuse_future(self, day: date, *, record: str, field: str = "as_of") -> None:
        """Refuse a day after the system's day: a step or run is dated when it happened."""
        if self.free:
            return
        system_day = self.today()
        if day > system_day:
            raise InvalidInput(
                f"{day} is in the future; the system's day is {system_day} (Europe/Stockholm)",
                record=record,
                field=field,
            )


SYSTEM_CLOCK = Clock()
SANDBOX_CLOCK = Clock(free=True)
