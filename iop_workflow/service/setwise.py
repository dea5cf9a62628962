"""Set-wise state changes in SQL: one statement per (trigger, source state), never a
loop over agreements. Each changed row gets exactly one audit record, written in the
same transaction; the conditional UPDATE makes a second or concurrent run a no-op.
"""

from __future__ import annotations

import gc
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.audit_chain import append_shared
from ..adapters.bulk import insert_shared
from ..adapters.db import Database
from ..domain.machines import destination, sources
from ..domain.roles import DEFAULT_ORIGIN, Origin

SYSTEM = "system"
CHUNK = 500
AUDIT_PART = 10_000  # audit rows built, chained and written at a time
# A run that changed this many rows refreshes the statistics of the tables it changed:
# the next query (the run's summary, the portfolio) is planned on what is there now.
BULK_CHANGE = 1_000
# What a run writes besides the rows it changes.
RUN_WRITES = ("audit_log", "notifications")


class Change(NamedTuple):
    """One state change made by a flow (the CLI path reports `StateChange`s). A named
    tuple: a busy day makes 100,000 of them, at a third of a frozen dataclass's cost."""

    agreement_id: int
    diarienummer: str
    entity: str
    key: str
    trigger: str
    from_state: str
    to_state: str
    reason: str = ""


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def still(column: sa.ColumnElement[Any], state: Any) -> sa.ColumnElement[bool]:
    """`column = state` for updates that pick rows by id.

    Written as an expression so no planner answers `id IN (...) AND state = ...`
    through the index on state: SQLite without statistics did, scanning every
    planned payout once per batch (quadratic). Rows are found by primary key, then
    the state is checked, which is what keeps a second run from changing anything.
    """
    checked: sa.ColumnElement[bool] = sa.func.trim(column) == state
    return checked


def still_in(column: sa.ColumnElement[Any], states: Iterable[Any]) -> sa.ColumnElement[bool]:
    """`column IN states`, written as `still` is: for queries that pick rows by id."""
    checked: sa.ColumnElement[bool] = sa.func.trim(column).in_(sorted(states))
    return checked


def among(
    session: Session, column: sa.ColumnElement[Any], ids: Sequence[Any]
) -> sa.ColumnElement[bool]:
    """`column IN ids` for a long list of ids, the list as one parameter: PostgreSQL
    gets an array (`= ANY`), SQLite a JSON array it unpacks (`json_each`). With one
    placeholder per id, psycopg rewrote each in Python (about 16 µs), and SQLAlchemy
    expanded and converted each for SQLite: for lists of 5,000 ids, more than the
    query cost."""
    if session.get_bind().dialect.name == "postgresql":
        array = sa.bindparam(None, list(ids), type_=postgresql.ARRAY(column.type))
        return column == sa.any_(array)
    unpacked = sa.func.json_each(sa.literal(json.dumps(list(ids)), sa.Text)).table_valued("value")
    return column.in_(sa.select(unpacked.c.value))


def transition_rows(
    session: Session,
    table: sa.Table,
    entity: str,
    trigger: str,
    condition: sa.ColumnElement[bool],
    *,
    key: sa.ColumnElement[Any],
    reason: str = "",
    values: dict[str, Any] | None = None,
) -> list[Change]:
    """Move every row matching `condition` along `trigger`, from each source state."""
    dest = destination(entity, trigger)
    a = t.agreements
    agreement_col = a.c.id if table is a else table.c.agreement_id
    # The agreement's diarienummer comes back with the changed row (a subquery in
    # RETURNING): no second read of the agreements.
    name = (
        a.c.diarienummer
        if table is a
        else sa.select(a.c.diarienummer).where(a.c.id == agreement_col).scalar_subquery()
    )
    changes: list[Change] = []
    to_state = dest.value
    for source in sources(entity, trigger):
        from_state = source.value
        stmt = (
            sa.update(table)
            .where(table.c.state == source, condition)
            .values(state=dest, version=table.c.version + 1, **(values or {}))
            .returning(agreement_col, name, key)
        )
        changes += [
            Change(
                agreement_id,
                diarienummer,
                entity,
                str(row_key),
                trigger,
                from_state,
                to_state,
                reason,
            )
            for agreement_id, diarienummer, row_key in session.execute(stmt).all()
        ]
    return changes


def write_audit(
    session: Session,
    changes: Sequence[Change],
    *,
    now: datetime,
    as_of: date,
    origin: Origin = DEFAULT_ORIGIN,
) -> None:
    """One audit record per change, chained in the changes' order."""
    shared = {
        "at": now,
        "actor": SYSTEM,
        "role": SYSTEM,
        "data": {"as_of": as_of.isoformat()},
        "channel": origin.channel,
        "os_user": origin.os_user,
        "host": origin.host,
        "effective_date": as_of,
    }
    # In parts, so that a run of 100 000 changes never holds all its audit rows at once;
    # each part is chained after the one before, in the same transaction.
    for part in chunks(changes, AUDIT_PART):
        links = append_shared(session, shared, _CHANGE_FIELDS, part)
        rows = (
            (c.agreement_id, c.entity, c.key, c.trigger, c.from_state, c.to_state, c.reason, *link)
            for c, link in zip(part, links, strict=True)
        )
        insert_shared(session, t.audit_log, shared, _AUDITED, rows)


# Where a Change holds the fields of its audit record, and the columns written per change.
_CHANGE_FIELDS = {
    "agreement_id": Change._fields.index("agreement_id"),
    "entity": Change._fields.index("entity"),
    "entity_key": Change._fields.index("key"),
    "trigger": Change._fields.index("trigger"),
    "from_state": Change._fields.index("from_state"),
    "to_state": Change._fields.index("to_state"),
    "reason": Change._fields.index("reason"),
}
_AUDITED = (*_CHANGE_FIELDS, "seq", "prev_hash", "hash")


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector paused for a run, and resumed after it, however it ends.

    A run makes hundreds of thousands of tuples (changes, audit rows) and none of them is
    in a cycle; refcounting frees them all. The collector would walk the young ones
    every 700 allocations all the same: 0.15–0.2 s of a 2 s busiest sweep, 0.5 s of the
    blocked payout run at 100,000 agreements (docs/performance.md). It is one switch
    per process: when another run paused it first, the one that paused it resumes it.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def after_bulk_change(db: Database, changes: Sequence[Change], tables: Sequence[str]) -> None:
    """After the run's commit: when it changed many rows, refresh the planner's view of
    `tables` and of what every run writes (Database.refresh_statistics)."""
    if len(changes) >= BULK_CHANGE:
        db.refresh_statistics(*tables, *RUN_WRITES)
