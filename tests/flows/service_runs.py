"""Product databases with thousands of agreements, the service runs that subprocesses of
the parallel and SIGKILL tests do, and database states compared as multisets.

The runs go straight to the service functions (`service.sweep.daily_sweep`,
`service.payouts.payout_run`), as each flow's task does, without Prefect. The functions a
subprocess runs are at module level: multiprocessing's spawn imports them in the child.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Sequence
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flow_support import bulk_copies_yaml, new_database, now

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.sweep import daily_sweep

# Copied: the agreements and every table that hangs on them by a foreign key, except the
# audit trail (a hash chain: the copies start without a history). Shared by the copies:
# organisations, people and the tables about the database itself.
# The audit log is chained, not copied; a report's draft is keyed by its follow-up (no
# id of its own) and is no part of the scheduled work these runs compare.
NOT_COPIED = {"audit_log", "report_drafts"}

# Columns that legitimately differ between two runs of the same days: when a row was
# written, and the ids of rows inserted by the runs themselves (with several writers the
# order of inserts differs, and PostgreSQL spends a sequence value on every insert that
# `ON CONFLICT DO NOTHING` skips); the audit chain's places and hashes follow that order
# and those times.
VARYING: dict[str, set[str]] = {
    "audit_log": {"id", "at", "seq", "prev_hash", "hash"},
    "audit_chain": {"hash"},
    "installation": {"set_at"},
    "notifications": {"id", "created_at"},
    "notification_deliveries": {"id", "notification_id", "at"},
}


def fresh(url: str) -> None:
    """Nothing left of a previous database at `url` (a SQLite file, or a PostgreSQL schema)."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///"))
        for leftover in (path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")):
            leftover.unlink(missing_ok=True)
    else:
        from pg_cluster import empty_postgres

        empty_postgres(url)


def build(url: str, folder: Path, *, copies: int, times: int = 1) -> int:
    """A fresh database at `url`: both examples, `copies` copies of OSN 2024/0087 with every
    instalment unpaid (bulk_copies_yaml), then all of it `times` times over (`multiply`).
    Built the same way twice, two databases have the same ids. Returns the agreements."""
    fresh(url)
    db = new_database(url)
    bulk = bulk_copies_yaml(folder / f"bulk-{copies}.yaml", copies, paid_through=None)
    import_file(db, str(bulk), now=now())
    count = multiply(db, times)
    db.dispose()
    return count


def multiply(db: Database, times: int) -> int:
    """Every agreement and everything that hangs on it, `times` times in all, in SQL (the
    importer takes minutes for thousands): copy k gets ids shifted by k times the table's
    largest id, and its own diarienummer. Returns the number of agreements."""
    tables = [t.agreements]
    for table in t.metadata.sorted_tables:  # parents before children
        parents = {fk.column.table.name for fk in table.foreign_keys}
        if table.name not in NOT_COPIED and parents & {c.name for c in tables}:
            tables.append(table)
    with db.write() as session:
        top = {
            table.name: int(session.execute(sa.select(sa.func.max(table.c.id))).scalar() or 0)
            for table in tables
        }
        for k in range(1, times):
            for table in tables:
                if not top[table.name]:
                    continue
                values: list[sa.ColumnElement[Any]] = []
                present: list[sa.ColumnElement[bool]] = [table.c.id <= top[table.name]]
                for column in table.columns:
                    parents = [fk.column.table.name for fk in column.foreign_keys]
                    parent = next((p for p in parents if p in top), None)
                    if column.name == "id":
                        values.append(column + k * top[table.name])
                    elif parent is not None:
                        values.append(column + k * top[parent])
                        if column.nullable:  # the audit rows of no agreement stay single
                            present.append(column.is_not(None))
                    elif table is t.agreements and column.name == "diarienummer":
                        values.append(column + f" k{k}")
                    else:
                        values.append(column)
                session.execute(
                    sa.insert(table).from_select(
                        [c.name for c in table.columns], sa.select(*values).where(*present)
                    )
                )
        if db.dialect == "postgresql":  # ids were given explicitly: move the sequences on
            for table in tables:
                session.execute(
                    sa.text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"(SELECT coalesce(max(id), 1) FROM {table.name}))"
                    )
                )
        return int(
            session.execute(sa.select(sa.func.count()).select_from(t.agreements)).scalar_one()
        )


