"""Appending to the audit chain: the one place that gives audit rows their hashes.

Every writer of `audit_log` goes through `append`: the ORM's records (`Repository.
add_audit`, the importer) through the `before_flush` hook `Database` installs, the
set-wise inserts of the sweep and the payout run (service/setwise.py) directly. `append`
reads the chain head with a lock held to commit, links the rows after it
(domain/audit_chain.py) and moves the head, in the caller's transaction:

- PostgreSQL: `SELECT ... FOR UPDATE` of the one `audit_chain` row. A second writer
  waits there until the first commits (or rolls back), then reads the new head: two
  transactions never link to the same record. Writers take it after their other row
  locks, and do nothing after it but insert, so it adds no lock cycle.
- SQLite: write transactions begin IMMEDIATE (adapters/db.py), so a writer holds the
  database's one write lock from its start; the head read is already exclusive.

The ids the database hands out follow the places: each transaction inserts its records
after it holds the head, so no other transaction draws ids in between.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, sessionmaker

from ..domain.audit_chain import GENESIS, START, Head, Link, link, link_shared
from ..domain.errors import IopError
from ..domain.model import AuditRecord
from . import tables as t

HEAD = "audit_log"  # the name of the head row in `audit_chain`
# The columns a record is hashed from (with its place and the previous hash).
CONTENT = (
    "at", "actor", "role", "agreement_id", "entity", "entity_key", "trigger", "from_state",
    "to_state", "reason", "data", "channel", "os_user", "host", "effective_date",
)  # fmt: skip


def locked_head(session: Session) -> Head:
    """The chain head, locked until the transaction ends."""
    c = t.audit_chain
    query = sa.select(c.c.seq, c.c.hash).where(c.c.name == HEAD).with_for_update()
    row = session.execute(query).one_or_none()
    if row is not None:
        return Head(row.seq, row.hash)
    # Only an empty log may start a chain; a log without its head was tampered with.
    if session.execute(sa.select(t.audit_log.c.id).limit(1)).first() is not None:
        raise IopError("the audit chain head is missing: run `iop audit verify`")
    session.execute(sa.insert(c).values(name=HEAD, seq=START.seq, hash=GENESIS))
    return START


def append(session: Session, rows: Sequence[dict[str, Any]]) -> None:
    """Give `rows` (audit column dicts, in the order they will be inserted) their
    place, previous hash and hash, and move the head past them."""
    if not rows:
        return
    _move_head(session, link(rows, locked_head(session)))


def append_shared(
    session: Session,
    shared: Mapping[str, Any],
    at: Mapping[str, int],
    rows: Sequence[Sequence[Any]],
) -> list[Link]:
    """`append` for records that have `shared` in common, each row holding its other
    fields at the places `at` names (domain's `link_shared`): the links of `rows`, in
    their order, to be inserted in that order."""
    if not rows:
        return []
    links, head = link_shared(shared, at, rows, locked_head(session))
    _move_head(session, head)
    return links


def _move_head(session: Session, head: Head) -> None:
    c = t.audit_chain
    session.execute(sa.update(c).where(c.c.name == HEAD).values(seq=head.seq, hash=head.hash))


def _chain_new_records(session: Session, _context: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, AuditRecord)]
    if not new:
        return
    # The unit of work inserts pending objects in the order they were added.
    new.sort(key=lambda obj: _insert_order(obj))
    rows = [{name: getattr(record, name) for name in CONTENT} for record in new]
    append(session, rows)
    for record, row in zip(new, rows, strict=True):
        record.seq, record.prev_hash, record.hash = row["seq"], row["prev_hash"], row["hash"]


def _insert_order(obj: AuditRecord) -> int:
    state = inspect(obj)
    return 0 if state is None or state.insert_order is None else state.insert_order


_installed: weakref.WeakSet[sessionmaker[Session]] = weakref.WeakSet()


def install(target: sessionmaker[Session]) -> None:
    """Chain every AuditRecord flushed by `target`'s sessions (idempotent).

    Not `event.contains`: it goes by the id of the sessionmaker's session class, and a
    new class can get the id of a collected one, so it would say yes for a sessionmaker
    that has no listener."""
    if target not in _installed:
        event.listen(target, "before_flush", _chain_new_records)
        _installed.add(target)
