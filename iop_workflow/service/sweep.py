"""The daily sweep: move every deadline of every agreement forward to `as_of`.

It opens follow-ups on their opening day, marks reports and claims overdue, opens
renewal windows, ends agreements whose period is over, and records each reminder
that falls due as a pending notification. One transaction, a fixed number of SQL
statements whatever the number of agreements; a second run on the same day finds
nothing left to do.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database
from ..adapters.rule_sql import due_condition
from ..clock import Clock
from ..domain import due_rules as due
from ..domain import reminders as r
from ..domain.machines import sources
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import LIVE_AGREEMENT, RENEWABLE_AGREEMENT, UNSUBMITTED_FOLLOW_UP
from ..policies import load_policy, preset_names
from .outbox import Notice, record
from .setwise import Change, after_bulk_change, collector_paused, transition_rows, write_audit
from .system_day import refuse_future

# The tables whose rows the sweep moves from state to state.
SWEPT_TABLES = ("agreements", "follow_ups", "repayment_claims")


@dataclass
class SweepResult:
    as_of: date
    changes: list[Change] = field(default_factory=list)
    notifications: int = 0

    def count(self, trigger: str) -> int:
        return sum(1 for c in self.changes if c.trigger == trigger)


def sweep(
    session: Session, *, as_of: date, now: datetime, origin: Origin = DEFAULT_ORIGIN
) -> SweepResult:
    """Inside the caller's transaction: every deadline state change due on `as_of`,
    audited as coming through `origin` (the flows pass FLOW_ORIGIN)."""
    a, f, c = t.agreements, t.follow_ups, t.repayment_claims
    result = SweepResult(as_of)
    policies = {key: load_policy(key) for key in preset_names()}

    def when(rule: due.DueRule, table: sa.Table) -> sa.ColumnElement[bool]:
        return due_condition(
            rule, table.c[rule.field], as_of, policies=policies, municipality=a.c.municipality
        )

    changes = result.changes
    changes += transition_rows(
        session,
        f,
        "follow_up",
        due.OPEN_FOLLOW_UP.trigger,
        when(due.OPEN_FOLLOW_UP, f),
        key=sa.cast(f.c.year, sa.String),
        reason="opening day reached",
    )
    changes += transition_rows(
        session,
        f,
        "follow_up",
        due.MARK_REPORT_OVERDUE.trigger,
        when(due.MARK_REPORT_OVERDUE, f),
        key=sa.cast(f.c.year, sa.String),
        reason="report not submitted by its due date",
    )
    # Ending first: an agreement whose period is over does not start a renewal dialogue.
    changes += transition_rows(
        session,
        a,
        "agreement",
        due.END.trigger,
        when(due.END, a),
        key=a.c.diarienummer,
        reason="period over, not renewed",
    )
    changes += transition_rows(
        session,
        a,
        "agreement",
        due.START_RENEWAL.trigger,
        when(due.START_RENEWAL, a),
        key=a.c.diarienummer,
        reason="renewal window opened",
    )
    overdue_claims = transition_rows(
        session,
        c,
        "claim",
        due.MARK_CLAIM_OVERDUE.trigger,
        when(due.MARK_CLAIM_OVERDUE, c),
        key=sa.cast(c.c.id, sa.String),
        reason="claim not settled by its due date",
    )
    changes += overdue_claims
    write_audit(session, changes, now=now, as_of=as_of, origin=origin)
    notices = report_reminders(session, as_of) + renewal_reminders(session, as_of)
    notices += ending_notices(session, as_of) + claim_notices(session, overdue_claims)
    result.notifications = record(session, notices, as_of=as_of, now=now)
    return result


def daily_sweep(
    db: Database,
    *,
    as_of: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> SweepResult:
    """The sweep of `as_of`, which may not be after the system's day (system_day.py)."""
    with collector_paused(), db.write() as session:
        refuse_future(session, as_of, record="daily-sweep", clock=clock)
        result = sweep(session, as_of=as_of, now=now, origin=origin)
    after_bulk_change(db, result.changes, SWEPT_TABLES)
    return result


def report_reminders(session: Session, as_of: date) -> list[Notice]:
    """Reports not yet submitted whose due date is near or recently passed."""
    a, f = t.agreements, t.follow_ups
    policies = [load_policy(k) for k in preset_names()]
    windows = [r.report_window(as_of, p) for p in policies]
    earliest, latest = min(w[0] for w in windows), max(w[1] for w in windows)
    query = (
        sa.select(f.c.agreement_id, f.c.year, f.c.due_on, a.c.municipality, a.c.diarienummer)
        .join(a, a.c.id == f.c.agreement_id)
        .where(f.c.state.in_(sorted(UNSUBMITTED_FOLLOW_UP)), f.c.due_on.between(earliest, latest))
    )
    notices = []
    for row in session.execute(query):
        stage = r.current(r.report_stages(row.due_on, load_policy(row.municipality)), as_of)
        if stage is not None:
            facts = {"diarienummer": row.diarienummer, "year": row.year, "due": row.due_on}
            notices.append(Notice(row.agreement_id, row.due_on, stage, facts))
    return notices


def renewal_reminders(session: Session, as_of: date) -> list[Notice]:
    """Agreements in or near their final year that are not yet renewed or declined (the
    reminder of the day, or the notice of a deadline missed: reminders.renewal_reminder)."""
    a = t.agreements
    query = sa.select(a.c.id, a.c.end, a.c.municipality, a.c.diarienummer).where(
        a.c.state.in_(sorted(RENEWABLE_AGREEMENT)),
        a.c.end.between(as_of, as_of + timedelta(days=400)),
    )
    notices = []
    for row in session.execute(query):
        found = r.renewal_reminder(row.end, as_of, load_policy(row.municipality))
        if found is not None:
            deadline, stage, facts = found
            facts = {"diarienummer": row.diarienummer, **facts}
            notices.append(Notice(row.id, deadline, stage, facts))
    return notices


def ending_notices(session: Session, as_of: date) -> list[Notice]:
    a = t.agreements
    query = sa.select(a.c.id, a.c.end, a.c.diarienummer).where(
        a.c.state.in_(sorted(LIVE_AGREEMENT)),
        a.c.end.between(as_of, as_of + timedelta(days=r.ENDING_NOTICE_DAYS)),
    )
    notices = []
    for row in session.execute(query):
        stage = r.agreement_ending(row.end, as_of)
        if stage is not None:
            facts = {"diarienummer": row.diarienummer, "end": row.end}
            notices.append(Notice(row.id, row.end, stage, facts))
    return notices


def claim_notices(session: Session, overdue: list[Change]) -> list[Notice]:
    c = t.repayment_claims
    ids = [int(change.key) for change in overdue]
    if not ids:
        return []
    query = sa.select(c.c.id, c.c.agreement_id, c.c.due_on, c.c.amount_ore).where(c.c.id.in_(ids))
    names = {change.agreement_id: change.diarienummer for change in overdue}
    stage_for = r.Stage  # the overdue notice is one stage, on the day after the due date
    return [
        Notice(
            row.agreement_id,
            row.due_on,
            stage_for(row.due_on, r.CLAIM_OVERDUE, "overdue", (r.ORGANISATION, r.OFFICER)),
            {
                "diarienummer": names[row.agreement_id],
                "due": row.due_on,
                "amount_ore": row.amount_ore,
                "claim_id": row.id,
            },
        )
        for row in session.execute(query)
    ]


__all__ = ["SweepResult", "daily_sweep", "sources", "sweep"]
