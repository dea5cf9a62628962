"""A step's date is a fact, not a wish: nothing is dated after the system's day.

These tests make ordinary databases (`real_clock`): the sandbox mark that lets the
other tests act on days of years to come is exactly what is absent here.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from cli_runner import run_iop
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.clock import Clock
from iop_workflow.config import today_in_stockholm
from iop_workflow.domain.errors import InvalidInput, RuleViolation
from iop_workflow.service.importer import import_file
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.report import portfolio
from iop_workflow.service.steps import transition
from iop_workflow.service.sweep import daily_sweep

pytestmark = pytest.mark.real_clock

ROOT = Path(__file__).resolve().parents[2]
DEMO = "OSN 2026/0142"  # in dialogue, period 2027-01-01 – 2031-12-31
RUNNING = "OSN 2024/0087"  # active since 2025; follow-up 2026 not yet submitted
ANNA, KARIN, PER, SVEN, LEILA = "Anna Berg", "Karin Lund", "Per Sandberg", "Sven Ek", "Leila Haddad"
KINDS = ("income_statement", "balance_sheet", "activity_report", "statistics")
STATISTICS = {
    "statistics.individkontakter": "412",
    "statistics.unika besökare": "97",
    "statistics.informationstillfällen": "12",
}
NOW = datetime.now(tz=UTC)


def examples(url: str) -> Database:
    db = Database(url)
    db.upgrade()
    for name in ("mjolby", "kramfors"):
        import_file(db, str(ROOT / "examples" / f"{name}.yaml"), now=NOW)
    return db


def dump(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    with db.read() as session:
        return {
            table.name: [tuple(r) for r in session.execute(sa.select(table))]
            for table in t.metadata.sorted_tables
        }


def test_a_real_database_is_no_sandbox_and_a_marked_one_is(tmp_path: Path) -> None:
    db = examples(f"sqlite:///{tmp_path / 'iop.db'}")
    assert not db.is_sandbox()
    db.mark_sandbox("a test")
    db.mark_sandbox("again: nothing changes")
    assert db.is_sandbox()
    with db.read() as session:
        rows = session.execute(sa.select(t.installation.c.value)).scalars().all()
    assert rows == ["a test"]


def test_a_step_dated_after_the_system_day_is_refused_and_changes_nothing(
    backend_url: str, tmp_path: Path
) -> None:
    db = examples(backend_url)
    before = dump(db)
    today = today_in_stockholm()
    tomorrow = today + timedelta(days=1)
    run = run_iop(
        tmp_path / "unused.db",
        *("transition", DEMO, "propose_plan", "--actor", ANNA, "--as-of", tomorrow.isoformat()),
        url=backend_url,
        sandbox=False,
    )
    assert run.code == 2, str(run)
    assert run.err == (
        f"error: step 'propose_plan' field 'as_of': {tomorrow} is in the future; "
        f"the system's day is {today} (Europe/Stockholm)\n"
    )
    assert dump(db) == before
    # The same step on the system's day is done.
    done = run_iop(
        tmp_path / "unused.db",
        *("transition", DEMO, "propose_plan", "--actor", ANNA),
        url=backend_url,
        sandbox=False,
    )
    assert done.code == 0, str(done)


def test_every_run_for_a_day_to_come_is_refused_on_a_real_database(tmp_path: Path) -> None:
    db = examples(f"sqlite:///{tmp_path / 'iop.db'}")
    before = dump(db)
    today = today_in_stockholm()
    later = today + timedelta(days=150)  # a payout day would have come by then
    runs: dict[str, Callable[[date], object]] = {
        "daily-sweep": lambda day: daily_sweep(db, as_of=day, now=NOW),
        "payout-run": lambda day: payout_run(db, as_of=day, now=NOW),
        "portfolio-report": lambda day: portfolio(db, day),
    }
    for name, run in runs.items():
        with pytest.raises(InvalidInput) as refused:
            run(later)
        assert str(refused.value) == (
            f"{name} field 'as_of': {later} is in the future; "
            f"the system's day is {today} (Europe/Stockholm)"
        )
    assert dump(db) == before
    for run in runs.values():
        run(today)  # and today's are done


def test_a_sandbox_may_act_on_a_day_to_come(tmp_path: Path) -> None:
    db = examples(f"sqlite:///{tmp_path / 'iop.db'}")
    db.mark_sandbox("a test of the seam")
    later = today_in_stockholm() + timedelta(days=400)
    assert daily_sweep(db, as_of=later, now=NOW).changes  # follow-ups open, reports overdue


# --- effective dates never before the facts they depend on ---------------------------


def walk_to_submitted(db: Database, clock: Clock, day: date) -> None:
    """OSN 2024/0087's follow-up 2026: every document and the report, all on `day`."""
    for kind in KINDS:
        step(db, clock, "receive_document", LEILA, day, year="2026", kind=kind)
    step(db, clock, "submit_report", LEILA, day, year="2026", **STATISTICS)


