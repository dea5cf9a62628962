"""`payout_money`, the totals the database keeps (migration 0012), equals its
definition, the `GROUP BY` over every payout (adapters/payout_money.py), on SQLite and
on PostgreSQL:

- after random transactions of the statements that change payouts in the product: one
  payout inserted, changed (state, amount, due day, agreement) or deleted by id as the
  ORM does, many in one statement (a multi-row INSERT, an executemany, a payout run's
  `UPDATE … WHERE id IN … RETURNING`, an UPDATE or DELETE by state and day), an
  agreement moved to another municipality or deleted with its payouts; some of the
  transactions rolled back;
- after the migration, for payouts written before it (the backfill), and after a
  downgrade and upgrade again.

A group with no payout has no row, as the `GROUP BY` has none; on PostgreSQL no pending
row outlives its transaction.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy.orm import Session

from iop_workflow.adapters import payout_money
from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database, migration_config
from iop_workflow.domain.states import PayoutState

MUNICIPALITIES = ("mjolby", "kramfors")
AGREEMENTS = 3
STATES = [s.value for s in PayoutState]
# Around new year, so that a due day moved by a day can move a payout to another year.
DAYS = st.dates(date(2026, 12, 25), date(2029, 1, 5))
AMOUNTS = st.integers(0, 5_000_000_000)
PROPERTY_SETTINGS = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

Totals = set[tuple[str, int, str, int, int]]


# --- what each side says -------------------------------------------------------------


def _as_totals(rows: Any) -> Totals:
    return {
        (r.municipality, int(r.year), str(r.state), int(r.amount_ore), int(r.payouts)) for r in rows
    }


def assert_kept_equals_summed(db: Database) -> Totals:
    with db.read() as session:
        kept = _as_totals(session.execute(payout_money.kept()))
        summed = _as_totals(session.execute(payout_money.summed()))
        pending = session.execute(
            sa.select(sa.func.count()).select_from(t.payout_money_pending)
        ).scalar_one()
    assert kept == summed
    assert pending == 0
    return kept


# --- the statements ---------------------------------------------------------------------

_covers = itertools.count()


def _payout_row(
    agreement_id: int, organisation_id: int, due: date, amount: int, state: str
) -> dict[str, Any]:
    # covers_from only keeps (agreement, organisation, covers_from) unique.
    covers = date(2000, 1, 1) + timedelta(days=next(_covers))
    return {
        "agreement_id": agreement_id,
        "organisation_id": organisation_id,
        "covers_from": covers,
        "covers_to": covers,
        "due_on": due,
        "amount_ore": amount,
        "state": state,
    }


@dataclass(frozen=True)
class World:
    """The agreements and organisation an example writes payouts for."""

    agreements: list[int]
    organisation: int


def _ids(session: Session) -> list[int]:
    p = t.payouts
    return list(session.execute(sa.select(p.c.id).order_by(p.c.id)).scalars())


def _agreements(session: Session) -> list[int]:
    a = t.agreements
    return list(session.execute(sa.select(a.c.id).order_by(a.c.id)).scalars())


def _pick(ids: list[int], index: int) -> int | None:
    return ids[index % len(ids)] if ids else None


# A change to one payout is the commonest statement in the product (every step's).
KINDS = [
    "insert", "insert_values", "insert_many", "update_one", "update_one", "update_one",
    "update_in", "update_where", "delete_one", "delete_where", "move_agreement",
    "delete_agreement",
]  # fmt: skip
ROWS = st.tuples(st.integers(0, 99), DAYS, AMOUNTS, st.sampled_from(STATES))


@st.composite
def operations(draw: st.DrawFn) -> tuple[Any, ...]:
    """One statement, as (kind, arguments); ids are picked from what exists when run."""
    kind = draw(st.sampled_from(KINDS))
    rows = ROWS
    if kind == "insert":
        return (kind, draw(rows))
    if kind in ("insert_values", "insert_many"):
        return (kind, draw(st.lists(rows, min_size=1, max_size=6)))
    if kind == "update_one":
        change = draw(
            st.fixed_dictionaries(
                {},
                optional={
                    "state": st.sampled_from(STATES),
                    "amount_ore": AMOUNTS,
                    "due_on": DAYS,
                    "agreement": st.integers(0, 99),
                    "blocked_reason": st.just("väntar på uppföljning"),
                },
            )
        )
        return (kind, draw(st.integers(0, 999)), change)
    if kind == "update_in":
        picked = draw(st.lists(st.integers(0, 999), min_size=1, max_size=8))
        return (kind, picked, draw(st.sampled_from(STATES)), draw(st.sampled_from(STATES)))
    if kind == "update_where":
        return (kind, draw(st.sampled_from(STATES)), draw(DAYS), draw(st.sampled_from(STATES)))
    if kind == "delete_one":
        return (kind, draw(st.integers(0, 999)))
    if kind == "delete_where":
        return (kind, draw(st.sampled_from(STATES)), draw(DAYS))
    if kind == "move_agreement":
        return (kind, draw(st.integers(0, 99)), draw(st.sampled_from(MUNICIPALITIES)))
    return (kind, draw(st.integers(0, 99)))


def apply(session: Session, world: World, op: tuple[Any, ...]) -> None:
    p, a = t.payouts, t.agreements
    kind, *args = op
    agreements = _agreements(session)

    def row(spec: tuple[int, date, int, str]) -> dict[str, Any] | None:
        agreement = _pick(agreements, spec[0])
        return None if agreement is None else _payout_row(agreement, world.organisation, *spec[1:])

    if kind in ("insert", "insert_values", "insert_many"):
        specs = [args[0]] if kind == "insert" else args[0]
        new = [r for r in map(row, specs) if r is not None]
        if not new:
            return
        if kind == "insert_values":  # one statement, however many rows and groups
            session.execute(sa.insert(p).values(new))
        else:  # the driver's executemany: one statement a row on PostgreSQL
            session.execute(sa.insert(p), new)
        return
    ids = _ids(session)
    if kind == "update_one":
        payout, change = _pick(ids, args[0]), dict(args[1])
        if payout is None or not change:
            return
        if "agreement" in change:
            change["agreement_id"] = _pick(agreements, change.pop("agreement"))
        session.execute(
            sa.update(p).where(p.c.id == payout).values(**change, version=p.c.version + 1)
        )
    elif kind == "update_in":  # a payout run's shape
        picked = sorted({ids[i % len(ids)] for i in args[0]} if ids else set())
        session.execute(
            sa.update(p)
            .where(p.c.id.in_(picked), p.c.state == args[1])
            .values(state=args[2], version=p.c.version + 1)
            .returning(p.c.id)
        ).all()
    elif kind == "update_where":
        session.execute(
            sa.update(p).where(p.c.state == args[0], p.c.due_on <= args[1]).values(state=args[2])
        )
    elif kind == "delete_one":
        payout = _pick(ids, args[0])
        if payout is not None:
            session.execute(sa.delete(p).where(p.c.id == payout))
    elif kind == "delete_where":
        session.execute(sa.delete(p).where(p.c.state == args[0], p.c.due_on >= args[1]))
    elif kind == "move_agreement":
        agreement = _pick(agreements, args[0])
        session.execute(sa.update(a).where(a.c.id == agreement).values(municipality=args[1]))
    elif kind == "delete_agreement" and len(agreements) > 1:
        # Its payouts go by the foreign key's cascade.
        session.execute(sa.delete(a).where(a.c.id == _pick(agreements, args[0])))


# --- the world an example starts from --------------------------------------------------


def _agreement_row(number: int, municipality: str) -> dict[str, Any]:
    return {
        "diarienummer": f"TEST {number}",
        "municipality": municipality,
        "committee": "Socialnämnden",
        "title": "Läxhjälp",
        "purpose": "Stöd",
        "target_group": "Barn",
        "start": date(2027, 1, 1),
        "end": date(2028, 12, 31),
        "officer": "Eva Handläggare",
        "state": "active",
        "indicators": [],
    }


_numbers = itertools.count()


def fresh_world(db: Database) -> World:
    """No payout, and AGREEMENTS new agreements in both municipalities."""
    with db.write() as session:
        session.execute(sa.delete(t.payouts))
        session.execute(sa.delete(t.agreements))
        organisation = session.execute(sa.select(t.organisations.c.id)).scalar()
        if organisation is None:
            organisation = session.execute(
                sa.insert(t.organisations)
                .values(
                    name="Förening",
                    organisationsnummer="802000-1239",
                    contact_name="Kim Berg",
                    contact_email="kim@example.com",
                )
                .returning(t.organisations.c.id)
            ).scalar_one()
        agreements = [
            session.execute(
                sa.insert(t.agreements)
                .values(_agreement_row(next(_numbers), MUNICIPALITIES[i % 2]))
                .returning(t.agreements.c.id)
            ).scalar_one()
            for i in range(AGREEMENTS)
        ]
    assert assert_kept_equals_summed(db) == set()
    return World(agreements, organisation)


class RolledBack(Exception):
    pass


TRANSACTIONS = st.lists(
    st.tuples(
        st.lists(operations(), min_size=1, max_size=5),
        st.sampled_from([True, True, False]),  # commit, or roll back
    ),
    min_size=1,
    max_size=6,
)


@PROPERTY_SETTINGS
@given(first=st.lists(ROWS, max_size=12), transactions=TRANSACTIONS)
def test_the_kept_totals_equal_the_group_by_after_any_changes_to_payouts(
    db: Database,
    first: list[tuple[int, date, int, str]],
    transactions: list[tuple[list[tuple[Any, ...]], bool]],
) -> None:
    world = fresh_world(db)
    with db.write() as session:
        apply(session, world, ("insert_values", first))
    assert_kept_equals_summed(db)
    for ops, commit in transactions:
        try:
            with db.write() as session:
                for op in ops:
                    apply(session, world, op)
                if not commit:
                    raise RolledBack
        except RolledBack:
            pass
        assert_kept_equals_summed(db)


def _downgrade(db: Database, revision: str) -> None:
    with db.engine.begin() as connection:
        config = migration_config()
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def test_the_migration_sums_the_payouts_already_there_and_its_downgrade_removes_the_totals(
    empty_db: Database,
) -> None:
    empty_db.upgrade("0011")
    with empty_db.write() as session:
        organisation = session.execute(
            sa.insert(t.organisations)
            .values(
                name="Förening",
                organisationsnummer="802000-1239",
                contact_name="Kim Berg",
                contact_email="kim@example.com",
                forening_registered=False,
            )
            .returning(t.organisations.c.id)
        ).scalar_one()
        agreements = [
            session.execute(
                sa.insert(t.agreements)
                .values(_agreement_row(next(_numbers), municipality))
                .returning(t.agreements.c.id)
            ).scalar_one()
            for municipality in MUNICIPALITIES
        ]
        rows = [
            _payout_row(agreement, organisation, date(year, month, 28), 1_000 * month, state)
            for agreement in agreements
            for year in (2027, 2028)
            for month, state in zip((1, 6, 12), STATES, strict=False)
        ]
        session.execute(sa.insert(t.payouts), rows)

    empty_db.upgrade()
    kept = assert_kept_equals_summed(empty_db)
    assert len(kept) == 2 * 2 * 3 and sum(r[4] for r in kept) == len(rows)

    _downgrade(empty_db, "0011")
    inspector = sa.inspect(empty_db.engine)
    assert not {"payout_money", "payout_money_pending"} & set(inspector.get_table_names())
    with empty_db.write() as session:  # no trigger left that writes to a dropped table
        session.execute(sa.update(t.payouts).values(state=PayoutState.RELEASED.value))
        session.execute(sa.delete(t.payouts).where(t.payouts.c.due_on < date(2028, 1, 1)))

    empty_db.upgrade()
    kept = assert_kept_equals_summed(empty_db)
    assert {(r[0], r[1], r[2]) for r in kept} == {(m, 2028, "released") for m in MUNICIPALITIES}
    with empty_db.write() as session:
        session.execute(sa.delete(t.payouts))
        session.execute(sa.delete(t.agreements))


def _two_payouts(db: Database, world: World) -> list[int]:
    """Two planned payouts of one agreement, due in one year: one group."""
    rows = [
        _payout_row(
            world.agreements[0], world.organisation, date(2027, month, 28), 1_000, "planned"
        )
        for month in (1, 6)
    ]
    with db.write() as session:
        return list(session.execute(sa.insert(t.payouts).returning(t.payouts.c.id), rows).scalars())


@pytest.mark.postgres
def test_on_postgresql_a_change_does_not_wait_for_an_open_transaction_on_the_same_totals(
    pg_database: Database,
) -> None:
    # The totals' row is written at commit: a run that holds it from its first UPDATE
    # would keep every step on a payout of the same year waiting until it commits.
    db = pg_database
    first, second = _two_payouts(db, fresh_world(db))
    p = t.payouts
    released = {"state": "released", "version": p.c.version + 1}
    with db.engine.connect() as slow:
        slow.begin()
        slow.execute(sa.update(p).where(p.c.id == first).values(**released))
        with db.engine.connect() as fast:
            with fast.begin():
                fast.exec_driver_sql("SET LOCAL lock_timeout = '2s'")
                fast.execute(sa.update(p).where(p.c.id == second).values(**released))
        kept = assert_kept_equals_summed(db)  # the slow one's change is not committed
        assert {(r[2], r[4]) for r in kept} == {("planned", 1), ("released", 1)}
        slow.commit()
    assert {(r[2], r[4]) for r in assert_kept_equals_summed(db)} == {("released", 2)}
    fresh_world(db)


@pytest.mark.postgres
def test_on_postgresql_truncating_the_payouts_empties_the_totals(pg_database: Database) -> None:
    db = pg_database
    _two_payouts(db, fresh_world(db))
    with db.write() as session:
        session.execute(sa.text("TRUNCATE payouts CASCADE"))
    assert assert_kept_equals_summed(db) == set()
    fresh_world(db)
