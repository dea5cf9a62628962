"""The payout gate (iop-rules §3) over years of scheduled work, at the service level.

OSN 2026/0142 (examples/mjolby.yaml; 2027-01-01 → 2031-12-31, 300 000 kr a year in two
instalments) is walked to active, then every day runs the daily sweep and then the payout
run in one transaction, as `iop simulate` and the schedule do. No Prefect here: the flows
are thin wrappers around exactly these functions.

On SQLite and on PostgreSQL: the long walk and two payout runs racing for one day. The
random interleavings (hypothesis) run on SQLite copies of one prepared database.
"""

from __future__ import annotations

import itertools
import sqlite3
import threading
from collections import Counter
from contextlib import closing
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flow_support import (
    ANNA,
    EXAMPLES,
    activate_demo,
    approve_follow_up,
    assert_audit_intact,
    bulk_copies_yaml,
    follow_up_state,
    import_examples,
    now,
)
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.domain.errors import IopError
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run, run_payouts
from iop_workflow.service.setwise import Change
from iop_workflow.service.sweep import sweep

FIRST_DAY, LAST_DAY = date(2027, 1, 1), date(2032, 4, 30)
LATE_APPROVAL = date(2028, 6, 15)  # follow-up 2027's report was due 2028-03-31
HELD = date(2028, 4, 28)  # the first 2028 instalment, held back by follow-up 2027


@dataclass(frozen=True)
class PayoutRow:
    id: int
    due_on: date
    year: int  # the year the instalment covers; its gate is follow-up year - 1
    state: str
    released_on: date | None
    released_by: str | None


def run_day(db: Database, day: date) -> list[Change]:
    """One scheduled day: the sweep, then the payout run, in one transaction."""
    with db.write() as session:
        changes = sweep(session, as_of=day, now=now()).changes
        changes += run_payouts(session, as_of=day, now=now()).changes
    return changes


def payouts_of(db: Database, agreement_id: int) -> list[PayoutRow]:
    p = t.payouts
    query = (
        sa.select(p.c.id, p.c.due_on, p.c.covers_from, p.c.state, p.c.released_on)
        .add_columns(p.c.released_by)
        .where(p.c.agreement_id == agreement_id)
        .order_by(p.c.due_on)
    )
    with db.read() as session:
        return [
            PayoutRow(r.id, r.due_on, r.covers_from.year, r.state, r.released_on, r.released_by)
            for r in session.execute(query)
        ]


def releases_in_audit(db: Database) -> Counter[str]:
    """How many `release_payout` audit records each payout has (by payout id)."""
    log = t.audit_log
    query = sa.select(log.c.entity_key).where(
        log.c.entity == "payout", log.c.trigger == "release_payout"
    )
    with db.read() as session:
        return Counter(key for (key,) in session.execute(query))


def approved_years(db: Database, agreement_id: int) -> set[int]:
    f = t.follow_ups
    query = sa.select(f.c.year).where(f.c.agreement_id == agreement_id, f.c.state == "approved")
    with db.read() as session:
        return {year for (year,) in session.execute(query)}


def activated(url: str) -> tuple[Database, int]:
    db = Database(url)
    db.upgrade()
    import_file(db, str(EXAMPLES["mjolby"]), now=now())
    return db, activate_demo(db)


# --- five years, day by day ------------------------------------------------------------


def test_each_year_is_paid_only_after_the_previous_follow_up_is_approved(
    backend_url: str,
) -> None:
    db, demo = activated(backend_url)
    first_year = {p.id for p in payouts_of(db, demo) if p.year == 2027}
    held = next(p.id for p in payouts_of(db, demo) if p.due_on == HELD)
    released_on: dict[int, date] = {}
    approval_releases: list[str] = []
    try:
        day = FIRST_DAY
        while day <= LAST_DAY:
            for change in run_day(db, day):
                if change.trigger == "release_payout":
                    payout = int(change.key)
                    assert payout not in released_on, f"payout {payout} released twice"
                    released_on[payout] = day
            if day == LATE_APPROVAL:
                assert follow_up_state(db, demo, 2027) == "overdue"
                approval = approve_follow_up(db, demo, 2027, day)
                approval_releases = [
                    c.entity_key for c in approval.changes if c.trigger == "release_payout"
                ]
                for key in approval_releases:
                    released_on[int(key)] = day
            gate_open = {2027} | ({2028} if day >= LATE_APPROVAL else set())
            for p in payouts_of(db, demo):
                if p.year in gate_open and p.due_on <= day:
                    assert p.state == "released", (day, p)
                elif p.year not in gate_open and p.due_on <= day:
                    assert p.state == "blocked", (day, p)  # held, with a reason
                else:
                    assert p.state == "planned", (day, p)
            day += timedelta(days=1)
    finally:
        db.dispose()

    payouts = {p.id: p for p in payouts_of(db, demo)}
    # The first year needs only the decision and the signatures: paid on the due days.
    assert {i: released_on[i] for i in first_year} == {i: payouts[i].due_on for i in first_year}
    # Approving follow-up 2027 late releases, in that step, the instalment it was holding.
    assert approval_releases == [str(held)]
    assert payouts[held].released_on == LATE_APPROVAL and payouts[held].released_by == ANNA
    second_2028 = next(p for p in payouts.values() if p.year == 2028 and p.id != held)
    assert released_on[second_2028.id] == second_2028.due_on
    # One audit record per release, whoever released it; nothing else released.
    assert releases_in_audit(db) == Counter(str(i) for i in released_on)
    assert set(released_on) == first_year | {held, second_2028.id}
    later = [p for p in payouts.values() if p.year >= 2029]
    assert len(later) == 6 and all(p.state == "blocked" for p in later)
    assert_audit_intact(db)  # five years of sweeps, payout runs and steps: one chain