def step(db: Database, clock: Clock, trigger: str, actor: str, day: date, **data: Any) -> Any:
    return transition(
        db, RUNNING, trigger, actor_name=actor, data=data, today=day, now=NOW, clock=clock
    )


def test_a_report_is_not_approved_or_returned_before_it_was_submitted(tmp_path: Path) -> None:
    db = examples(f"sqlite:///{tmp_path / 'iop.db'}")
    clock = Clock(fixed_day=date(2027, 6, 1))
    daily_sweep(db, as_of=date(2027, 1, 15), now=NOW, clock=clock)  # opens follow-up 2026
    walk_to_submitted(db, clock, date(2027, 3, 20))
    for trigger, extra in (("approve_follow_up", {}), ("return_follow_up", {"reason": "x"})):
        with pytest.raises(RuleViolation, match="the report was submitted 2027-03-20, after"):
            step(db, clock, trigger, ANNA, date(2027, 3, 19), year="2026", **extra)
    result = step(db, clock, "approve_follow_up", ANNA, date(2027, 3, 20), year="2026")
    assert result.changes[0].to_state == "approved"


def test_a_termination_is_not_dated_after_the_day_of_the_step(tmp_path: Path) -> None:
    db = examples(f"sqlite:///{tmp_path / 'iop.db'}")
    clock = Clock(fixed_day=date(2027, 6, 1))
    with pytest.raises(RuleViolation, match="termination date 2027-05-31 is after the day"):
        step(db, clock, "terminate", ANNA, date(2027, 5, 1), date="2027-05-31", reason="x")
    with pytest.raises(InvalidInput, match="9999-12-31 is outside the supported range"):
        step(db, clock, "terminate", ANNA, date(2027, 5, 1), date="9999-12-31", reason="x")
    done = step(db, clock, "terminate", ANNA, date(2027, 5, 1), date="2027-04-30", reason="x")
    assert done.state == "terminated"


# --- the property ------------------------------------------------------------------------

SYSTEM_DAY = date(2028, 6, 1)
DAYS = st.dates(min_value=SYSTEM_DAY - timedelta(days=700), max_value=SYSTEM_DAY + timedelta(400))
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["sweep", "payouts", "report", "release", "review", "terminate"]), DAYS
    ),
    min_size=1,
    max_size=12,
)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("system-day")
    examples(f"sqlite:///{folder / 'iop.db'}").dispose()
    return folder / "iop.db"


def operate(db: Database, clock: Clock, name: str, day: date) -> None:
    if name == "sweep":
        daily_sweep(db, as_of=day, now=NOW, clock=clock)
    elif name == "payouts":
        payout_run(db, as_of=day, now=NOW, clock=clock)
    elif name == "report":
        portfolio(db, day, clock=clock)
    elif name == "release":
        with db.read() as session:
            ids = session.execute(
                sa.select(t.payouts.c.id)
                .join(t.agreements, t.agreements.c.id == t.payouts.c.agreement_id)
                .where(
                    t.agreements.c.diarienummer == RUNNING,
                    t.payouts.c.state.in_(["planned", "blocked"]),
                )
                .order_by(t.payouts.c.due_on)
            ).scalars()
            for payout_id in list(ids)[:3]:
                try:
                    step(db, clock, "release_payout", ANNA, day, payout=str(payout_id))
                except (RuleViolation, InvalidInput):
                    pass
        return
    elif name == "review":
        walk_to_submitted(db, clock, day)
        step(db, clock, "approve_follow_up", ANNA, day, year="2026")
    else:
        step(db, clock, "terminate", ANNA, day, date=day.isoformat(), reason="avslutas")


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_no_payout_is_released_before_it_is_due_and_no_step_is_dated_in_the_future(
    template: Path, tmp_path_factory: pytest.TempPathFactory, operations: list[tuple[str, date]]
) -> None:
    folder = tmp_path_factory.mktemp("walk")
    shutil.copy(template, folder / "iop.db")
    db = Database(f"sqlite:///{folder / 'iop.db'}")
    clock = Clock(fixed_day=SYSTEM_DAY)
    try:
        for name, day in operations:
            try:
                operate(db, clock, name, day)
            except (RuleViolation, InvalidInput) as refused:
                if day > SYSTEM_DAY:
                    assert "is in the future" in str(refused)
        with db.read() as session:
            released = session.execute(
                sa.select(t.payouts.c.id, t.payouts.c.due_on, t.payouts.c.released_on).where(
                    t.payouts.c.state == "released", t.payouts.c.released_on.is_not(None)
                )
            ).all()
            dated = session.execute(
                sa.select(t.audit_log.c.trigger, t.audit_log.c.effective_date).where(
                    t.audit_log.c.effective_date.is_not(None)
                )
            ).all()
        for payout_id, due_on, released_on in released:
            assert due_on <= released_on <= SYSTEM_DAY, (payout_id, due_on, released_on)
        for trigger, effective in dated:
            assert effective <= SYSTEM_DAY, (trigger, effective)
    finally:
        db.dispose()
