"""The payout run: release what may be paid, block with a reason what may not.

Set-wise: the open payouts due are written with their gate's answer key to a table of
the run's transaction (gate_keys.py), one statement that reads the gate's facts; the
domain's `gate.decide` answers once per key, of the key's first payout (`gate_rows`).
Then one UPDATE per source state releases the payouts of the keys whose gate holds, and
one per source state and answer blocks the others with the answer's reason, the
database writing their notices (payout_notices.py). A payout is released at most once
because the UPDATE only matches rows still planned or blocked.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..clock import Clock
from ..domain import reminders as r
from ..domain.due_rules import PAYOUT_DUE
from ..domain.errors import InvalidInput
from ..domain.gate import (
    GATE_PERIOD,
    GateBlock,
    GateFacts,
    answer_key,
    decide,
    display_party,
)
from ..domain.model import MUNICIPALITY_PARTY
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import (
    OPEN_PAYOUT,
    AgreementState,
    FollowUpState,
    PayoutState,
)
from ..policies import load_policy, preset_names
from .gate_keys import Group, Key, approved, gate_follow_up, keyed_payouts, payouts_of
from .payout_notices import notify_blocked, notify_closed
from .setwise import (
    SYSTEM,
    Change,
    after_bulk_change,
    among,
    chunks,
    collector_paused,
    still,
    still_in,
    write_audit,
)
from .system_day import refuse_future

# Payouts picked by id per statement. The list goes as one parameter (setwise.among); the
# bound keeps each statement's list, and what it brings back, short.
BY_ID = 5_000


class GateRow(NamedTuple):
    """An open payout with the gate's answer. A named tuple: a run reads 225,000."""

    payout_id: int
    state: PayoutState
    due_on: date
    covers_from: date
    amount_ore: int
    blocked_reason: str | None
    organisation_id: int
    agreement_id: int
    diarienummer: str
    municipality: str
    block: GateBlock | None  # None: the gate holds
    reason: str | None  # the block's reason (asked once per block, not per payout)


@dataclass
class PayoutRunResult:
    as_of: date
    changes: list[Change] = field(default_factory=list)
    notifications: int = 0

    def count(self, trigger: str) -> int:
        return sum(1 for c in self.changes if c.trigger == trigger)


def _gate_inputs() -> tuple[sa.ColumnElement[Any], ...]:
    """The agreement and follow-up columns the gate reads (with the payout's own)."""
    a, f = t.agreements, t.follow_ups
    return (
        a.c.diarienummer,
        a.c.municipality,
        a.c.state.label("agreement_state"),
        sa.func.coalesce(a.c.first_start, a.c.start).label("origin"),
        approved().label("approved"),
        f.c.state.label("follow_up_state"),
        f.c.due_on.label("follow_up_due"),
    )


def unsigned_parties(session: Session, agreements: sa.Select[Any]) -> dict[int, tuple[str, ...]]:
    """Per agreement among `agreements` (a query of ids), the display names of the
    parties missing from the gate's period, in the domain's order (municipality, then
    the organisations as they were added). One query, whatever the number."""
    a, ap, o, s = t.agreements, t.agreement_parties, t.organisations, t.signatures
    ids = agreements.scalar_subquery()
    municipality = sa.select(
        a.c.id.label("agreement_id"),
        # Typed: a bare parameter in a UNION leaves PostgreSQL to guess its type.
        sa.cast(sa.literal(0), ap.c.id.type).label("position"),
        sa.cast(sa.literal(MUNICIPALITY_PARTY), s.c.party.type).label("party"),
        sa.cast(sa.null(), o.c.name.type).label("name"),
    ).where(a.c.id.in_(ids))
    organisations = (
        sa.select(
            ap.c.agreement_id,
            ap.c.id.label("position"),
            o.c.organisationsnummer.label("party"),
            o.c.name,
        )
        .join(o, o.c.id == ap.c.organisation_id)
        .where(ap.c.agreement_id.in_(ids))
    )
    needed = sa.union_all(municipality, organisations).subquery()
    signed = sa.exists().where(
        s.c.agreement_id == needed.c.agreement_id,
        s.c.party == needed.c.party,
        s.c.period_no == GATE_PERIOD,
    )
    query = sa.select(needed).where(~signed).order_by(needed.c.agreement_id, needed.c.position)
    found: dict[int, list[str]] = defaultdict(list)
    for row in session.execute(query):
        found[row.agreement_id].append(display_party(row.party, row.name))
    return {k: tuple(v) for k, v in found.items()}


