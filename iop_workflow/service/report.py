"""The portfolio report: what a manager needs to see, per municipality and overall.

Aggregated numbers and agreement-level rows only (diarienummer, never persons):
reports become public documents.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import sqlalchemy as sa

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


def portfolio(db: Database, as_of: date, clock: Clock | None = None) -> Portfolio:
    """The portfolio on `as_of`, which may not be after the system's day (a report of a
    day to come would call reports overdue that are not yet)."""
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

        for g in gate_rows(session, due_from=None, due_to=date.max, agreement_ids=None):
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

        overdue = (
            sa.select(f.c.year, f.c.due_on, f.c.state, a.c.diarienummer, a.c.municipality)
            .join(a, a.c.id == f.c.agreement_id)
            .where(f.c.state.in_(sorted(AWAITING_REPORT)), overdue_on(f.c.due_on))
            .order_by(f.c.due_on)
        )
        for row in session.execute(overdue):
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

        for dated in _dated_rows(session, as_of, horizon):
            municipality = dated.pop("municipality")
            add(municipality, "deadlines", dated)

        money = (
            sa.select(
                sa.extract("year", p.c.due_on).label("year"),
                p.c.state,
                a.c.municipality,
                sa.func.sum(p.c.amount_ore),
            )
            .join(a, a.c.id == p.c.agreement_id)
            .group_by("year", p.c.state, a.c.municipality)
        )
        for row in session.execute(money):
            kind = {P.PLANNED: "planned", P.BLOCKED: "blocked", P.RELEASED: "released"}.get(
                P(row.state)
            )
            if kind is None:
                continue
            for name in ("overall", row.municipality):
                scope = scopes.setdefault(name, Scope(name))
                scope.money[int(row.year)][kind] += int(row[3])
                if kind != "planned":
                    scope.money[int(row.year)]["planned"] += int(row[3])
        bi = t.batch_items
        paid = (
            sa.select(
                sa.extract("year", p.c.due_on).label("year"),
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
        for row in session.execute(stuck):
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
    for scope in scopes.values():
        scope.deadlines.sort(key=lambda d: (d["due"], d["diarienummer"]))
    return Portfolio(as_of, scopes, verify_audit(db))


def _dated_rows(session: Any, as_of: date, horizon: date) -> list[dict[str, Any]]:
    a, p, f = t.agreements, t.payouts, t.follow_ups
    rows: list[dict[str, Any]] = []

    def row(due: date, kind: str, diarienummer: str, municipality: str, what: str) -> None:
        rows.append(
            {
                "due": due.isoformat(),
                "kind": kind,
                "diarienummer": diarienummer,
                "municipality": municipality,
                "what": what,
            }
        )

    for r in session.execute(
        sa.select(p.c.due_on, p.c.amount_ore, a.c.diarienummer, a.c.municipality)
        .join(a, a.c.id == p.c.agreement_id)
        .where(p.c.state.in_(sorted(OPEN_PAYOUT)), p.c.due_on.between(as_of, horizon))
    ):
        row(r.due_on, PAYOUT, r.diarienummer, r.municipality, format_sek(r.amount_ore))
    for r in session.execute(
        sa.select(f.c.year, f.c.opens_on, f.c.due_on, f.c.state, a.c.diarienummer, a.c.municipality)
        .join(a, a.c.id == f.c.agreement_id)
        .where(
            f.c.state.not_in(sorted(DONE_FOLLOW_UP)),
            sa.or_(f.c.due_on.between(as_of, horizon), f.c.opens_on.between(as_of, horizon)),
        )
    ):
        if as_of <= r.opens_on <= horizon:
            row(r.opens_on, FOLLOW_UP_OPENS, r.diarienummer, r.municipality, str(r.year))
        if as_of <= r.due_on <= horizon and r.state != F.SUBMITTED:
            row(r.due_on, REPORT_DUE, r.diarienummer, r.municipality, str(r.year))
    for r in session.execute(
        sa.select(a.c.end, a.c.state, a.c.diarienummer, a.c.municipality).where(
            a.c.state.in_(sorted(LIVE_AGREEMENT)),
            a.c.end.between(as_of, horizon + timedelta(days=400)),
        )
    ):
        dated = end_dates(r.end, load_policy(r.municipality))
        if r.state not in RENEWABLE_AGREEMENT:
            dated = {AGREEMENT_ENDS: dated[AGREEMENT_ENDS]}  # renewal declined: nothing to renew
        for kind, due in dated.items():
            if as_of <= due <= horizon:
                row(due, kind, r.diarienummer, r.municipality, "")
    return rows
