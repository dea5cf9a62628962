"""The set-wise flows do exactly what the domain's steps do, fired one agreement at a time.

For a random portfolio (setwise_portfolio.py: 1-4 agreements of either preset, periods
of 1-4 years from various months, per-agreement payout dates and report days, one or
two parties, follow-ups in every state, amendments, terminations with their claims,
renewals, decisions, signatures or a follow-up missing) and a random day, two identical
databases (in memory, copies of one migrated sandbox database):

- on one the set-wise flows run for the day: `daily_sweep`, then `payout_run`;
- on the other, one agreement at a time, every scheduled step whose state and guards
  allow it (`triggers_from`, `check_guards`) is fired through the service
  (`apply_step`) as the system, in the flows' order: each follow-up's `open_follow_up`,
  then each one's `mark_report_overdue`, the agreement's `end`, then `start_renewal`,
  each claim's `mark_claim_overdue`; then, once every agreement had its sweep steps,
  each due payout's `release_payout`, or else its `block_payout`. The day's notices are
  what the domain's reminder rules (domain/reminders.py) give for each agreement as its
  steps left it (with the payout run's own wording of a payout's notice).

The state changes, every row's resulting state, the payouts' stored block reasons, the
gate's structured answer (`GateBlock`) for every open payout, the audit trail and the
notifications must then be exactly equal.

A blocked payout is blocked again (`block_payout`, blocked → blocked) only when its
reason has moved on: a step that changes nothing is no scheduled work (a second run
on the same day finds nothing to do).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from datetime import date
from typing import Any

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, event, given, settings
from payout_notice_reference import blocked_notice, closed_notice
from setwise_portfolio import NOW, Built, PortfolioSpec, build, describe, portfolio_specs, store

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database, Repository
from iop_workflow.domain import due_rules as due
from iop_workflow.domain import reminders as r
from iop_workflow.domain.context import StateChange
from iop_workflow.domain.errors import GuardRefused
from iop_workflow.domain.gate import GateBlock, gate_block
from iop_workflow.domain.machines import ENTITY_OF, triggers_from
from iop_workflow.domain.model import Agreement, Payout
from iop_workflow.domain.roles import FLOW_ORIGIN, SYSTEM_ACTOR
from iop_workflow.domain.states import (
    LIVE_AGREEMENT,
    OPEN_PAYOUT,
    RENEWABLE_AGREEMENT,
    UNSUBMITTED_FOLLOW_UP,
    PayoutState,
)
from iop_workflow.domain.workflow import check_guards
from iop_workflow.policies import load_policy
from iop_workflow.service import payouts as pay
from iop_workflow.service.outbox import Notice, record
from iop_workflow.service.payouts import gate_rows, payout_run
from iop_workflow.service.steps import apply_step
from iop_workflow.service.sweep import daily_sweep

# (diarienummer, entity, key, trigger, from, to)
Change = tuple[str, str, str, str, str, str]

# The sweep's steps in the flows' order, each with the part of the agreement it moves.
SWEEP_STEPS = (
    due.OPEN_FOLLOW_UP.trigger,
    due.MARK_REPORT_OVERDUE.trigger,
    due.END.trigger,
    due.START_RENEWAL.trigger,
    due.MARK_CLAIM_OVERDUE.trigger,
)


# --- databases ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sqlite3.Connection]:
    """An empty database at head, a sandbox (tests/conftest.py: acting on any day is
    allowed, as on every test database), held in memory to be copied from."""
    path = tmp_path_factory.mktemp("setwise") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    assert db.is_sandbox()
    db.dispose()
    with closing(sqlite3.connect(":memory:")) as memory:
        with closing(sqlite3.connect(path)) as source:
            source.backup(memory)
        yield memory


@pytest.fixture(scope="module")
def databases() -> Iterator[dict[str, Database]]:
    """The two databases, in memory, reused by every example (each starts as a copy of
    the template): one engine each, so statements are compiled once, not per example."""
    dbs = {side: Database("sqlite://") for side in ("setwise", "steps")}
    yield dbs
    for db in dbs.values():
        db.dispose()


def connection(db: Database) -> sqlite3.Connection:
    raw = db.engine.raw_connection()  # the pool's one connection: closing keeps it open
    try:
        driver = raw.driver_connection
        assert isinstance(driver, sqlite3.Connection)
        return driver
    finally:
        raw.close()


# --- the step engine, one agreement at a time --------------------------------------------


def targets(agreement: Agreement, trigger: str) -> Iterator[tuple[Any, dict[str, Any]]]:
    """The parts of `agreement` that `trigger` moves, in a fixed order, with the step
    input that addresses each."""
    entity = ENTITY_OF[trigger]
    if entity == "agreement":
        yield agreement, {}
    elif entity == "follow_up":
        for follow_up in sorted(agreement.follow_ups, key=lambda f: f.year):
            yield follow_up, {"year": follow_up.year}
    elif entity == "claim":
        for claim in sorted(agreement.claims, key=lambda c: c.id or 0):
            yield claim, {"claim": claim.id}
    else:
        for payout in sorted(agreement.payouts, key=lambda p: (p.due_on, p.id or 0)):
            yield payout, {"payout": payout.id}


def allowed(
    agreement: Agreement, trigger: str, target: Any, data: dict[str, Any], day: date
) -> bool:
    """Whether the machine allows `trigger` on `target` now and every guard holds."""
    if trigger not in triggers_from(ENTITY_OF[trigger], target.state):
        return False
    try:
        check_guards(
            agreement,
            trigger,
            policy=load_policy(agreement.municipality),
            today=day,
            data=data,
            target=None if target is agreement else target,
        )
    except GuardRefused:
        return False
    return True


def step(
    repo: Repository, agreement: Agreement, trigger: str, data: dict[str, Any], day: date
) -> list[StateChange]:
    return apply_step(
        repo,
        agreement,
        trigger,
        actor=SYSTEM_ACTOR,
        data=data,
        today=day,
        now=NOW,
        origin=FLOW_ORIGIN,
    )


def sweep_steps(repo: Repository, agreement: Agreement, day: date) -> list[StateChange]:
    changes: list[StateChange] = []
    for trigger in SWEEP_STEPS:
        for target, data in list(targets(agreement, trigger)):
            if allowed(agreement, trigger, target, data, day):
                changes += step(repo, agreement, trigger, data, day)
    return changes


def payout_steps(repo: Repository, agreement: Agreement, day: date) -> list[StateChange]:
    changes: list[StateChange] = []
    for payout, data in list(targets(agreement, "release_payout")):
        if allowed(agreement, "release_payout", payout, data, day):
            changes += step(repo, agreement, "release_payout", data, day)
        elif allowed(agreement, "block_payout", payout, data, day) and (
            payout.state is PayoutState.PLANNED
            or payout.blocked_reason != reason(agreement, payout)
        ):
            changes += step(repo, agreement, "block_payout", data, day)
    return changes


def reason(agreement: Agreement, payout: Payout) -> str | None:
    block = gate_block(agreement, payout)
    return None if block is None else block.reason


# --- the day's notices, by the domain's reminder rules, per agreement --------------------


def sweep_notices(agreement: Agreement, changes: list[StateChange], day: date) -> list[Notice]:
    assert agreement.id is not None
    policy = load_policy(agreement.municipality)
    notices = []
    earliest, latest = r.report_window(day, policy)
    for f in agreement.follow_ups:
        if f.state in UNSUBMITTED_FOLLOW_UP and earliest <= f.due_on <= latest:
            stage = r.current(r.report_stages(f.due_on, policy), day)
            if stage is not None:
                facts = {"diarienummer": agreement.diarienummer, "year": f.year, "due": f.due_on}
                notices.append(Notice(agreement.id, f.due_on, stage, facts))
    if agreement.state in RENEWABLE_AGREEMENT:
        # The ordinary reminders, or the notice of a deadline missed (or falling before
        # the window): officer and manager, once per agreement and period.
        found = r.renewal_reminder(agreement.end, day, policy)
        if found is not None:
            deadline, stage, facts = found
            facts = {"diarienummer": agreement.diarienummer, **facts}
            notices.append(Notice(agreement.id, deadline, stage, facts))
    if agreement.state in LIVE_AGREEMENT:
        stage = r.agreement_ending(agreement.end, day)
        if stage is not None:
            facts = {"diarienummer": agreement.diarienummer, "end": agreement.end}
            notices.append(Notice(agreement.id, agreement.end, stage, facts))
    claims = {str(c.id): c for c in agreement.claims}
    for change in changes:
        if change.trigger == due.MARK_CLAIM_OVERDUE.trigger:
            claim = claims[change.entity_key]
            stage = r.Stage(claim.due_on, r.CLAIM_OVERDUE, "overdue", (r.ORGANISATION, r.OFFICER))
            facts = {
                "diarienummer": agreement.diarienummer,
                "due": claim.due_on,
                "amount_ore": claim.amount_ore,
                "claim_id": claim.id,
            }
            notices.append(Notice(agreement.id, claim.due_on, stage, facts))
    return notices


def gate_row(agreement: Agreement, payout: Payout) -> pay.GateRow:
    assert agreement.id is not None and payout.id is not None
    block = gate_block(agreement, payout)
    return pay.GateRow(
        payout.id,
        payout.state,
        payout.due_on,
        payout.covers_from,
        payout.amount_ore,
        payout.blocked_reason,
        payout.organisation_id,
        agreement.id,
        agreement.diarienummer,
        agreement.municipality,
        block,
        None if block is None else block.reason,
    )


def payout_notices(agreement: Agreement, changes: list[StateChange], day: date) -> list[Notice]:
    """A notice for each payout blocked now, and a warning ahead of each payout whose
    gate does not hold (the notices' wording is the payout run's own)."""
    by_id = {str(p.id): p for p in agreement.payouts}
    notices = [
        blocked_notice(gate_row(agreement, by_id[c.entity_key]))
        for c in changes
        if c.trigger == "block_payout" and c.from_state == PayoutState.PLANNED
    ]
    policy = load_policy(agreement.municipality)
    for payout in agreement.payouts:
        stage = r.payout_warning(payout.due_on, day, policy)
        if payout.state in OPEN_PAYOUT and stage is not None:
            row = gate_row(agreement, payout)
            if row.block is not None:
                notices.append(closed_notice(row, stage))
    return notices


def run_steps(db: Database, day: date) -> tuple[list[Change], dict[int, GateBlock | None]]:
    """The step engine's day: the sweep's steps and reminders of each agreement in turn,
    then each agreement's payout steps and payout notices. Returns the state changes,
    and the domain gate's answer (`gate_block`) for every payout still open after."""
    found: list[Change] = []
    with db.write() as session:
        repo = Repository(session)
        agreements = sorted(repo.agreements(), key=lambda a: a.id or 0)
        for phase in ("sweep", "payouts"):
            for agreement in agreements:
                if phase == "sweep":
                    changes = sweep_steps(repo, agreement, day)
                    notices = sweep_notices(agreement, changes, day)
                else:
                    changes = payout_steps(repo, agreement, day)
                    notices = payout_notices(agreement, changes, day)
                record(session, notices, as_of=day, now=NOW)
                found += [
                    (
                        agreement.diarienummer,
                        c.entity,
                        c.entity_key,
                        c.trigger,
                        c.from_state,
                        c.to_state,
                    )
                    for c in changes
                ]
        blocks = {
            payout.id: gate_block(agreement, payout)
            for agreement in agreements
            for payout in agreement.payouts
            if payout.state in OPEN_PAYOUT and payout.id is not None
        }
    return found, blocks