def _block(row: sa.Row[Any], unsigned: dict[int, tuple[str, ...]]) -> GateBlock | None:
    follow_up = row.follow_up_state
    return decide(
        GateFacts(
            diarienummer=row.diarienummer,
            agreement_state=AgreementState(row.agreement_state),
            origin_year=row.origin.year,
            approved=bool(row.approved),
            unsigned=unsigned.get(row.agreement_id, ()),
            covers_from=row.covers_from,
            follow_up_state=None if follow_up is None else FollowUpState(follow_up),
            follow_up_due=row.follow_up_due,
        )
    )


def gate_rows(
    session: Session,
    *,
    due_from: date | None,
    due_to: date,
    agreement_ids: Iterable[int] | None = None,
    payout_ids: Sequence[int] | None = None,
) -> list[GateRow]:
    """The open payouts due from `due_from` to `due_to` (of `agreement_ids`, or only the
    payouts `payout_ids`) with the gate's decision on each, in due order."""
    if payout_ids is not None:
        found = [
            row
            for part in chunks(sorted(payout_ids), BY_ID)
            for row in _gate_rows(session, due_from, due_to, agreement_ids, part)
        ]
        return sorted(found, key=lambda g: (g.due_on, g.payout_id))
    return _gate_rows(session, due_from, due_to, agreement_ids, None)


def _gate_rows(
    session: Session,
    due_from: date | None,
    due_to: date,
    agreement_ids: Iterable[int] | None,
    payout_ids: Sequence[int] | None,
) -> list[GateRow]:
    p, a, f = t.payouts, t.agreements, t.follow_ups
    joined = p.join(a, a.c.id == p.c.agreement_id).outerjoin(f, gate_follow_up())
    # A short list (`payout_ids`) is found by id: its state is checked as `still_in`
    # does, so that SQLite does not walk every open payout through the index on state
    # (225,000 at 100,000 agreements) for each part of the list.
    picked: list[sa.ColumnElement[bool]]
    if payout_ids is None:
        picked = [p.c.state.in_(sorted(OPEN_PAYOUT))]
    else:
        picked = [among(session, p.c.id, payout_ids), still_in(p.c.state, OPEN_PAYOUT)]
    picked.append(p.c.due_on <= due_to)
    if due_from is not None:
        picked.append(p.c.due_on >= due_from)
    if agreement_ids is not None:
        picked.append(p.c.agreement_id.in_(list(agreement_ids)))
    query = (
        sa.select(
            p.c.id,
            p.c.state,
            p.c.due_on,
            p.c.covers_from,
            p.c.amount_ore,
            p.c.blocked_reason,
            p.c.organisation_id,
            a.c.id.label("agreement_id"),
            *_gate_inputs(),  # diarienummer and municipality first, as GateRow has them
        )
        .select_from(joined)
        .where(*picked)
        .order_by(p.c.due_on, p.c.id)
    )
    unsigned = unsigned_parties(session, sa.select(p.c.agreement_id).where(*picked))
    # `decide` is asked once per answer key (gate.answer_key), not once per payout: on a
    # day when 225,000 payouts wait for their follow-ups, a few hundred keys.
    answers: dict[tuple[Any, ...], tuple[GateBlock | None, str | None]] = {}
    found = []
    for row in session.execute(query):
        key = answer_key(
            row.agreement_id,
            row.agreement_state,
            row.approved,
            row.agreement_id not in unsigned,
            row.covers_from,
            row.origin.year,
            row.follow_up_state,
            row.follow_up_due,
        )
        answer = answers.get(key)
        if answer is None:
            block = _block(row, unsigned)
            answer = answers[key] = (block, None if block is None else block.reason)
        found.append(GateRow._make((*row[:10], *answer)))  # the query's first ten columns
    return found


def run_payouts(
    session: Session,
    *,
    as_of: date,
    now: datetime,
    agreement_ids: Iterable[int] | None = None,
    origin: Origin = DEFAULT_ORIGIN,
) -> PayoutRunResult:
    """Inside the caller's transaction: decide every due payout on `as_of`, audited as
    coming through `origin` (the flows pass FLOW_ORIGIN).

    The gate is asked once per answer key (gate_keys.py), never per payout: what it lets
    through is released, and what it keeps closed is blocked with the key's reason and
    noticed, by one UPDATE (and one `INSERT … SELECT` of notices) per source state and
    answer. All in the one transaction."""
    result = PayoutRunResult(as_of)
    due_to = PAYOUT_DUE.latest_value(as_of)
    ids = None if agreement_ids is None else list(agreement_ids)
    p = t.payouts
    due = [p.c.due_on <= due_to]
    if ids is not None:
        due.append(p.c.agreement_id.in_(ids))
    with keyed_payouts(session, due) as groups:
        holding, closed = _answers(session, groups, due_to=due_to)
        released = _release(session, payouts_of(session, holding), as_of) if holding else []
        write_audit(session, released, now=now, as_of=as_of, origin=origin)
        result.changes += released
        for block, keys in closed.items():
            changes, notified = _block_closed(session, payouts_of(session, keys), block, as_of, now)
            write_audit(session, changes, now=now, as_of=as_of, origin=origin)
            result.changes += changes
            result.notifications += notified
    result.notifications += record_warnings(session, as_of=as_of, now=now)
    return result