# --- two payout runs at once ------------------------------------------------------------


def test_two_payout_runs_at_once_release_each_payout_exactly_once(
    backend_url: str, tmp_path: Path
) -> None:
    db = Database(backend_url)
    db.upgrade()
    try:
        import_examples(db)
        activate_demo(db)
        # 20 agreements whose 2025-2026 instalments were never paid: 80 to release at once.
        bulk = bulk_copies_yaml(tmp_path / "bulk.yaml", 20, paid_through=None)
        import_file(db, str(bulk), now=now())
        before = {p.id: p.state for p in all_payouts(db)}
        last_audit = max_audit_id(db)

        day = date(2027, 4, 30)
        start = threading.Barrier(2)
        results: list[Any] = [None, None]

        def run(slot: int) -> None:
            start.wait()
            try:
                results[slot] = payout_run(db, as_of=day, now=now())
            except BaseException as error:  # reported below, not lost in the thread
                results[slot] = error

        threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
        errors = [r for r in results if isinstance(r, BaseException)]
        assert not errors, errors

        after = {p.id: p.state for p in all_payouts(db)}
        changed = {i for i in after if after[i] != before[i]}
        changes = [c for r in results for c in r.changes]
        released = [c.key for c in changes if c.trigger == "release_payout"]
        assert len(released) == len(set(released)) == 4 * 20 + 1  # + OSN 2026/0142's first
        assert {int(k) for k in released} == {i for i in changed if after[i] == "released"}
        assert len(changes) == len(changed)
        audit = new_audit(db, last_audit)
        assert len(audit) == len(changed)
        assert Counter(key for key, trigger in audit if trigger == "release_payout") == Counter(
            released
        )
        assert_audit_intact(db)  # the two runs did not fork the chain
    finally:
        db.dispose()


def all_payouts(db: Database) -> list[Any]:
    with db.read() as session:
        return list(session.execute(sa.select(t.payouts.c.id, t.payouts.c.state)))


def max_audit_id(db: Database) -> int:
    with db.read() as session:
        return int(session.execute(sa.select(sa.func.max(t.audit_log.c.id))).scalar_one())


def new_audit(db: Database, after: int) -> list[tuple[str, str]]:
    log = t.audit_log
    query = sa.select(log.c.entity_key, log.c.trigger).where(log.c.id > after)
    with db.read() as session:
        return [(key, trigger) for key, trigger in session.execute(query)]


# --- random interleavings (hypothesis) --------------------------------------------------

PAYOUT_DAYS = [date(y, m, d) for y in range(2027, 2032) for m, d in ((4, 30), (10, 31))]
INTERESTING = sorted(
    {HELD, date(2027, 10, 29), date(2028, 4, 1), date(2028, 3, 31), LATE_APPROVAL}
    | {d + timedelta(days=k) for d in PAYOUT_DAYS for k in (-1, 0, 1)}
    | {date(y, 11, 1) for y in range(2027, 2032)}
)
days = st.one_of(st.sampled_from(INTERESTING), st.dates(FIRST_DAY, LAST_DAY))
operation = st.one_of(
    st.tuples(st.just("sweep"), days),
    st.tuples(st.just("payouts"), days),
    st.tuples(st.just("day"), days),  # both, one transaction, like the schedule
    st.tuples(st.just("approve"), days, st.integers(2027, 2030)),
)


@dataclass
class Template:
    path: Path
    agreement_id: int
    counter: itertools.count[int]


@pytest.fixture(scope="module")
def activated_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    folder = tmp_path_factory.mktemp("gate-template")
    db, demo = activated(f"sqlite:///{folder / 'activated.db'}")
    db.dispose()
    return Template(folder / "activated.db", demo, itertools.count())


def fresh_copy(template: Template) -> Database:
    target = template.path.with_name(f"copy-{next(template.counter)}.db")
    with closing(sqlite3.connect(template.path)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)
    return Database(f"sqlite:///{target}")


def apply(db: Database, demo: int, op: tuple[Any, ...]) -> list[str]:
    """Run one operation; returns the payout ids it released."""
    kind, day = op[0], op[1]
    if kind == "approve":
        try:
            result = approve_follow_up(db, demo, op[2], day)
        except IopError:
            return []  # refused (not open yet, already approved, ...): nothing happened
        return [c.entity_key for c in result.changes if c.trigger == "release_payout"]
    with db.write() as session:
        changes: list[Change] = []
        if kind in ("sweep", "day"):
            changes += sweep(session, as_of=day, now=now()).changes
        if kind in ("payouts", "day"):
            changes += run_payouts(session, as_of=day, now=now()).changes
    return [c.key for c in changes if c.trigger == "release_payout"]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(operation, min_size=1, max_size=10))
def test_no_order_of_runs_and_approvals_pays_twice_or_past_a_closed_gate(
    activated_template: Template, ops: list[tuple[Any, ...]]
) -> None:
    demo = activated_template.agreement_id
    db = fresh_copy(activated_template)
    released: list[str] = []
    try:
        for op in ops:
            released += apply(db, demo, op)
            assert len(released) == len(set(released)), f"a payout released twice by {op}"
            approved = approved_years(db, demo)
            for p in payouts_of(db, demo):
                if p.state == "released" and p.year > 2027:
                    assert p.year - 1 in approved, f"{p} released, follow-up not approved"
        event(f"released {len(released)}, approved {sorted(approved_years(db, demo))}")
        audit = releases_in_audit(db)
        assert all(n == 1 for n in audit.values()), audit
        assert sorted(audit) == sorted(released)
        assert_audit_intact(db)
    finally:
        db.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(f"{db.url.database}{suffix}").unlink(missing_ok=True)
