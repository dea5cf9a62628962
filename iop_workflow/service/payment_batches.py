"""Payment batches: released payouts collected, attested by a second person, paid.

`prepare_batch` collects a municipality's released payouts that are in no batch yet into
a new batch, in SQL: one query finds them with the organisation's confirmed payment
details, one INSERT ... ON CONFLICT DO NOTHING puts them in. The partial unique index
`uq_batch_items_active_payout` keeps a payout in at most one batch that is not
withdrawn, so two runs at once (or a run repeated) never put a payout in two batches:
the second finds the first's items in its way and inserts none of them.

A payout whose organisation has no confirmed payment details stays out of every batch
and is listed as held with that reason (docs/payments.md says why here and not in the
payout gate).

The state of a batch and each of its steps' audit records are written in one
transaction; a step refused by a rule changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.camt054_file import read_debit_notification
from ..adapters.db import Database, Repository
from ..domain.calendar import next_banking_day
from ..domain.errors import InvalidInput, NotFound, RuleViolation
from ..domain.model import Person
from ..domain.payment_batch import (
    attest_problem,
    end_to_end_id,
    move_problem,
    remittance,
    stage_of,
)
from ..domain.payment_details import PaymentDetails
from ..domain.payment_setup import PaymentSetup
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import BatchState, DetailsState, PaymentStage, PayoutState
from ..policies import load_policy
from . import payment_audit as pa
from .payee_details import attest_limit, shown_details
from .register import editor, given_reason
from .system_day import refuse_future

HELD_REASON = "no confirmed payment details"
IMPORTED = "import"  # released_by of the payouts an import says were paid before


@dataclass(frozen=True)
class Held:
    payout_id: int
    diarienummer: str
    organisation: str
    amount_ore: int
    reason: str = HELD_REASON


@dataclass
class Prepared:
    municipality: str
    batch_id: int | None  # None: nothing to put in a batch
    item_count: int = 0
    total_ore: int = 0
    held: list[Held] = field(default_factory=list)


def payment_setup(municipality: str) -> PaymentSetup:
    setup = load_policy(municipality).payments
    if setup is None:
        raise RuleViolation(
            f"the policy of {municipality} has no `payments` section: "
            "it pays by hand (docs/payments.md)"
        )
    return setup


def _municipality_of(who: Person, given: str | None) -> str:
    if given is not None:
        load_policy(given)
        return given
    if who.municipality is None:
        raise InvalidInput("say which municipality's payouts to batch", field="municipality")
    return who.municipality


def waiting_query(as_of: date, municipality: str | None) -> sa.Select[Any]:
    """Released payouts (of `municipality`, or of all) released on or before `as_of` and
    in no batch, with the organisation's confirmed details when it has them (`kind` is
    NULL when it has none: the payout is held)."""
    p, a, o, d, bi = (
        t.payouts,
        t.agreements,
        t.organisations,
        t.payment_details,
        t.batch_items,
    )
    in_batch = sa.exists().where(bi.c.payout_id == p.c.id, bi.c.withdrawn_at.is_(None))
    details = sa.and_(
        d.c.organisation_id == p.c.organisation_id, d.c.state == DetailsState.CONFIRMED
    )
    query = (
        sa.select(
            p.c.id,
            p.c.agreement_id,
            p.c.amount_ore,
            p.c.covers_from,
            p.c.covers_to,
            p.c.released_on,
            a.c.diarienummer,
            a.c.municipality,
            o.c.name.label("organisation"),
            d.c.kind,
            d.c.clearing,
            d.c.number,
        )
        .select_from(
            p.join(a, a.c.id == p.c.agreement_id)
            .join(o, o.c.id == p.c.organisation_id)
            .outerjoin(d, details)
        )
        .where(
            p.c.state == PayoutState.RELEASED,
            p.c.released_on <= as_of,
            # paid before this system took over (the import's payouts_released_through)
            sa.func.coalesce(p.c.released_by, "") != IMPORTED,
            ~in_batch,
        )
        .order_by(p.c.due_on, p.c.id)
    )
    if municipality is not None:
        query = query.where(a.c.municipality == municipality)
    return query


def _waiting(session: Session, municipality: str, as_of: date) -> list[sa.Row[Any]]:
    return list(session.execute(waiting_query(as_of, municipality)))


def _insert_items(session: Session, rows: Sequence[dict[str, Any]]) -> list[sa.Row[Any]]:
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    bi = t.batch_items
    stmt = (
        insert(bi)
        .on_conflict_do_nothing(
            index_elements=["payout_id"], index_where=bi.c.withdrawn_at.is_(None)
        )
        .returning(bi.c.payout_id, bi.c.amount_ore)
    )
    return list(session.execute(stmt, list(rows))) if rows else []


def prepare_batch(
    db: Database,
    *,
    as_of: date,
    actor_name: str,
    now: datetime,
    municipality: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
) -> Prepared:
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, as_of, record="payment batch")
        who = editor(repo, actor_name, set())
        place = _municipality_of(who, municipality)
        who = editor(repo, actor_name, {place})
        payment_setup(place)
        rows = _waiting(session, place, as_of)
        held = [
            Held(r.id, r.diarienummer, r.organisation, r.amount_ore) for r in rows if r.kind is None
        ]
        ready = [r for r in rows if r.kind is not None]
        result = Prepared(place, None, held=held)
        if not ready:
            return result
        b = t.payment_batches
        batch_id = session.execute(
            sa.insert(b)
            .values(
                municipality=place,
                state=BatchState.PREPARED,
                as_of=as_of,
                execution_date=next_banking_day(as_of),
                total_ore=0,
                item_count=0,
                prepared_by=who.name,
                prepared_at=now,
                version=1,
            )
            .returning(b.c.id)
        ).scalar_one()
        by_id = {r.id: r for r in ready}
        inserted = _insert_items(
            session,
            [
                {
                    "batch_id": batch_id,
                    "payout_id": r.id,
                    "amount_ore": r.amount_ore,
                    "end_to_end_id": end_to_end_id(batch_id, r.id),
                    "creditor_name": r.organisation,
                    "creditor_kind": r.kind,
                    "creditor_clearing": r.clearing,
                    "creditor_number": r.number,
                    "remittance": remittance(r.diarienummer, r.covers_from, r.covers_to),
                }
                for r in ready
            ],
        )
        if not inserted:  # another run took them all first
            session.execute(sa.delete(b).where(b.c.id == batch_id))
            return result
        total = sum(row.amount_ore for row in inserted)
        session.execute(
            sa.update(b).where(b.c.id == batch_id).values(total_ore=total, item_count=len(inserted))
        )
        entries = [
            pa.Entry(
                pa.BATCH,
                str(batch_id),
                "prepare_batch",
                "",
                BatchState.PREPARED.value,
                data={"items": len(inserted), "total_ore": total, "municipality": place},
            )
        ] + [
            pa.Entry(
                pa.PAYOUT,
                str(row.payout_id),
                "add_to_batch",
                PaymentStage.RELEASED.value,
                PaymentStage.IN_BATCH.value,
                agreement_id=by_id[row.payout_id].agreement_id,
                data={"batch": batch_id},
            )
            for row in inserted
        ]
        pa.write(session, who, entries, day=as_of, now=now, origin=origin)
        result.batch_id, result.item_count, result.total_ore = batch_id, len(inserted), total
        return result


def batch_row(session: Session, batch_id: int) -> Any:
    b = t.payment_batches
    row = session.execute(sa.select(b).where(b.c.id == batch_id)).one_or_none()
    if row is None:
        raise NotFound(f"no payment batch {batch_id}")
    return row


def _move(
    session: Session,
    batch: Any,
    step: str,
    to: BatchState,
    values: dict[str, Any],
) -> None:
    problem = move_problem(step, BatchState(batch.state))
    if problem is not None:
        raise RuleViolation(problem)
    b = t.payment_batches
    changed = pa.rowcount(
        session.execute(
            sa.update(b)
            .where(b.c.id == batch.id, b.c.version == batch.version)
            .values(state=to, version=b.c.version + 1, **values)
        )
    )
    if changed != 1:
        raise RuleViolation(f"payment batch {batch.id} was changed meanwhile; look again")


def attest_batch(
    db: Database,
    batch_id: int,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> dict[str, Any]:
    """The second person's attest: someone with the attest right for the batch's
    municipality, who did not prepare it, for a total within their limit."""
    with db.write() as session:
        repo = Repository(session)
        batch = batch_row(session, batch_id)
        who = editor(repo, actor_name, {batch.municipality})
        problem = move_problem("attest", BatchState(batch.state)) or attest_problem(
            preparer=batch.prepared_by,
            attester=who.name,
            limit_ore=attest_limit(session, who, batch.municipality),
            total_ore=batch.total_ore,
            municipality=batch.municipality,
        )
        if problem is not None:
            raise RuleViolation(problem)
        _move(
            session,
            batch,
            "attest",
            BatchState.ATTESTED,
            {"attested_by": who.name, "attested_at": now},
        )
        pa.write(
            session,
            who,
            [
                pa.Entry(
                    pa.BATCH,
                    str(batch.id),
                    "attest_batch",
                    BatchState.PREPARED.value,
                    BatchState.ATTESTED.value,
                    data={"total_ore": batch.total_ore, "prepared_by": batch.prepared_by},
                )
            ],
            day=today,
            now=now,
            origin=origin,
        )
        return {"batch": batch.id, "state": BatchState.ATTESTED.value, "total_ore": batch.total_ore}


def reject_batch(
    db: Database,
    batch_id: int,
    *,
    actor_name: str,
    reason: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> dict[str, Any]:
    """Send a batch back before it is exported: its payouts go free for a later batch."""
    why = given_reason(reason)
    if not why:
        raise InvalidInput("say why the batch is rejected", field="reason")
    with db.write() as session:
        repo = Repository(session)
        batch = batch_row(session, batch_id)
        who = editor(repo, actor_name, {batch.municipality})
        _move(
            session,
            batch,
            "reject",
            BatchState.REJECTED,
            {"rejected_by": who.name, "rejected_reason": why},
        )
        bi = t.batch_items
        freed = (
            session.execute(
                sa.update(bi)
                .where(bi.c.batch_id == batch.id, bi.c.withdrawn_at.is_(None))
                .values(withdrawn_at=now)
                .returning(bi.c.payout_id)
            )
            .scalars()
            .all()
        )
        agreements = _agreements_of(session, freed)
        entries = [
            pa.Entry(
                pa.BATCH,
                str(batch.id),
                "reject_batch",
                batch.state,
                BatchState.REJECTED.value,
                reason=why,
            )
        ] + [
            pa.Entry(
                pa.PAYOUT,
                str(payout_id),
                "withdraw_from_batch",
                PaymentStage.IN_BATCH.value,
                PaymentStage.RELEASED.value,
                agreement_id=agreements[payout_id],
                reason=why,
                data={"batch": batch.id},
            )
            for payout_id in sorted(freed)
        ]
        pa.write(session, who, entries, day=today, now=now, origin=origin)
        return {"batch": batch.id, "state": BatchState.REJECTED.value, "freed": len(freed)}


def _agreements_of(session: Session, payout_ids: Sequence[int]) -> dict[int, int]:
    p = t.payouts
    if not payout_ids:
        return {}
    rows = session.execute(sa.select(p.c.id, p.c.agreement_id).where(p.c.id.in_(list(payout_ids))))
    return {r.id: r.agreement_id for r in rows}


# --- paid ------------------------------------------------------------------------------------


@dataclass
class PaidResult:
    paid: list[dict[str, Any]] = field(default_factory=list)
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    batches_paid: list[int] = field(default_factory=list)


def _mark_paid(
    session: Session,
    who: Person,
    items: Sequence[tuple[Any, date]],
    *,
    today: date,
    now: datetime,
    origin: Origin,
    source: str,
) -> PaidResult:
    """Record `items` (batch item rows with the day each was paid) paid, and each batch
    whose items are all paid as paid."""
    bi, b = t.batch_items, t.payment_batches
    result = PaidResult()
    entries = []
    for item, on in items:
        changed = pa.rowcount(
            session.execute(
                sa.update(bi)
                .where(bi.c.id == item.id, bi.c.paid_on.is_(None))
                .values(paid_on=on, paid_by=who.name)
            )
        )
        if changed != 1:
            continue
        result.paid.append(
            {
                "end_to_end_id": item.end_to_end_id,
                "payout": item.payout_id,
                "paid_on": on.isoformat(),
            }
        )
        entries.append(
            pa.Entry(
                pa.PAYOUT,
                str(item.payout_id),
                "record_paid",
                PaymentStage.EXPORTED.value,
                PaymentStage.PAID.value,
                agreement_id=item.agreement_id,
                data={"batch": item.batch_id, "paid_on": on.isoformat(), "source": source},
            )
        )
    for batch_id in sorted({item.batch_id for item, _ in items}):
        unpaid = session.execute(
            sa.select(sa.func.count()).where(
                bi.c.batch_id == batch_id, bi.c.withdrawn_at.is_(None), bi.c.paid_on.is_(None)
            )
        ).scalar_one()
        if unpaid:
            continue
        last = session.execute(
            sa.select(sa.func.max(bi.c.paid_on)).where(bi.c.batch_id == batch_id)
        ).scalar_one()
        moved = pa.rowcount(
            session.execute(
                sa.update(b)
                .where(b.c.id == batch_id, b.c.state == BatchState.EXPORTED)
                .values(state=BatchState.PAID, paid_on=last, version=b.c.version + 1)
            )
        )
        if moved:
            result.batches_paid.append(batch_id)
            entries.append(
                pa.Entry(
                    pa.BATCH,
                    str(batch_id),
                    "record_paid",
                    BatchState.EXPORTED.value,
                    BatchState.PAID.value,
                    data={"source": source},
                )
            )
    pa.write(session, who, entries, day=today, now=now, origin=origin)
    return result


def _items(session: Session, where: sa.ColumnElement[bool]) -> list[Any]:
    bi, b, p = t.batch_items, t.payment_batches, t.payouts
    query = (
        sa.select(bi, b.c.state.label("batch_state"), b.c.municipality, p.c.agreement_id)
        .join(b, b.c.id == bi.c.batch_id)
        .join(p, p.c.id == bi.c.payout_id)
        .where(where, bi.c.withdrawn_at.is_(None))
        .order_by(bi.c.id)
    )
    return list(session.execute(query))


def record_batch_paid(
    db: Database,
    batch_id: int,
    *,
    paid_on: date,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> PaidResult:
    """An officer records an exported batch paid (the bank's statement says so)."""
    if paid_on > today:
        raise InvalidInput(f"{paid_on} is after the day acted on ({today})", field="paid_on")
    with db.write() as session:
        repo = Repository(session)
        batch = batch_row(session, batch_id)
        who = editor(repo, actor_name, {batch.municipality})
        problem = move_problem("pay", BatchState(batch.state))
        if problem is not None:
            raise RuleViolation(problem)
        items = _items(session, t.batch_items.c.batch_id == batch.id)
        return _mark_paid(
            session,
            who,
            [(i, paid_on) for i in items if i.paid_on is None],
            today=today,
            now=now,
            origin=origin,
            source="officer",
        )


def read_camt(
    db: Database,
    xml: bytes,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> PaidResult:
    """The bank's camt.054 debit notification: each booked debit whose end-to-end id
    is an item of an exported batch, for the item's amount, marks it paid. Everything
    else is listed with what did not match, and changes nothing."""
    try:
        debits = read_debit_notification(xml)
    except ValueError as exc:
        raise InvalidInput(str(exc), field="FILE") from None
    with db.write() as session:
        repo = Repository(session)
        who = editor(repo, actor_name, set())
        ids = [d.end_to_end_id for d in debits if d.end_to_end_id]
        bi = t.batch_items
        found = (
            {i.end_to_end_id: i for i in _items(session, bi.c.end_to_end_id.in_(ids))}
            if ids
            else {}
        )
        result = PaidResult()
        to_mark: list[tuple[Any, date]] = []
        for debit in debits:
            item = found.get(debit.end_to_end_id)
            problem = _mismatch(debit, item, who)
            if problem is not None:
                result.unmatched.append(
                    {
                        "end_to_end_id": debit.end_to_end_id,
                        "amount_ore": debit.amount_ore,
                        "problem": problem,
                    }
                )
                continue
            if item is not None and item.paid_on is None:
                to_mark.append((item, debit.booked_on or today))
        marked = _mark_paid(
            session, who, to_mark, today=today, now=now, origin=origin, source="camt.054"
        )
        marked.unmatched = result.unmatched
        return marked


def _mismatch(debit: Any, item: Any, who: Person) -> str | None:
    if not debit.end_to_end_id:
        return "no end-to-end id"
    if item is None:
        return "not a payout of any batch"
    if who.municipality is not None and item.municipality != who.municipality:
        return f"a payout of {item.municipality}, not of {who.municipality}"
    if item.batch_state not in (BatchState.EXPORTED, BatchState.PAID):
        return f"its batch {item.batch_id} is {item.batch_state}, not exported"
    if debit.amount_ore != item.amount_ore:
        return f"amount {debit.amount_ore} öre, the batch says {item.amount_ore} öre"
    if debit.status != "BOOK":
        return f"status {debit.status}, not booked"
    return None


# --- reading -------------------------------------------------------------------------------


def payment_stages(session: Session, payout_ids: Sequence[int]) -> dict[int, dict[str, Any]]:
    """Where the money of each released payout in `payout_ids` is, in Swedish for the
    pages: waiting for a batch, held (no confirmed payment details), in batch N,
    sent to the bank, paid on a day, or paid before this system took over."""
    if not payout_ids:
        return {}
    p, bi, b, d = t.payouts, t.batch_items, t.payment_batches, t.payment_details
    live_item = sa.and_(bi.c.payout_id == p.c.id, bi.c.withdrawn_at.is_(None))
    confirmed = sa.exists().where(
        d.c.organisation_id == p.c.organisation_id, d.c.state == DetailsState.CONFIRMED
    )
    rows = session.execute(
        sa.select(
            p.c.id,
            p.c.released_by,
            bi.c.batch_id,
            bi.c.paid_on,
            b.c.state.label("batch_state"),
            confirmed.label("has_details"),
        )
        .select_from(p.outerjoin(bi, live_item).outerjoin(b, b.c.id == bi.c.batch_id))
        .where(p.c.id.in_(list(payout_ids)), p.c.state == PayoutState.RELEASED)
    )
    found: dict[int, dict[str, Any]] = {}
    for r in rows:
        stage = stage_of(PayoutState.RELEASED, r.batch_state, r.paid_on is not None)
        if r.released_by == IMPORTED:
            text = "Betald före systemet"
        elif stage is PaymentStage.PAID:
            text = f"Betald {r.paid_on.isoformat()}" if r.paid_on else "Betald"
        elif stage is PaymentStage.EXPORTED:
            text = f"Skickad till banken (bunt {r.batch_id})"
        elif stage is PaymentStage.IN_BATCH:
            text = f"I utbetalningsbunt {r.batch_id}, väntar på attest eller export"
        elif not r.has_details:
            text = "Hålls inne: inga bekräftade betalningsuppgifter"
        else:
            text = "Väntar på en utbetalningsbunt"
        found[r.id] = {"stage": None if stage is None else stage.value, "text": text}
    return found


def _batch_view(row: Any) -> dict[str, Any]:
    return {
        "id": row.id,
        "municipality": row.municipality,
        "state": row.state,
        "as_of": row.as_of.isoformat(),
        "execution_date": row.execution_date.isoformat(),
        "items": row.item_count,
        "total_ore": row.total_ore,
        "prepared_by": row.prepared_by,
        "attested_by": row.attested_by,
        "rejected_by": row.rejected_by,
        "rejected_reason": row.rejected_reason,
        "exported_at": None if row.exported_at is None else row.exported_at.isoformat(),
        "paid_on": None if row.paid_on is None else row.paid_on.isoformat(),
    }


def list_batches(db: Database, *, municipality: str | None = None) -> list[dict[str, Any]]:
    b = t.payment_batches
    query = sa.select(b).order_by(b.c.id.desc())
    if municipality is not None:
        query = query.where(b.c.municipality == municipality)
    with db.read() as session:
        return [_batch_view(r) for r in session.execute(query)]


def show_batch(db: Database, batch_id: int) -> dict[str, Any]:
    bi, a = t.batch_items, t.agreements
    with db.read() as session:
        batch = batch_row(session, batch_id)
        items = session.execute(
            sa.select(bi, a.c.diarienummer)
            .join(t.payouts, t.payouts.c.id == bi.c.payout_id)
            .join(a, a.c.id == t.payouts.c.agreement_id)
            .where(bi.c.batch_id == batch_id)
            .order_by(bi.c.id)
        ).all()
        return {
            **_batch_view(batch),
            "payouts": [
                {
                    "payout": i.payout_id,
                    "diarienummer": i.diarienummer,
                    "end_to_end_id": i.end_to_end_id,
                    "creditor": i.creditor_name,
                    "to": shown_details(
                        PaymentDetails(
                            i.creditor_kind, i.creditor_number, clearing=i.creditor_clearing
                        )
                    ),
                    "amount_ore": i.amount_ore,
                    "paid_on": None if i.paid_on is None else i.paid_on.isoformat(),
                    "withdrawn": i.withdrawn_at is not None,
                }
                for i in items
            ],
        }