def _answers(
    session: Session, groups: Sequence[Group], *, due_to: date
) -> tuple[list[Key], dict[GateBlock, list[Key]]]:
    """The keys of `groups` whose gate holds, and the others by the block that closes
    them: `decide` asked of each key's first payout (`gate_rows`)."""
    first = sorted({g.first for g in groups})
    rows = gate_rows(session, due_from=None, due_to=due_to, payout_ids=first)
    block_of = {row.payout_id: row.block for row in rows}
    holding: list[Key] = []
    closed: dict[GateBlock, list[Key]] = defaultdict(list)
    for g in groups:
        if g.first not in block_of:
            continue  # no longer open: nothing to decide
        block = block_of[g.first]
        if block is None:
            holding.append(g.key)
        else:
            closed[block].append(g.key)
    return holding, closed


def _release(session: Session, picked: sa.ColumnElement[bool], as_of: date) -> list[Change]:
    """Release the open payouts `picked` (ids whose gate holds): one UPDATE per source
    state. A payout is released at most once: the UPDATE matches only rows still open."""
    p = t.payouts
    changes: list[Change] = []
    for source in sorted(OPEN_PAYOUT):
        stmt = (
            sa.update(p)
            .where(picked, still(p.c.state, source))
            .values(_released(as_of))
            .returning(p.c.agreement_id, _diarienummer(), p.c.id)
        )
        changes += [
            Change(
                agreement_id,
                name,
                "payout",
                str(payout_id),
                "release_payout",
                source.value,
                PayoutState.RELEASED.value,
                "gate holds",
            )
            for agreement_id, name, payout_id in session.execute(stmt).all()
        ]
    return changes


def _diarienummer() -> sa.ScalarSelect[Any]:
    """The diarienummer of the payout row being changed, returned with it."""
    a, p = t.agreements, t.payouts
    return sa.select(a.c.diarienummer).where(a.c.id == p.c.agreement_id).scalar_subquery()


def _released(as_of: date) -> dict[str, Any]:
    """A payout's columns once the run of `as_of` has released it."""
    return {
        "state": PayoutState.RELEASED,
        "released_on": as_of,
        "released_by": SYSTEM,
        "blocked_reason": None,
        "version": t.payouts.c.version + 1,
    }


def _block_closed(
    session: Session, picked: sa.ColumnElement[bool], block: GateBlock, as_of: date, now: datetime
) -> tuple[list[Change], int]:
    """Block the open payouts `picked` (ids closed by `block`) with its reason: the
    changes made, and how many notices were new.

    A planned payout is blocked and noticed. A blocked one whose stored reason moved on
    (e.g. the report arrived) is the domain's `block_payout` from blocked, which is how
    a step refreshes the reason: a state change with its audit record, without a new
    notice. One already blocked for this reason is left alone, so that a second run (or
    a concurrent one that came first) has nothing to record."""
    p = t.payouts
    reason = block.reason
    changes: list[Change] = []
    notified = 0
    for source in (PayoutState.PLANNED, PayoutState.BLOCKED):
        where = [picked, still(p.c.state, source)]
        if source is PayoutState.BLOCKED:
            where.append(p.c.blocked_reason.is_distinct_from(reason))
        stmt = (
            sa.update(p)
            .where(*where)
            .values(state=PayoutState.BLOCKED, blocked_reason=reason, version=p.c.version + 1)
            .returning(p.c.agreement_id, _diarienummer(), p.c.id)
        )
        blocked = [
            Change(
                agreement_id,
                name,
                "payout",
                str(payout_id),
                "block_payout",
                source.value,
                PayoutState.BLOCKED.value,
                reason,
            )
            for agreement_id, name, payout_id in session.execute(stmt).all()
        ]
        changes += blocked
        if source is PayoutState.PLANNED:
            ids = [int(c.key) for c in blocked]
            for part in chunks(ids, BY_ID):
                notified += notify_blocked(session, part, block, as_of=as_of, now=now)
    return changes, notified


