"""`iop simulate`: walk day by day through the same code the flows call, on a copy.

The copy is a temporary SQLite database holding every row of the real one, so an
officer can look five years ahead without changing anything. Each day runs the
daily sweep and then the payout run, exactly as the schedule does.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database
from ..domain.errors import InvalidInput
from .payouts import run_payouts
from .setwise import Change
from .sweep import sweep

MAX_DAYS = 366 * 12

WHAT = {
    "open_follow_up": "follow-up {key} opened",
    "mark_report_overdue": "report for {key} overdue",
    "start_renewal": "renewal window opened",
    "end": "agreement ended (not renewed)",
    "mark_claim_overdue": "claim {key} overdue",
    "release_payout": "payout {key} released",
    "block_payout": "payout {key} BLOCKED: {reason}",
}


@dataclass(frozen=True)
class LogLine:
    day: date
    diarienummer: str
    what: str


@contextmanager
def scratch_copy(db: Database) -> Iterator[Database]:
    """A temporary SQLite database with every row of `db` (SQLite or PostgreSQL)."""
    with tempfile.TemporaryDirectory(prefix="iop-simulate-") as folder:
        copy = Database(f"sqlite:///{Path(folder) / 'simulation.db'}")
        copy.upgrade()
        with db.read() as source, copy.write() as target:
            for table in t.metadata.sorted_tables:
                rows = [dict(row._mapping) for row in source.execute(sa.select(table))]
                if table in (t.audit_log, t.audit_chain) or not rows:
                    continue  # history is not needed to look ahead, and is append-only
                target.execute(sa.insert(table), rows)
        copy.mark_sandbox("iop simulate: a temporary copy, walked day by day")
        try:
            yield copy
        finally:
            copy.dispose()


def _line(day: date, change: Change) -> LogLine:
    template = WHAT.get(change.trigger, change.trigger + " {key}")
    return LogLine(day, change.diarienummer, template.format(key=change.key, reason=change.reason))


def simulate(
    db: Database,
    start: date,
    end: date,
    *,
    now: datetime,
    echo: Callable[[LogLine], None],
) -> int:
    """Run every day from `start` to `end` on a copy; `echo` each event. Returns lines."""
    if end < start:
        raise InvalidInput(f"{end} is before {start}", field="--to")
    if (end - start).days > MAX_DAYS:
        raise InvalidInput(f"at most {MAX_DAYS} days at a time", field="--to")
    n, a = t.notifications, t.agreements
    count = 0
    with scratch_copy(db) as copy:
        day = start
        while day <= end:
            with copy.write() as session:
                changes = sweep(session, as_of=day, now=now).changes
                changes += run_payouts(session, as_of=day, now=now).changes
                queued = session.execute(
                    sa.select(n.c.kind, n.c.stage, n.c.recipients, a.c.diarienummer)
                    .join(a, a.c.id == n.c.agreement_id)
                    .where(n.c.created_on == day)
                    .order_by(n.c.id)
                ).all()
            for change in changes:
                echo(_line(day, change))
                count += 1
            for row in queued:
                who = ", ".join(row.recipients)
                echo(
                    LogLine(
                        day, row.diarienummer, f"reminder queued: {row.kind} ({row.stage}) to {who}"
                    )
                )
                count += 1
            day += timedelta(days=1)
    return count
