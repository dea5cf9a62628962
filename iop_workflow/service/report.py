"""The portfolio report: what a manager needs to see, per municipality and overall.

Aggregated numbers and agreement-level rows only (diarienummer, never persons):
reports become public documents.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

from ..adapters import payout_money
from ..adapters import tables as t
from ..adapters.db import Database
from ..adapters.rule_sql import due_condition
from ..clock import Clock
from ..domain.deadlines import AGREEMENT_ENDS, FOLLOW_UP_OPENS, PAYOUT, REPORT_DUE, end_dates
from ..domain.due_rules import MARK_REPORT_OVERDUE
from ..domain.gate import unblocks
from ..domain.money import format_sek
from ..domain.states import (
    AWAITING_REPORT,
    DONE_FOLLOW_UP,
    LIVE_AGREEMENT,
    OPEN_PAYOUT,
    RENEWABLE_AGREEMENT,
)
from ..domain.states import FollowUpState as F
from ..domain.states import PayoutState as P
from ..policies import load_policy
from .audit import AuditVerdict, verify_audit
from .payouts import gate_rows
from .system_day import refuse_future

HORIZON_DAYS = 90


# Each list of a scope holds at most this many rows, the earliest first; its total is
# counted in SQL (`Scope.total`). `iop payouts --state blocked` and the web's work list
# have every row.
LISTED_ROWS = 1000
LISTS = ("blocked_payouts", "overdue_follow_ups", "deadlines", "failed_notifications")


@dataclass
class Scope:
    """One municipality's part of the report, or the whole ("overall")."""

    name: str
    agreements_by_state: Counter[str] = field(default_factory=Counter)
    blocked_payouts: list[dict[str, Any]] = field(default_factory=list)
    overdue_follow_ups: list[dict[str, Any]] = field(default_factory=list)
    deadlines: list[dict[str, Any]] = field(default_factory=list)
    money: dict[int, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    failed_notifications: list[dict[str, Any]] = field(default_factory=list)
    totals: Counter[str] = field(default_factory=Counter)  # list name -> rows in all

    def total(self, name: str) -> int:
        """How many rows list `name` has in all (it holds at most LISTED_ROWS of them)."""
        listed = len(getattr(self, name))
        return max(self.totals.get(name, listed), listed)

    def money_rows(self) -> list[dict[str, Any]]:
        return [
            {
                "year": year,
                **{
                    k: format_sek(self.money[year][k])
                    for k in ("planned", "released", "paid", "blocked", "claimed")
                },
            }
            for year in sorted(self.money)
        ]


@dataclass
class Portfolio:
    as_of: date
    scopes: dict[str, Scope]
    audit: AuditVerdict | None = None  # `iop audit verify` of the whole trail


# A state column, the states to read, and the rows' sort key in the list's order.
EachState = tuple[sa.ColumnElement[Any], Iterable[str], Callable[[Any], Any]]


def _first_rows(
    session: Any,
    query: sa.Select[Any],
    municipality: sa.ColumnElement[Any],
    municipalities: Iterable[str],
    *order: sa.ColumnElement[Any],
    each: EachState | None = None,
) -> list[Any]:
    """`query`'s first LISTED_ROWS rows of each municipality in `order`: one query each,
    read through the index that gives that order and stopped at the limit. The overall
    list's first rows are among them, so nothing more is read. `each`: see
    `_first_of_each`."""
    rows: list[Any] = []
    for name in sorted(municipalities):
        picked = query.where(municipality == name)
        if each is None:
            rows += session.execute(picked.order_by(*order).limit(LISTED_ROWS)).all()
        else:
            rows += _first_of_each(session, picked, order, each)
    return rows


def _first_of_each(
    session: Any, query: sa.Select[Any], order: Sequence[sa.ColumnElement[Any]], each: EachState
) -> list[Any]:
    """`query`'s first LISTED_ROWS rows in `order`, each state's read apart and merged.
    With `state IN (...)` an index on (state, day) gives no single order: the database
    read and sorted every matching row (150,000 open payouts in the next 90 days at
    100,000 agreements); for one state it reads the rows in order and stops."""
    column, states, key = each
    merged: list[Any] = []
    for state in sorted(states):
        part = query.where(column == state).order_by(*order).limit(LISTED_ROWS)
        merged += session.execute(part).all()
    return sorted(merged, key=key)[:LISTED_ROWS]


def _totals(
    session: Any,
    scopes: dict[str, Scope],
    name: str,
    query: sa.Select[Any],
) -> None:
    """Count `query`'s rows per municipality (its first column) into list `name`."""
    for row in session.execute(query):
        for scope_name in ("overall", row[0]):
            scopes.setdefault(scope_name, Scope(scope_name)).totals[name] += int(row[1])


def portfolio(
    db: Database, as_of: date, clock: Clock | None = None, *, verify: bool = True
) -> Portfolio:
    """The portfolio on `as_of`, which may not be after the system's day (a report of a
    day to come would call reports overdue that are not yet). Counted and summed in SQL;
    the lists hold the earliest LISTED_ROWS rows. `verify`: also check the whole audit
    chain (`iop audit verify`), which reads every audit record."""
    a, p, f, c = t.agreements, t.payouts, t.follow_ups, t.repayment_claims
    scopes: dict[str, Scope] = {"overall": Scope("overall")}

    def add(municipality: str, attr: str, item: Any) -> None:
        for name in ("overall", municipality):
            scope = scopes.setdefault(name, Scope(name))
            getattr(scope, attr).append(item)

    horizon = as_of + timedelta(days=HORIZON_DAYS)

    def overdue_on(column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        return due_condition(MARK_REPORT_OVERDUE, column, as_of)

    with db.read() as session:
        refuse_future(session, as_of, record="portfolio-report", clock=clock)
        for row in session.execute(
            sa.select(a.c.municipality, a.c.state, sa.func.count()).group_by(
                a.c.municipality, a.c.state
            )
        ):
            for name in ("overall", row.municipality):
                scopes.setdefault(name, Scope(name)).agreements_by_state[row.state] += row[2]

        places = [name for name in scopes if name != "overall"]
        blocked = sa.select(p.c.id).join(a, a.c.id == p.c.agreement_id)
        blocked = blocked.where(p.c.state == P.BLOCKED)
        listed = [
            r.id
            for r in _first_rows(session, blocked, a.c.municipality, places, p.c.due_on, p.c.id)
        ]
        for g in gate_rows(session, due_from=None, due_to=date.max, payout_ids=listed):
            if g.state is P.BLOCKED:
                add(
                    g.municipality,
                    "blocked_payouts",
                    {
                        "diarienummer": g.diarienummer,
                        "payout": g.payout_id,
                        "due": g.due_on.isoformat(),
                        "amount": format_sek(g.amount_ore),
                        "reason": g.blocked_reason or "",
                        "unblocks": unblocks(g.block),
                    },
                )

        late = (
            sa.select(f.c.year, f.c.due_on, f.c.state, a.c.diarienummer, a.c.municipality)
            .join(a, a.c.id == f.c.agreement_id)
            .where(f.c.state.in_(sorted(AWAITING_REPORT)), overdue_on(f.c.due_on))
        )
        _totals(
            session,
            scopes,
            "overdue_follow_ups",
            sa.select(a.c.municipality, sa.func.count())
            .join(f, f.c.agreement_id == a.c.id)
            .where(f.c.state.in_(sorted(AWAITING_REPORT)), overdue_on(f.c.due_on))
            .group_by(a.c.municipality),
        )
        for row in _first_rows(session, late, a.c.municipality, places, f.c.due_on, f.c.id):
            add(
                row.municipality,
                "overdue_follow_ups",
                {
                    "diarienummer": row.diarienummer,
                    "year": row.year,
                    "report_due": row.due_on.isoformat(),
                    "state": row.state,
                    "days_overdue": (as_of - row.due_on).days,
                },
            )

        _deadlines(session, scopes, places, as_of, horizon)

        # Kept by the database as payouts change (adapters/payout_money.py): summing
        # every payout here took 2 s at 100,000 agreements.
        for row in session.execute(payout_money.kept()):
            if row.state == P.BLOCKED:  # how many are blocked, from the same rows
                for name in ("overall", row.municipality):
                    scopes.setdefault(name, Scope(name)).totals["blocked_payouts"] += int(
                        row.payouts
                    )
            kind = {P.PLANNED: "planned", P.BLOCKED: "blocked", P.RELEASED: "released"}.get(
                P(row.state)
            )
            if kind is None:
                continue
            for name in ("overall", row.municipality):
                scope = scopes.setdefault(name, Scope(name))
                scope.money[int(row.year)][kind] += int(row.amount_ore)
                if kind != "planned":
                    scope.money[int(row.year)]["planned"] += int(row.amount_ore)
        bi = t.batch_items
        paid = (
            sa.select(
                payout_money.due_year(p.c.due_on).label("year"),
                a.c.municipality,
                sa.func.sum(bi.c.amount_ore),
            )
            .select_from(bi.join(p, p.c.id == bi.c.payout_id).join(a, a.c.id == p.c.agreement_id))
            .where(bi.c.paid_on.is_not(None), bi.c.withdrawn_at.is_(None))
            .group_by("year", a.c.municipality)
        )
        for row in session.execute(paid):  # of the released: what the bank has paid out
            for name in ("overall", row.municipality):
                scopes.setdefault(name, Scope(name)).money[int(row.year)]["paid"] += int(row[2])
        claims = (
            sa.select(
                sa.extract("year", c.c.raised_on).label("year"),
                a.c.municipality,
                sa.func.sum(c.c.amount_ore),
            )
            .join(a, a.c.id == c.c.agreement_id)
            .group_by("year", a.c.municipality)
        )
        for row in session.execute(claims):
            for name in ("overall", row.municipality):
                scopes.setdefault(name, Scope(name)).money[int(row.year)]["claimed"] += int(row[2])

        n = t.notifications
        stuck = (
            sa.select(
                n.c.kind,
                n.c.subject_date,
                n.c.state,
                n.c.attempts,
                n.c.created_on,
                a.c.diarienummer,
                a.c.municipality,
            )
            .join(a, a.c.id == n.c.agreement_id)
            .where(
                sa.or_(
                    n.c.state == "failed",
                    sa.and_(n.c.state == "pending", n.c.created_on < as_of - timedelta(days=1)),
                )
            )
        )
        for row in _first_rows(session, stuck, a.c.municipality, places, n.c.id):
            add(
                row.municipality,
                "failed_notifications",
                {
                    "diarienummer": row.diarienummer,
                    "kind": row.kind,
                    "subject_date": row.subject_date.isoformat(),
                    "state": row.state,
                    "attempts": row.attempts,
                    "since": row.created_on.isoformat(),
                },
            )
        stuck_rows = stuck.subquery()
        _totals(
            session,
            scopes,
            "failed_notifications",
            sa.select(stuck_rows.c.municipality, sa.func.count()).group_by(
                stuck_rows.c.municipality
            ),
        )
    for scope in scopes.values():
        scope.deadlines.sort(key=lambda d: (d["due"], d["diarienummer"]))
        for name in LISTS:
            del getattr(scope, name)[LISTED_ROWS:]
    return Portfolio(as_of, scopes, verify_audit(db) if verify else None)


def _deadlines(
    session: Any, scopes: dict[str, Scope], places: list[str], as_of: date, horizon: date
) -> None:
    """The dated obligations from `as_of` to `horizon`: each kind's first rows and its
    count per municipality from SQL; the agreement ends (few: renewal dates are computed
    from the end by the policy) in Python."""
    a, p, f = t.agreements, t.payouts, t.follow_ups

    def add(due: date, kind: str, diarienummer: str, municipality: str, what: str) -> None:
        for name in ("overall", municipality):
            scopes.setdefault(name, Scope(name)).deadlines.append(
                {"due": due.isoformat(), "kind": kind, "diarienummer": diarienummer, "what": what}
            )

    def count(municipality: str, n: int = 1) -> None:
        for name in ("overall", municipality):
            scopes.setdefault(name, Scope(name)).totals["deadlines"] += n

    open_payout = sa.and_(p.c.state.in_(sorted(OPEN_PAYOUT)), p.c.due_on.between(as_of, horizon))
    payouts = (
        sa.select(p.c.id, p.c.due_on, p.c.amount_ore, a.c.diarienummer, a.c.municipality)
        .join(a, a.c.id == p.c.agreement_id)
        .where(open_payout)
    )
    each_payout = (p.c.state, OPEN_PAYOUT, lambda r: (r.due_on, r.id))
    for r in _first_rows(
        session, payouts, a.c.municipality, places, p.c.due_on, p.c.id, each=each_payout
    ):
        add(r.due_on, PAYOUT, r.diarienummer, r.municipality, format_sek(r.amount_ore))
    # The states by name, not `NOT IN` the done ones (the same rows: the column holds
    # only FollowUpState values): an index on (state, day) is read only for a state it
    # is given. With `NOT IN`, SQLite walked every agreement's follow-ups.
    not_done = frozenset(F) - DONE_FOLLOW_UP
    report_awaited = not_done - {F.SUBMITTED}
    opening = sa.and_(f.c.state.in_(sorted(not_done)), f.c.opens_on.between(as_of, horizon))
    report_due = sa.and_(f.c.state.in_(sorted(report_awaited)), f.c.due_on.between(as_of, horizon))
    for kind, when, column, states in (
        (FOLLOW_UP_OPENS, opening, f.c.opens_on, not_done),
        (REPORT_DUE, report_due, f.c.due_on, report_awaited),
    ):
        dated = (
            sa.select(f.c.id, column.label("day"), f.c.year, a.c.diarienummer, a.c.municipality)
            .join(a, a.c.id == f.c.agreement_id)
            .where(when)
        )
        each_state = (f.c.state, states, lambda r: (r.day, r.id))
        for r in _first_rows(
            session, dated, a.c.municipality, places, column, f.c.id, each=each_state
        ):
            add(r.day, kind, r.diarienummer, r.municipality, str(r.year))
    for table, join, when in (
        (p, p.c.agreement_id == a.c.id, open_payout),
        (f, f.c.agreement_id == a.c.id, opening),
        (f, f.c.agreement_id == a.c.id, report_due),
    ):
        counted = (
            sa.select(a.c.municipality, sa.func.count())
            .select_from(table.join(a, join))
            .where(when)
            .group_by(a.c.municipality)
        )
        for r in session.execute(counted):
            count(r[0], int(r[1]))
    for r in session.execute(
        sa.select(a.c.end, a.c.state, a.c.diarienummer, a.c.municipality).where(
            a.c.state.in_(sorted(LIVE_AGREEMENT)),
            a.c.end.between(as_of, horizon + timedelta(days=400)),
        )
    ):
        ends = end_dates(r.end, load_policy(r.municipality))
        if r.state not in RENEWABLE_AGREEMENT:
            ends = {AGREEMENT_ENDS: ends[AGREEMENT_ENDS]}  # renewal declined: nothing to renew
        for kind, due in ends.items():
            if as_of <= due <= horizon:
                add(due, kind, r.diarienummer, r.municipality, "")
                count(r.municipality)