def record_warnings(session: Session, *, as_of: date, now: datetime) -> int:
    """Warn before they are blocked of payouts due soon whose gate does not hold: one
    `INSERT … SELECT` per stage and block, the payouts keyed and decided as the run
    does. Which due days are warned of at which stage, for each preset, the domain's
    `payout_warning` answers day by day; how many warnings were new."""
    a, p = t.agreements, t.payouts
    longest = max(load_policy(k).payout_warning_days_before for k in preset_names())
    ahead = [as_of + timedelta(days=n) for n in range(1, longest + 1)]
    warned: dict[tuple[str, tuple[str, ...]], list[sa.ColumnElement[bool]]] = defaultdict(list)
    for municipality in preset_names():
        policy = load_policy(municipality)
        days: dict[tuple[str, tuple[str, ...]], list[date]] = defaultdict(list)
        for day in ahead:
            stage = r.payout_warning(day, as_of, policy)
            if stage is not None:
                days[stage.stage, stage.recipients].append(day)
        for stage_of, due in days.items():
            warned[stage_of].append(sa.and_(a.c.municipality == municipality, p.c.due_on.in_(due)))
    stored = 0
    for (stage_name, recipients), conditions in warned.items():
        # The window first, so that the payouts are found by their index on state and day.
        window = [p.c.due_on >= ahead[0], p.c.due_on <= ahead[-1], sa.or_(*conditions)]
        with keyed_payouts(session, window) as groups:
            _, closed = _answers(session, groups, due_to=ahead[-1])
            for block, keys in closed.items():
                stored += notify_closed(
                    session,
                    payouts_of(session, keys),
                    block,
                    kind=r.PAYOUT_WARNING,
                    stage=stage_name,
                    recipients=recipients,
                    as_of=as_of,
                    now=now,
                )
    return stored


def payout_run(
    db: Database,
    *,
    as_of: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> PayoutRunResult:
    """The payout run of `as_of`, which may not be after the system's day: a payout is
    never released before its due date as the system counts days (system_day.py)."""
    with collector_paused(), db.write() as session:
        refuse_future(session, as_of, record="payout-run", clock=clock)
        result = run_payouts(session, as_of=as_of, now=now, origin=origin)
    after_bulk_change(db, result.changes, ("payouts",))
    return result


def list_payouts(
    db: Database,
    state: str | None = None,
    *,
    with_block: bool = False,
    agreement: str | None = None,
) -> list[dict[str, Any]]:
    """Every payout with its gate and, when blocked or due, the reason (`iop payouts`).

    `agreement` (a REF: the diarienummer, or the id as `#12`) keeps the payouts of that
    agreement only; an unknown one is `NotFound`.

    `with_block` adds the gate's structured decision under "block" (a `GateBlock` or
    None), for callers in this process (run summaries); JSON output leaves it out.

    One query for the payouts (only the open ones joined to the follow-up their gate
    depends on: the same inputs as `gate_rows`) and one for missing signatures.
    """
    p, a, f = t.payouts, t.agreements, t.follow_ups
    open_follow_up = sa.and_(p.c.state.in_(sorted(OPEN_PAYOUT)), gate_follow_up())
    picked = []
    if state is not None:
        if state not in {s.value for s in PayoutState}:
            known = ", ".join(s.value for s in PayoutState)
            raise InvalidInput(f"'{state}' is not a payout state ({known})", field="--state")
        picked.append(p.c.state == PayoutState(state))
    query = (
        sa.select(p, *_gate_inputs())
        .select_from(p.join(a, a.c.id == p.c.agreement_id).outerjoin(f, open_follow_up))
        .order_by(p.c.due_on, p.c.id)
    )
    with db.read() as session:
        if agreement is not None:
            found = Repository(session).agreement(agreement)
            picked.append(p.c.agreement_id == found.id)
        query = query.where(*picked)
        open_ones = sa.select(p.c.agreement_id).where(p.c.state.in_(sorted(OPEN_PAYOUT)), *picked)
        unsigned = unsigned_parties(session, open_ones)
        rows = list(session.execute(query))
    return [_listed(row, unsigned, with_block) for row in rows]


def _listed(
    row: sa.Row[Any], unsigned: dict[int, tuple[str, ...]], with_block: bool
) -> dict[str, Any]:
    """One row of `list_payouts`: the gate is "n/a" unless the payout is still open."""
    block = _block(row, unsigned) if row.state in OPEN_PAYOUT else None
    if row.state in OPEN_PAYOUT:
        reason = None if block is None else block.reason
        gate = "holds" if block is None else "closed"
    else:
        reason, gate = None, "n/a"
    extra = {"block": block} if with_block else {}
    return {
        "id": row.id,
        "diarienummer": row.diarienummer,
        "municipality": row.municipality,
        "due": row.due_on.isoformat(),
        "covers": [row.covers_from.isoformat(), row.covers_to.isoformat()],
        "amount_ore": row.amount_ore,
        "state": row.state,
        "gate": gate,
        "reason": row.blocked_reason if row.state == "blocked" else reason,
        "released_on": row.released_on.isoformat() if row.released_on else None,
        **extra,
    }
