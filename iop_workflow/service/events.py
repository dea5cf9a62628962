"""Audit records as Prefect events: which go one per state change, which are summarised,
and how far the outbox has been delivered (docs/events.md).

The audit log is the outbox. The cursor (`event_cursor` row `prefect-events`) is the last
audit record whose event the Prefect server has *stored*: the publisher
(orchestration/events.py) reads the events back before it moves the cursor, so an event
the server dropped is sent again by the next publish.

What an operator automates on stays one event per state change, with the agreement as
resource: a blocked payout, an overdue report or claim, every agreement-level step, and
anything a person did. The bulk the scheduled flows make (actor "system": follow-ups
opened, instalments released) is one summary event per publish and kind, with counts and
up to `RELATED_AGREEMENTS` agreements as related resources. `delivery` is that rule.

Each event's id is derived from what it tells (an audit record: its id, instant, what
changed; a summary: its kind, its range of records and their first and last instant), so
sending the same thing again cannot make a second event. The record id alone would not
do: another product database on the same Prefect server (a fresh `var/iop.db`, a staging
database) numbers its records from 1 again.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database
from ..domain.errors import InvalidInput
from ..domain.roles import SYSTEM_ACTOR

NAMESPACE = uuid.UUID("6f0f4a52-5d1c-4c3e-9a55-1a0e8c1b9f00")

# Rows of `event_cursor` (name → an audit id, or for the lease a unix time).
PUBLISHER = "prefect-events"  # every record up to here is on the server (the cursor)
SUMMARIES = "prefect-events:summaries"  # summaries stored for the records up to here
SUMMARIES_SENT = "prefect-events:summaries-sent"  # summaries sent (maybe stored) up to here
SENT = "prefect-events:sent"  # per-agreement events sent (maybe stored) up to here
LEASE = "prefect-events:lease"  # one publisher at a time: held until this unix time (int4)

PAGE = 20_000  # audit rows read per statement
RELATED_AGREEMENTS = 100  # a Prefect event may have at most 100 related resources
LISTED_DAYS = 31  # business days named in a summary's payload


class Delivery(StrEnum):
    PER_AGREEMENT = "per-agreement"
    SUMMARY = "summary"


# The bulk the scheduled flows make, as (entity, trigger): when the actor is "system",
# one summary event per publish and kind instead of one event per state change.
SUMMARISED: frozenset[tuple[str, str]] = frozenset(
    {
        ("follow_up", "open_follow_up"),  # every follow-up on its opening day
        ("payout", "release_payout"),  # every instalment whose gate holds
    }
)


def delivery(entity: str, trigger: str, actor: str) -> Delivery:
    """How a state change reaches Prefect. Per agreement unless it is bulk work of the
    flows; a kind not named in `SUMMARISED` (a new one included) is never summarised."""
    if actor == SYSTEM_ACTOR.name and (entity, trigger) in SUMMARISED:
        return Delivery.SUMMARY
    return Delivery.PER_AGREEMENT


def _summarised() -> sa.ColumnElement[bool]:
    """`delivery(...) == SUMMARY` as an SQL condition on `audit_log`."""
    log = t.audit_log
    kinds = [sa.and_(log.c.entity == e, log.c.trigger == k) for e, k in sorted(SUMMARISED)]
    return sa.and_(log.c.actor == SYSTEM_ACTOR.name, sa.or_(*kinds))


class AgreementEvent(NamedTuple):
    id: str  # a uuid5 (`event_id`)
    event: str
    resource: dict[str, str]
    related: list[dict[str, str]]
    payload: dict[str, Any]
    audit_id: int  # the (last) audit record it tells about


def event_id(name: str) -> str:
    """`str(uuid.uuid5(NAMESPACE, name))`, without building a UUID (100,000 a day)."""
    digest = bytearray(hashlib.sha1(NAMESPACE.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    x = digest.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"


def event_name(entity: str, trigger: str, from_state: str, to_state: str) -> str:
    """`iop.payout.blocked`, `iop.follow-up.overdue`, `iop.agreement.active`, ...

    Steps that keep the state (a signature, a received document) are named by the step.
    """
    what = to_state if from_state != to_state else trigger
    return f"iop.{entity.replace('_', '-')}.{what.replace('_', '-')}"


def summary_name(entity: str, trigger: str, from_state: str, to_state: str) -> str:
    """`iop.summary.payout.released`, `iop.summary.follow-up.open`, ..."""
    return "iop.summary." + event_name(entity, trigger, from_state, to_state).removeprefix("iop.")


def _event(row: Any) -> AgreementEvent:
    """The event of one audit record (a row of `per_agreement_events`' columns)."""
    (record, at, actor, role, agreement, entity, key, trigger) = row[:8]
    (from_state, to_state, reason, diarienummer, municipality) = row[8:]
    kind = entity.replace("_", "-")
    related = []
    if entity != "agreement":
        related.append(
            {
                "prefect.resource.id": f"iop.{kind}.{agreement}.{key}",
                "prefect.resource.role": kind,
            }
        )
    what = to_state if from_state != to_state else trigger  # as `event_name`
    return AgreementEvent(
        id=event_id(
            f"audit-{record}-{at.isoformat()}-{diarienummer}-{entity}-{key}-{trigger}",
        ),
        event=f"iop.{kind}.{what.replace('_', '-')}",
        resource={
            "prefect.resource.id": f"iop.agreement.{agreement}",
            "prefect.resource.name": diarienummer,
            "iop.diarienummer": diarienummer,
            "iop.municipality": municipality,
        },
        related=related,
        payload={
            "trigger": trigger,
            "from": from_state,
            "to": to_state,
            "actor": actor,
            "role": role,
            "reason": reason,
            "entity": entity,
            "key": key,
            "audit_id": record,
        },
        audit_id=record,
    )


# --- where the outbox stands -----------------------------------------------------------


@dataclass(frozen=True)
class Marks:
    """The cursor and the publisher's notes about what it may already have sent.

    Always `published <= summaries <= summaries_sent` and `published <= sent`."""

    published: int
    summaries: int
    summaries_sent: int
    sent: int
    newest: int  # the newest audit record now


def _values(session: Session, *names: str) -> dict[str, int]:
    c = t.event_cursor
    rows = session.execute(sa.select(c.c.name, c.c.last_audit_id).where(c.c.name.in_(names)))
    return {name: int(value) for name, value in rows}


def marks(db: Database) -> Marks:
    with db.read() as session:
        found = _values(session, PUBLISHER, SUMMARIES, SUMMARIES_SENT, SENT)
        newest = session.execute(sa.select(sa.func.max(t.audit_log.c.id))).scalar()
    published = found.get(PUBLISHER, 0)
    summaries = max(found.get(SUMMARIES, 0), published)
    return Marks(
        published=published,
        summaries=summaries,
        summaries_sent=max(found.get(SUMMARIES_SENT, 0), summaries),
        sent=max(found.get(SENT, 0), published),
        newest=int(newest or 0),
    )


def _put(session: Session, name: str, value: int, *, forward_only: bool = True) -> None:
    c = t.event_cursor
    current = _values(session, name).get(name)
    if current is None:
        session.execute(sa.insert(c).values(name=name, last_audit_id=value))
    elif value > current or (value != current and not forward_only):
        session.execute(sa.update(c).where(c.c.name == name).values(last_audit_id=value))


def advance(db: Database, **values: int) -> None:
    """Move marks forward (never back), in one transaction: `published=`, `summaries=`,
    `summaries_sent=`, `sent=`."""
    names = {
        "published": PUBLISHER,
        "summaries": SUMMARIES,
        "summaries_sent": SUMMARIES_SENT,
        "sent": SENT,
    }
    with db.write() as session:
        for key, value in values.items():
            _put(session, names[key], value)


def mark_published(db: Database, last_audit_id: int) -> None:
    """Move the cursor to `last_audit_id` (never back)."""
    advance(db, published=last_audit_id)


def claim(db: Database, seconds: float) -> bool:
    """Hold the publisher's lease for `seconds` unless another publish holds it; a crashed
    publisher's lease runs out by itself."""
    now, c = int(time.time()), t.event_cursor
    until = now + int(seconds) + 1
    try:
        with db.write() as session:
            held = _values(session, LEASE).get(LEASE)
            if held is None:
                session.execute(sa.insert(c).values(name=LEASE, last_audit_id=until))
                return True
            taken = session.execute(
                sa.update(c)
                .where(c.c.name == LEASE, c.c.last_audit_id < now)
                .values(last_audit_id=until)
                .returning(c.c.name)
            )
            return taken.first() is not None
    except InvalidInput:  # another publisher inserted the row first
        return False


def release(db: Database) -> None:
    with db.write() as session:
        _put(session, LEASE, 0, forward_only=False)


# --- what to send ----------------------------------------------------------------------


def per_agreement_count(db: Database, after: int, upto: int) -> int:
    log = t.audit_log
    with db.read() as session:
        query = sa.select(sa.func.count()).where(
            log.c.id > after, log.c.id <= upto, sa.not_(_summarised())
        )
        return int(session.execute(query).scalar_one())


def per_agreement_events(
    db: Database, after: int, upto: int, page: int = PAGE
) -> Iterator[list[AgreementEvent]]:
    """The per-agreement events of the records in (`after`, `upto`], oldest first, a page
    of up to `page` records at a time."""
    log, a = t.audit_log, t.agreements
    columns = [
        log.c.id,
        log.c.at,
        log.c.actor,
        log.c.role,
        log.c.agreement_id,
        log.c.entity,
        log.c.entity_key,
        log.c.trigger,
        log.c.from_state,
        log.c.to_state,
        log.c.reason,
        a.c.diarienummer,
        a.c.municipality,
    ]  # in the order `_event` reads them
    while after < upto:
        with db.read() as session:
            rows = session.execute(
                sa.select(*columns)
                .join(a, a.c.id == log.c.agreement_id)
                .where(log.c.id > after, log.c.id <= upto, sa.not_(_summarised()))
                .order_by(log.c.id)
                .limit(page)
            ).all()
        if not rows:
            return
        yield [_event(row) for row in rows]
        after = rows[-1][0]


def summaries(db: Database, after: int, upto: int) -> list[AgreementEvent]:
    """One event per kind of summarised change among the records in (`after`, `upto`],
    counted in SQL: how many, which records, from which states, which business days and
    municipalities, and up to `RELATED_AGREEMENTS` of the agreements."""
    if upto <= after:
        return []
    log, a = t.audit_log, t.agreements
    scope = sa.and_(log.c.id > after, log.c.id <= upto, _summarised())
    kind = (log.c.entity, log.c.trigger, log.c.to_state)
    with db.read() as session:
        groups = session.execute(
            sa.select(
                *kind,
                log.c.from_state,
                log.c.effective_date,
                a.c.municipality,
                sa.func.count().label("n"),
                sa.func.min(log.c.id).label("first"),
                sa.func.max(log.c.id).label("last"),
            )
            .join(a, a.c.id == log.c.agreement_id)
            .where(scope)
            .group_by(*kind, log.c.from_state, log.c.effective_date, a.c.municipality)
        ).all()
        if not groups:
            return []
        distinct = session.execute(
            sa.select(*kind, sa.func.count(sa.distinct(log.c.agreement_id)).label("n"))
            .where(scope)
            .group_by(*kind)
        ).all()
        keys = sorted({(g.entity, g.trigger, g.to_state) for g in groups})
        listed: dict[tuple[str, str, str], Sequence[Any]] = {}
        for entity, trigger, to_state in keys:  # the lowest agreement ids of each kind
            lowest = (
                sa.select(log.c.agreement_id)
                .where(scope, log.c.entity == entity, log.c.trigger == trigger)
                .where(log.c.to_state == to_state)
                .distinct()
                .order_by(log.c.agreement_id)
                .limit(RELATED_AGREEMENTS)
                .subquery("lowest")
            )
            listed[(entity, trigger, to_state)] = session.execute(
                sa.select(a.c.id, a.c.diarienummer, a.c.municipality)
                .join(lowest, lowest.c.agreement_id == a.c.id)
                .order_by(a.c.id)
            ).all()
        ends = {g.first for g in groups} | {g.last for g in groups}
        instants = dict(
            session.execute(sa.select(log.c.id, log.c.at).where(log.c.id.in_(ends))).tuples().all()
        )
    counts = {(r.entity, r.trigger, r.to_state): int(r.n) for r in distinct}
    related = {
        key: [
            {
                "prefect.resource.id": f"iop.agreement.{r.id}",
                "prefect.resource.role": "agreement",
                "prefect.resource.name": r.diarienummer,
                "iop.municipality": r.municipality,
            }
            for r in rows
        ]
        for key, rows in listed.items()
    }
    by_kind: dict[tuple[str, str, str], list[Any]] = defaultdict(list)
    for g in groups:
        by_kind[(g.entity, g.trigger, g.to_state)].append(g)
    return [
        _summary(key, rows, counts[key], related[key], instants, after, upto)
        for key, rows in sorted(by_kind.items())
    ]


def _summary(
    key: tuple[str, str, str],
    groups: list[Any],
    agreements: int,
    related: list[dict[str, str]],
    instants: Mapping[int, Any],
    after: int,
    upto: int,
) -> AgreementEvent:
    entity, trigger, to_state = key
    count = sum(int(g.n) for g in groups)
    first, last = min(g.first for g in groups), max(g.last for g in groups)
    from_states: Counter[str] = Counter()
    municipalities: Counter[str] = Counter()
    days: set[str] = set()
    for g in groups:
        from_states[g.from_state] += int(g.n)
        municipalities[g.municipality] += int(g.n)
        if g.effective_date is not None:
            days.add(g.effective_date.isoformat())
    some_from = sorted(from_states)[0]
    name = summary_name(entity, trigger, some_from, to_state)
    ordered_days = sorted(days)
    payload: dict[str, Any] = {
        "count": count,
        "first_audit_id": first,
        "last_audit_id": last,
        "as_of": ordered_days[-1] if ordered_days else None,
        "days": ordered_days[:LISTED_DAYS],
        "entity": entity,
        "trigger": trigger,
        "to": to_state,
        "from": dict(sorted(from_states.items())),
        "actor": SYSTEM_ACTOR.name,
        "agreements": agreements,
        "agreements_listed": len(related),
        "municipalities": dict(sorted(municipalities.items())),
        "records_after": after,
        "records_through": upto,
    }
    identity = (
        f"summary-{name}-{after}-{upto}-{count}-{first}-{instants[first].isoformat()}-"
        f"{last}-{instants[last].isoformat()}"
    )
    return AgreementEvent(
        id=event_id(identity),
        event=name,
        resource={
            "prefect.resource.id": name,
            "prefect.resource.name": f"{name.removeprefix('iop.summary.')} (summary)",
        },
        related=related,
        payload=payload,
        audit_id=last,
    )