def run_setwise(db: Database, day: date) -> list[Change]:
    swept = daily_sweep(db, as_of=day, now=NOW, origin=FLOW_ORIGIN)
    paid = payout_run(db, as_of=day, now=NOW, origin=FLOW_ORIGIN)
    return [
        (c.diarienummer, c.entity, c.key, c.trigger, c.from_state, c.to_state)
        for c in [*swept.changes, *paid.changes]
    ]


# --- what is compared ---------------------------------------------------------------------


def rows(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """The states the runs change, the block reasons, the audit trail (without its
    reason texts and hashes) and the notifications."""
    a, f, p, c, au, n = (
        t.agreements,
        t.follow_ups,
        t.payouts,
        t.repayment_claims,
        t.audit_log,
        t.notifications,
    )
    queries = {
        "agreements": sa.select(a.c.diarienummer, a.c.state).order_by(a.c.id),
        "follow_ups": sa.select(f.c.agreement_id, f.c.year, f.c.state).order_by(f.c.id),
        "payouts": sa.select(
            p.c.id, p.c.state, p.c.blocked_reason, p.c.released_on, p.c.released_by
        ).order_by(p.c.id),
        "claims": sa.select(c.c.id, c.c.state).order_by(c.c.id),
        "audit": sa.select(
            au.c.agreement_id,
            au.c.entity,
            au.c.entity_key,
            au.c.trigger,
            au.c.from_state,
            au.c.to_state,
            au.c.actor,
            au.c.role,
            au.c.channel,
            au.c.effective_date,
        ),
        "notifications": sa.select(
            n.c.agreement_id,
            n.c.kind,
            n.c.subject_date,
            n.c.stage,
            n.c.recipients,
            n.c.facts,
            n.c.created_on,
        ),
    }
    with db.read() as session:
        found = {name: [tuple(row) for row in session.execute(q)] for name, q in queries.items()}
    for name in ("audit", "notifications"):
        found[name] = sorted(found[name], key=repr)
    return found


def setwise_blocks(db: Database) -> dict[int, GateBlock | None]:
    """The set-wise gate's answer for every open payout (due or not)."""
    with db.read() as session:
        found = gate_rows(session, due_from=None, due_to=date.max, agreement_ids=None)
    return {row.payout_id: row.block for row in found}


def coverage(built: Built, changes: list[Change], blocks: dict[int, GateBlock | None]) -> None:
    """What this example exercised (shown by `pytest --hypothesis-show-statistics`)."""
    for agreement in built.agreements:
        event(f"agreement {agreement.state.value}")
        for f in agreement.follow_ups:
            event(f"follow-up {f.state.value}")
        for p in agreement.payouts:
            event(f"payout {p.state.value}")
    for _, _, _, trigger, source, _ in changes:
        event(f"change {trigger} from {source}")
    for block in blocks.values():
        event(f"gate {'holds' if block is None else block.kind.value}")


# --- the property -------------------------------------------------------------------------


# A few hundred examples in about a minute: the databases live in memory, are reused by
# every example (module fixtures) and reset to the template at the start of each.
SETWISE_SETTINGS = settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@SETWISE_SETTINGS
@given(spec=portfolio_specs())
def test_the_setwise_flows_change_exactly_what_the_steps_change(
    template: sqlite3.Connection, databases: dict[str, Database], spec: PortfolioSpec
) -> None:
    built = build(spec)
    day = built.day
    template.backup(connection(databases["setwise"]))
    store(databases["setwise"], built)
    connection(databases["setwise"]).backup(connection(databases["steps"]))

    setwise = run_setwise(databases["setwise"], day)
    stepped, stepped_blocks = run_steps(databases["steps"], day)
    note = "\n".join(describe(built))
    assert Counter(setwise) == Counter(stepped), f"state changes differ\n{note}"
    after = {side: rows(db) for side, db in databases.items()}
    for name in after["setwise"]:
        assert after["setwise"][name] == after["steps"][name], f"{name} differ\n{note}"
    blocks = setwise_blocks(databases["setwise"])
    assert blocks == stepped_blocks, f"gate blocks differ\n{note}"
    coverage(built, setwise, blocks)
    for kind in sorted({row[1] for row in after["setwise"]["notifications"]}):
        event(f"notice {kind}")

    # A second run of the same day finds nothing left to do.
    assert run_setwise(databases["setwise"], day) == []