def event_days(db: Database, first: date, last: date) -> list[date]:
    """The days between `first` and `last` on which the scheduled work has something to do
    or a reminder stage begins: each payout's due day, each follow-up's opening and due
    day, each agreement's last day, a month and a week before them, the day after, two
    weeks after, and the first of every month (renewal windows open on month bounds)."""
    a, f, p = t.agreements, t.follow_ups, t.payouts
    with db.read() as session:
        anchors: set[date] = set()
        for column in (p.c.due_on, f.c.opens_on, f.c.due_on, a.c.end):
            anchors.update(session.execute(sa.select(column).distinct()).scalars())
    days = {anchor + timedelta(days=n) for anchor in anchors for n in (-30, -7, 0, 1, 14, 15)}
    month = date(first.year, first.month, 1)
    while month <= last:
        days.add(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return sorted(day for day in days if first <= day <= last)


# --- what the subprocesses run ----------------------------------------------------------


def walk(url: str, days: Sequence[date], barrier: Any = None) -> None:
    """The daily sweep, then the payout run, for each day in turn; with a barrier, every
    walker starts each day together with the others."""
    db = Database(url)
    try:
        for day in days:
            if barrier is not None:
                barrier.wait(timeout=300)
            daily_sweep(db, as_of=day, now=now())
            payout_run(db, as_of=day, now=now())
    finally:
        db.dispose()


def pay(url: str, day: date, started: Any, seconds: Any) -> None:
    """One payout run; `started` is set just before it, `seconds` holds how long it took."""
    db = Database(url)
    db.engine.connect().close()  # connected before the marker: the run is all that is left
    started.set()
    begun = time.monotonic()
    payout_run(db, as_of=day, now=now())
    seconds.value = time.monotonic() - begun
    db.dispose()


# --- comparing final states -------------------------------------------------------------


def _hashable(value: Any) -> Any:
    if isinstance(value, dict | list):
        return json.dumps(value, sort_keys=True, default=str)
    return value


def comparable(url: str) -> dict[str, Counter[tuple[Any, ...]]]:
    """Every table as a multiset of rows, without the columns in VARYING."""
    db = Database(url)
    try:
        with db.read() as session:
            found = {}
            for table in t.metadata.sorted_tables:
                columns = [c for c in table.columns if c.name not in VARYING.get(table.name, ())]
                rows = session.execute(sa.select(*columns))
                found[table.name] = Counter(tuple(_hashable(v) for v in row) for row in rows)
            return found
    finally:
        db.dispose()


def differences(
    expected: dict[str, Counter[tuple[Any, ...]]], actual: dict[str, Counter[tuple[Any, ...]]]
) -> dict[str, dict[str, list[tuple[Any, ...]]]]:
    """Per table, the rows only one side has (with their multiplicity): empty when equal."""
    found = {}
    for name in sorted(set(expected) | set(actual)):
        missing = expected.get(name, Counter()) - actual.get(name, Counter())
        extra = actual.get(name, Counter()) - expected.get(name, Counter())
        if missing or extra:
            found[name] = {
                "missing": list(missing.elements())[:5],
                "extra": list(extra.elements())[:5],
            }
    return found


def releases_per_payout(url: str) -> Counter[str]:
    """How many audit rows say each payout was released."""
    db = Database(url)
    au = t.audit_log
    try:
        with db.read() as session:
            keys = session.execute(
                sa.select(au.c.entity_key).where(
                    au.c.entity == "payout", au.c.trigger == "release_payout"
                )
            ).scalars()
            return Counter(keys)
    finally:
        db.dispose()
