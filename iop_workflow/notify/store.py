"""The outbox in the database: claim due rows, record each target's result, finish rows.

Claiming is a conditional UPDATE that moves `next_attempt_at` forward by a lease and
returns the rows it matched: of two concurrent deliveries only one matches a row (SQLite
serialises writers; PostgreSQL re-checks the WHERE after the other's commit), and a run
that dies leaves its rows to be retried once the lease is over.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database
from ..domain.states import NotificationState as N
from ..service.setwise import chunks, still
from .plan import Done

MAX_ERROR = 1000  # characters of last_error kept (already redacted)


def due(now: datetime) -> sa.ColumnElement[bool]:
    n = t.notifications
    return sa.and_(
        still(n.c.state, N.PENDING),
        sa.or_(n.c.next_attempt_at.is_(None), n.c.next_attempt_at <= now),
    )


def claim(db: Database, *, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Up to `limit` due rows, reserved for this run until `now + lease`."""
    n = t.notifications
    while True:
        with db.write() as session:
            query = sa.select(n.c.id).where(due(now)).order_by(n.c.id).limit(limit)
            wanted = list(session.scalars(query))
            if not wanted:
                return []
            stmt = (
                sa.update(n)
                .where(n.c.id.in_(wanted), due(now))
                .values(next_attempt_at=now + lease)
                .returning(n.c.id)
            )
            claimed = sorted(row[0] for row in session.execute(stmt))
        if claimed:
            return claimed
        # Another delivery took these rows between our read and our update (PostgreSQL
        # re-checks the WHERE after its commit): look again rather than stop early.


def delivered(session: sa.orm.Session, ids: Sequence[int]) -> Done:
    d = t.notification_deliveries
    found: Done = set()
    for part in chunks(list(ids)):
        query = sa.select(d.c.notification_id, d.c.channel, d.c.target).where(
            d.c.notification_id.in_(part), d.c.ok.is_(True)
        )
        found |= {(r.notification_id, r.channel, r.target) for r in session.execute(query)}
    return found


def digests_sent(session: sa.orm.Session, day: date) -> set[str]:
    """The addresses that already received their digest of `day`."""
    d = t.notification_deliveries
    query = sa.select(d.c.target).where(d.c.digest_on == day, d.c.ok.is_(True)).distinct()
    return set(session.scalars(query))


def record(
    db: Database,
    *,
    ids: Iterable[int],
    attempts: dict[int, int],
    channel: str,
    target: str,
    ok: bool,
    error: str | None,
    digest_on: date | None,
    now: datetime,
) -> None:
    """One target's result, committed at once: a crash after a send must not forget it."""
    rows = [
        {
            "notification_id": nid,
            "attempt": attempts[nid] + 1,
            "channel": channel,
            "target": target,
            "digest_on": digest_on,
            "ok": ok,
            "error": None if error is None else error[:MAX_ERROR],
            "at": now,
        }
        for nid in ids
    ]
    with db.write() as session:
        session.execute(sa.insert(t.notification_deliveries), rows)


def finish(
    db: Database,
    nid: int,
    *,
    attempts: int,
    errors: list[str],
    deferred_until: datetime | None,
    tried: bool,
    max_attempts: int,
    backoff: timedelta,
    now: datetime,
) -> str:
    """Settle a claimed row; returns what became of it (sent, retrying, failed, deferred)."""
    n = t.notifications
    count = attempts + (1 if tried or errors else 0)
    values: dict[str, object] = {"attempts": count}
    if errors:
        outcome = "failed" if count >= max_attempts else "retrying"
        values |= {
            "last_error": "; ".join(dict.fromkeys(errors))[:MAX_ERROR],
            "state": N.FAILED if outcome == "failed" else N.PENDING,
            "next_attempt_at": None if outcome == "failed" else now + backoff,
        }
    elif deferred_until is not None:
        outcome = "deferred"
        values["next_attempt_at"] = deferred_until
    else:
        outcome = "sent"
        values |= {"state": N.SENT, "sent_at": now, "next_attempt_at": None, "last_error": None}
    mine = sa.and_(n.c.id == nid, still(n.c.state, N.PENDING))
    with db.write() as session:
        session.execute(sa.update(n).where(mine).values(values))
    return outcome


def backoff(settings_base: int, settings_max: int, attempt: int) -> timedelta:
    """Exponential: base, 2·base, 4·base, ... after attempt 1, 2, 3, ..., at most max."""
    return timedelta(seconds=min(settings_base * 2 ** max(attempt - 1, 0), settings_max))
