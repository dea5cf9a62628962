"""The officers' work list ("Mina ärenden"): what each person has to do, by section.

Set-wise: the viewer's agreements are found first (one query, restricted by
`visible_agreements`), every section is a UNION of a few indexed queries over those
agreements (`_Branch`: one query per kind of item, its windows saying which section a
row is in), one statement counts every section, walking each table once, and one per
shown section reads its page (ORDER BY, LIMIT and OFFSET in SQL). Only the rows of a
page are turned into the Swedish text people read; the gate's wording is that of the
notices (domain/wording.py), decided by the payout gate itself on the inputs the payout run
reads (payouts.py), for the payouts of the page only.

Who sees what: an officer the items of the agreements they are the officer of; a
manager also those of the officers they manage, and the escalated reports of
officers whose manager has left; a secretary the agreements waiting for the nämnd's
decision (and renewals waiting for one); an organisation's representative the reports
their organisation has to hand in; an auditor has nothing to do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from types import SimpleNamespace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database
from ..domain.deadlines import RENEWAL_DECISION_DEADLINE, end_dates
from ..domain.errors import InvalidInput
from ..domain.gate import GateBlock
from ..domain.money import format_sek
from ..domain.states import (
    AWAITING_REPORT,
    OPEN_CLAIM,
    AgreementState,
    ClaimState,
    FollowUpState,
    PayoutState,
    Role,
)
from ..domain.wording import block_reason
from ..policies import load_policy, preset_names
from .access import Viewer, visible_agreements
from .gate_keys import gate_follow_up
from .payouts import _block, _gate_inputs, unsigned_parties

SECTIONS: tuple[tuple[str, str], ...] = (
    ("due", "Att göra i dag och försenat"),
    ("week", "Den här veckan"),
    ("waiting", "Väntar på organisationen"),
    ("documents", "Nya dokument"),
    ("blocked", "Spärrade utbetalningar"),
    ("decisions", "Beslut att förbereda"),
)
SORTS = ("due", "diarienummer", "organisation", "state")
WEEK_DAYS = 7
DOCUMENT_DAYS = 14  # a document is new for this many days, the day it arrived included
MAX_PER_PAGE = 200
# Up to this many agreements the viewer's own are handed to the queries as a list of
# ids (primary-key look-ups; a manager of ten officers has about a thousand); beyond
# it, as the subquery that finds them. The ids are written into the SQL as integers,
# not bound one parameter each: every branch repeats them, and PostgreSQL takes at
# most 65 535 parameters per statement (SQLite 32 766).
SCOPE_LIST_LIMIT = 5000

# The agreement states the decisions section shows, per role.
PREPARING = (AgreementState.DIALOGUE, AgreementState.ECONOMIC_PLAN)
AWAITING_DECISION = (AgreementState.DECISION, AgreementState.RENEWAL)
# Follow-ups whose documents are no longer listed one by one.
REVIEWED_OR_WAITING = frozenset(
    {FollowUpState.APPROVED, FollowUpState.CANCELLED, FollowUpState.SUBMITTED}
)


def _day(value: Any) -> str:
    """A day as the pages show every date: ISO (2027-03-31)."""
    return value.isoformat() if isinstance(value, date) else str(value)


DOCUMENTS_SV = {
    "income_statement": "resultaträkning",
    "balance_sheet": "balansräkning",
    "activity_report": "verksamhetsberättelse",
    "statistics": "statistik",
}
CLAIMS_SV = {"termination": "efter uppsägning", "unused": "outnyttjat stöd"}
UNBLOCKED_SV = "Villkoren är uppfyllda nu: utbetalningen släpps vid nästa utbetalningskörning."

# What a branch row is about (the column `entity`).
REPORT, CLAIM, PAYOUT, DOCUMENT, SUBMITTED, AGREEMENT = (
    "report",
    "claim",
    "payout",
    "document",
    "submitted",
    "agreement",
)


@dataclass(frozen=True)
class _Mine:
    """Some of the viewer's agreements: few as their ids, many as the query finding them."""

    ids: tuple[int, ...] | None
    query: sa.Select[Any] | None = None

    def of(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
        """Where `column` (an agreement id) is one of them."""
        if self.ids is not None:
            ids: sa.BindParameter[list[int]] = sa.bindparam(
                None, list(self.ids), expanding=True, literal_execute=True
            )
            return column.in_(ids)
        assert self.query is not None
        return column.in_(self.query.correlate(None).scalar_subquery())

    def state(self, column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
        """A child's `state` column to compare. With few agreements, as an expression no
        index serves: the rows are then looked up by their agreement_id, not found among
        every row of the state (SQLite, without statistics, would pick the state index)."""
        if self.ids is None:
            return column
        return sa.type_coerce(column, sa.String(32)).concat("")


@dataclass(frozen=True)
class _Scope:
    """Where the viewer's agreements are: `own` (their items), `escalated` (only the
    escalated reports), `deciding` (the secretary's agreements awaiting a decision)."""

    own: _Mine | None
    escalated: _Mine | None = None
    deciding: sa.ColumnElement[bool] | None = None


def work_list(
    db: Database,
    viewer: Viewer,
    today: date,
    *,
    section: str | None = None,
    municipality: str | None = None,
    state: str | None = None,
    sort: str = "due",
    descending: bool = False,
    page: int = 1,
    per_page: int = 25,
) -> dict[str, Any]:
    """The work list of `viewer` on `today` (see the module's docstring).

    With `section`, that section shows page `page` and the others their count only;
    without, every section shows its first page. Bad arguments are `InvalidInput`
    naming the field.
    """
    _check(section, municipality, state, sort, page, per_page)
    shown_page = page if section is not None else 1
    a = t.agreements
    base = [visible_agreements(viewer)]
    if municipality is not None:
        base.append(a.c.municipality == municipality)
    if state is not None:
        base.append(a.c.state == AgreementState(state))
    counts: dict[str, int] = {}
    items: dict[str, list[dict[str, Any]]] = {key: [] for key, _ in SECTIONS}
    with db.read() as session:
        scope = _scope(session, viewer, sa.and_(*base))
        branches = _branches(viewer, scope, today)
        if branches:
            union = _union([b.counted() for b in branches])
            query = sa.select(union.c.section, sa.func.count()).group_by(union.c.section)
            counts = {row[0]: int(row[1]) for row in session.execute(query)}
        for key, _ in SECTIONS:
            if section is not None and key != section:
                continue
            if counts.get(key, 0) <= (shown_page - 1) * per_page:
                continue
            parts = [b.of(key) for b in branches if key in b.windows]
            rows = _page(session, parts, sort, descending, shown_page, per_page)
            items[key] = _items(session, viewer, rows, today)
    sections: list[dict[str, Any]] = [
        {
            "key": key,
            "title": title,
            "count": counts.get(key, 0),
            "pages": _pages(counts.get(key, 0), per_page),
            "items": items[key],
        }
        for key, title in SECTIONS
    ]
    shown = [s for s in sections if section is None or s["key"] == section]
    return {
        "as_of": today.isoformat(),
        "viewer": viewer.name,
        "sections": sections,
        "page": shown_page,
        "per_page": per_page,
        "pages": max(int(s["pages"]) for s in shown),
        "filters": {
            "section": section,
            "municipality": municipality,
            "state": state,
            "sort": sort,
            "descending": descending,
        },
    }


def _check(
    section: str | None,
    municipality: str | None,
    state: str | None,
    sort: str,
    page: int,
    per_page: int,
) -> None:
    keys = [key for key, _ in SECTIONS]
    if section is not None and section not in keys:
        raise InvalidInput(f"'{section}' is not a section ({', '.join(keys)})", field="section")
    if municipality is not None and municipality not in preset_names():
        known = ", ".join(preset_names())
        raise InvalidInput(
            f"'{municipality}' is not a municipality ({known})", field="municipality"
        )
    if state is not None and state not in {s.value for s in AgreementState}:
        known = ", ".join(s.value for s in AgreementState)
        raise InvalidInput(f"'{state}' is not an agreement state ({known})", field="state")
    if sort not in SORTS:
        raise InvalidInput(f"'{sort}' is not a sort key ({', '.join(SORTS)})", field="sort")
    if page < 1:
        raise InvalidInput(f"page {page}: pages are counted from 1", field="page")
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise InvalidInput(f"per_page {per_page}: from 1 to {MAX_PER_PAGE}", field="per_page")


def _pages(count: int, per_page: int) -> int:
    return max(1, math.ceil(count / per_page))


def _mine(
    session: Session, candidates: sa.ColumnElement[bool], base: sa.ColumnElement[bool]
) -> _Mine | None:
    """The agreements meeting `candidates` and `base` (visibility and filters); None when
    there are none. `candidates` is read first on its own: `agreements.officer` has no
    index, and one plain scan is faster than the municipality index followed by a
    look-up of every agreement of the municipality. Then `base` on the few found, by key."""
    a = t.agreements
    found = list(session.scalars(sa.select(a.c.id).where(candidates).limit(SCOPE_LIST_LIMIT + 1)))
    if len(found) > SCOPE_LIST_LIMIT:
        return _Mine(None, sa.select(a.c.id).where(candidates, base))
    ids = tuple(session.scalars(sa.select(a.c.id).where(a.c.id.in_(found), base))) if found else ()
    return _Mine(ids) if ids else None


def _scope(session: Session, viewer: Viewer, base: sa.ColumnElement[bool]) -> _Scope:
    a, people = t.agreements, t.people
    if viewer.role is Role.OFFICER:
        return _Scope(_mine(session, a.c.officer == viewer.name, base))
    if viewer.role is Role.MANAGER:
        officers = sorted({viewer.name, *viewer.manages})
        own = _mine(session, a.c.officer.in_(officers), base)
        # An escalation whose manager has left goes to the municipality's other
        # managers (notify/routing.py): those show here as well.
        left = people.alias("left_manager")
        orphaned = list(
            session.scalars(
                sa.select(people.c.name)
                .join(left, left.c.name == people.c.manager)
                .where(left.c.active.is_(False), people.c.name.not_in(officers))
            )
        )
        escalated = _mine(session, a.c.officer.in_(orphaned), base) if orphaned else None
        return _Scope(own, escalated=escalated)
    if viewer.role is Role.SECRETARY:
        return _Scope(None, deciding=base)
    if viewer.role is Role.ORG_REP:
        return _Scope(_mine(session, base, sa.true()))
    return _Scope(None)  # an auditor (or the system) has nothing to do here


def _columns(
    section: sa.ColumnElement[Any],
    entity: str,
    agreement_id: sa.ColumnElement[Any],
    ref_id: sa.ColumnElement[Any],
    *,
    sort_on: sa.ColumnElement[Any],
    due_on: sa.ColumnElement[Any] | None = None,
    year: sa.ColumnElement[Any] | None = None,
    status: sa.ColumnElement[Any] | None = None,
    detail: sa.ColumnElement[Any] | None = None,
    amount: sa.ColumnElement[Any] | None = None,
) -> list[sa.ColumnElement[Any]]:
    """One branch's columns, typed alike in every branch (PostgreSQL's UNION needs it)."""

    def typed(value: sa.ColumnElement[Any] | None, kind: Any) -> sa.ColumnElement[Any]:
        if value is None:
            return sa.cast(sa.null(), kind)
        # Dates are not CAST: SQLite would read CAST(... AS DATE) as a number.
        return sa.type_coerce(value, kind) if kind is sa.Date else sa.cast(value, kind)

    return [
        sa.cast(section, sa.String(16)).label("section"),
        sa.cast(sa.literal(entity), sa.String(16)).label("entity"),
        agreement_id.label("agreement_id"),
        ref_id.label("ref_id"),
        typed(sort_on, sa.Date).label("sort_on"),
        typed(due_on, sa.Date).label("due_on"),
        typed(year, sa.Integer).label("year"),
        typed(status, sa.String(32)).label("status"),
        typed(detail, sa.Text).label("detail"),
        typed(amount, sa.BigInteger).label("amount"),
    ]


@dataclass(frozen=True)
class _Branch:
    """One SELECT of work-list items over its sections: `windows` says which rows are in
    which section (conditions that exclude each other), `build(section, where)` makes
    the SELECT. A page reads one section's window; the count reads every window at once,
    the section a CASE over them, so each table is walked once."""

    windows: dict[str, sa.ColumnElement[bool]]
    build: Callable[[sa.ColumnElement[Any], sa.ColumnElement[bool]], sa.Select[Any]]

    def of(self, section: str) -> sa.Select[Any]:
        return self.build(sa.literal(section), self.windows[section])

    def counted(self) -> sa.Select[Any]:
        """The section of each row and nothing else, which is all a count needs."""
        if len(self.windows) == 1:
            query = self.of(next(iter(self.windows)))
        else:
            section = sa.case(*((where, key) for key, where in self.windows.items()))
            query = self.build(section, sa.or_(*self.windows.values()))
        return query.with_only_columns(query.selected_columns[0], maintain_column_froms=True)


def _branches(viewer: Viewer, scope: _Scope, today: date) -> list[_Branch]:
    """The SELECTs whose rows are the work list's items."""
    a, f, p, c = t.agreements, t.follow_ups, t.payouts, t.repayment_claims
    d = t.follow_up_documents
    found: list[_Branch] = []

    def reports(mine: _Mine) -> Callable[..., sa.Select[Any]]:
        def build(section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return (
                sa.select(
                    *_columns(
                        section,
                        REPORT,
                        f.c.agreement_id,
                        f.c.id,
                        sort_on=f.c.due_on,
                        due_on=f.c.due_on,
                        year=f.c.year,
                        status=f.c.state,
                        detail=f.c.return_reason,
                    )
                )
                .join(a, a.c.id == f.c.agreement_id)
                .where(
                    mine.of(f.c.agreement_id),
                    mine.state(f.c.state).in_(sorted(AWAITING_REPORT)),
                    where,
                )
            )

        return build

    def due_or_week(column: sa.ColumnElement[Any]) -> dict[str, sa.ColumnElement[bool]]:
        return {
            "due": column <= today,
            "week": column.between(today + timedelta(days=1), today + timedelta(days=WEEK_DAYS)),
        }

    own = scope.own
    if own is not None:
        windows = {
            **due_or_week(f.c.due_on),
            "waiting": f.c.due_on > today + timedelta(days=WEEK_DAYS),
        }
        found.append(_Branch(windows, reports(own)))
    if scope.escalated is not None:
        found.append(_Branch({"due": _escalated(f.c.due_on, today)}, reports(scope.escalated)))
    staff = viewer.role in (Role.OFFICER, Role.MANAGER)
    if own is not None and staff:

        def claims(section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]) -> sa.Select[Any]:
            return (
                sa.select(
                    *_columns(
                        section,
                        CLAIM,
                        c.c.agreement_id,
                        c.c.id,
                        sort_on=c.c.due_on,
                        due_on=c.c.due_on,
                        status=c.c.state,
                        detail=c.c.kind,
                        amount=c.c.amount_ore,
                    )
                )
                .join(a, a.c.id == c.c.agreement_id)
                .where(
                    own.of(c.c.agreement_id), own.state(c.c.state).in_(sorted(OPEN_CLAIM)), where
                )
            )

        found.append(_Branch(due_or_week(c.c.due_on), claims))
        found.append(_Branch(due_or_week(p.c.due_on), _payouts(own, PayoutState.PLANNED)))
        found.append(_Branch({"blocked": sa.true()}, _payouts(own, PayoutState.BLOCKED)))
        new_since = today - timedelta(days=DOCUMENT_DAYS - 1)

        def documents(
            section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]
        ) -> sa.Select[Any]:
            return (
                sa.select(
                    *_columns(
                        section,
                        DOCUMENT,
                        f.c.agreement_id,
                        d.c.id,
                        sort_on=d.c.arrived_on,
                        year=f.c.year,
                        status=f.c.state,
                        detail=d.c.kind,
                    )
                )
                .select_from(
                    d.join(f, f.c.id == d.c.follow_up_id).join(a, a.c.id == f.c.agreement_id)
                )
                .where(
                    own.of(f.c.agreement_id),
                    # A submitted report is listed once, as waiting for review (below).
                    own.state(f.c.state).not_in(sorted(REVIEWED_OR_WAITING)),
                    where,
                )
            )

        def submitted(
            section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]
        ) -> sa.Select[Any]:
            return (
                sa.select(
                    *_columns(
                        section,
                        SUBMITTED,
                        f.c.agreement_id,
                        f.c.id,
                        sort_on=sa.func.coalesce(f.c.submitted_on, f.c.due_on),
                        year=f.c.year,
                        status=f.c.state,
                    )
                )
                .join(a, a.c.id == f.c.agreement_id)
                .where(
                    own.of(f.c.agreement_id), own.state(f.c.state) == FollowUpState.SUBMITTED, where
                )
            )

        found.append(_Branch({"documents": d.c.arrived_on.between(new_since, today)}, documents))
        found.append(_Branch({"documents": sa.true()}, submitted))
        found.append(_Branch({"decisions": own.of(a.c.id)}, _agreements(PREPARING)))
    if scope.deciding is not None:
        found.append(_Branch({"decisions": scope.deciding}, _agreements(AWAITING_DECISION)))
    return found


def _escalated(due_on: sa.ColumnElement[Any], today: date) -> sa.ColumnElement[bool]:
    """Reports overdue longer than the municipality's escalation days (one bound per
    distinct number of days among the presets)."""
    a = t.agreements
    keys_by_bound: dict[date, list[str]] = {}
    for key in preset_names():
        bound = today - timedelta(days=load_policy(key).escalation_days_after)
        keys_by_bound.setdefault(bound, []).append(key)
    return sa.or_(
        *(
            sa.and_(a.c.municipality.in_(keys), due_on <= bound)
            for bound, keys in sorted(keys_by_bound.items())
        )
    )


def _payouts(mine: _Mine, state: PayoutState) -> Callable[..., sa.Select[Any]]:
    a, p = t.agreements, t.payouts

    def build(section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]) -> sa.Select[Any]:
        return (
            sa.select(
                *_columns(
                    section,
                    PAYOUT,
                    p.c.agreement_id,
                    p.c.id,
                    sort_on=p.c.due_on,
                    due_on=p.c.due_on,
                    status=p.c.state,
                    detail=p.c.blocked_reason,
                    amount=p.c.amount_ore,
                )
            )
            .join(a, a.c.id == p.c.agreement_id)
            .where(mine.of(p.c.agreement_id), mine.state(p.c.state) == state, where)
        )

    return build


def _agreements(states: Sequence[AgreementState]) -> Callable[..., sa.Select[Any]]:
    a = t.agreements
    # A renewal is decided before the period ends; the others before it starts.
    when = sa.case((a.c.state == AgreementState.RENEWAL, a.c.end), else_=a.c.start)

    def build(section: sa.ColumnElement[Any], where: sa.ColumnElement[bool]) -> sa.Select[Any]:
        return sa.select(
            *_columns(section, AGREEMENT, a.c.id, a.c.id, sort_on=when, status=a.c.state)
        ).where(where, a.c.state.in_(list(states)))

    return build


def _union(branches: Sequence[sa.Select[Any]]) -> sa.Subquery:
    if len(branches) == 1:
        return branches[0].subquery("items")
    return sa.union_all(*branches).subquery("items")


def _page(
    session: Session,
    branches: Sequence[sa.Select[Any]],
    sort: str,
    descending: bool,
    page: int,
    per_page: int,
) -> list[SimpleNamespace]:
    """The rows of one page, in order. The organisation's name is read afterwards for
    the page's agreements only: in the ordered query SQLite would compute it for every
    row of the section before the LIMIT (unless the page is sorted by it)."""
    a = t.agreements
    items = _union(branches)
    primary: sa.ColumnElement[Any] = {
        "due": items.c.sort_on,
        "diarienummer": a.c.diarienummer,
        "organisation": _organisation(a.c.id),
        "state": a.c.state,
    }[sort]
    # Rows without a value last either way, then the key, then a fixed order.
    order: list[sa.ColumnElement[Any]] = [
        sa.case((primary.is_(None), 1), else_=0),
        primary.desc() if descending else primary.asc(),
        items.c.sort_on,
        a.c.diarienummer,
        items.c.entity,
        items.c.ref_id,
    ]
    query = (
        sa.select(
            items,
            a.c.diarienummer,
            a.c.title,
            a.c.municipality,
            a.c.state.label("agreement_state"),
            a.c.officer,
            a.c.end,
        )
        .join(a, a.c.id == items.c.agreement_id)
        .order_by(*order)
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    rows = list(session.execute(query))
    ids = sorted({row.agreement_id for row in rows})
    found = sa.select(a.c.id, _organisation(a.c.id)).where(a.c.id.in_(ids))
    names: dict[int, str | None] = {}
    for key, name in session.execute(found) if ids else ():
        names[key] = name
    return [
        SimpleNamespace(**row._mapping, organisation=names.get(row.agreement_id)) for row in rows
    ]


def _organisation(agreement_id: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The name of the agreement's first party."""
    ap, o = t.agreement_parties, t.organisations
    return (
        sa.select(o.c.name)
        .select_from(ap.join(o, o.c.id == ap.c.organisation_id))
        .where(ap.c.agreement_id == agreement_id)
        .order_by(ap.c.id)
        .limit(1)
        .scalar_subquery()
    )


def _items(
    session: Session, viewer: Viewer, rows: Sequence[SimpleNamespace], today: date
) -> list[dict[str, Any]]:
    payouts = sorted(r.ref_id for r in rows if r.entity == PAYOUT)
    gates = _gates(session, payouts) if payouts else {}
    return [_item(viewer, row, today, gates) for row in rows]


def gate_reasons(
    session: Session, payout_ids: Sequence[int], diarienummer: str
) -> dict[int, dict[str, str | None]]:
    """For each held payout of `payout_ids`, why the gate holds it now ("reason") and
    what releases it ("unblocks"), in the Swedish of the pages (ISO dates). One the gate
    would now let through has no reason: the next payout run releases it."""
    found: dict[int, dict[str, str | None]] = {}
    for key, block in (_gates(session, payout_ids) if payout_ids else {}).items():
        if block is None:
            found[key] = {"reason": None, "unblocks": UNBLOCKED_SV}
        else:
            facts = {"block": block.facts(), "diarienummer": diarienummer}
            reason, remedy = block_reason(facts, _day)
            found[key] = {"reason": reason, "unblocks": remedy}
    return found


def _gates(session: Session, payout_ids: Sequence[int]) -> dict[int, GateBlock | None]:
    """The payout gate's decision now for each of `payout_ids` (None: it holds): the
    same inputs and `decide` as the payout run, read by the payouts' keys."""
    p, a, f = t.payouts, t.agreements, t.follow_ups
    query = (
        sa.select(p.c.id, p.c.covers_from, a.c.id.label("agreement_id"), *_gate_inputs())
        .select_from(p.join(a, a.c.id == p.c.agreement_id).outerjoin(f, gate_follow_up()))
        .where(p.c.id.in_(payout_ids))
    )
    unsigned = unsigned_parties(session, sa.select(p.c.agreement_id).where(p.c.id.in_(payout_ids)))
    return {row.id: _block(row, unsigned) for row in session.execute(query)}


def _item(
    viewer: Viewer, row: SimpleNamespace, today: date, gates: dict[int, GateBlock | None]
) -> dict[str, Any]:
    kind, what, due, unblocks = _describe(viewer, row, today, gates)
    return {
        "agreement_id": row.agreement_id,
        "diarienummer": row.diarienummer,
        "title": row.title,
        "organisation": row.organisation,
        "municipality": row.municipality,
        "state": str(row.agreement_state),
        "officer": row.officer,
        "kind": kind,
        "what": what,
        "due": None if due is None else due.isoformat(),
        "unblocks": unblocks,
        "link": f"/agreements/{row.agreement_id}",
    }


def _describe(
    viewer: Viewer, row: SimpleNamespace, today: date, gates: dict[int, GateBlock | None]
) -> tuple[str, str, date | None, str | None]:
    """(kind, what, due, unblocks) of one item, in the Swedish an officer reads."""
    if row.entity == REPORT:
        return (*_report(viewer, row, today), row.due_on, None)
    if row.entity == CLAIM:
        money, why = format_sek(row.amount), CLAIMS_SV.get(str(row.detail), str(row.detail))
        if row.status == ClaimState.OVERDUE or row.due_on < today:
            what = f"Återkrav ({why}) på {money} förfallet sedan {_day(row.due_on)}"
            return "claim_overdue", what, row.due_on, None
        what = f"Återkrav ({why}) på {money} förfaller {_day(row.due_on)}"
        return "claim_due", what, row.due_on, None
    if row.entity == PAYOUT:
        return _payout(row, today, gates.get(row.ref_id))
    if row.entity == DOCUMENT:
        document = DOCUMENTS_SV.get(str(row.detail), str(row.detail))
        what = f"Ny handling till årsrapport {row.year}: {document} ({_day(row.sort_on)})"
        return "document_arrived", what, None, None
    if row.entity == SUBMITTED:
        what = (
            f"Årsrapport {row.year} inlämnad {_day(row.sort_on)}: "
            "granska och godkänn eller återsänd för komplettering"
        )
        return "report_submitted", what, None, None
    return _decision(row)


def _report(viewer: Viewer, row: SimpleNamespace, today: date) -> tuple[str, str]:
    year, due = row.year, row.due_on
    if row.status == FollowUpState.RETURNED:
        reason = f": {row.detail}" if row.detail else ""
        late = f", försenad sedan {_day(due)}" if due < today else ""
        return "report_returned", f"Årsrapport {year} återsänd för komplettering{late}{reason}"
    if due < today:
        escalation = load_policy(row.municipality).escalation_days_after
        if viewer.role is Role.MANAGER and due <= today - timedelta(days=escalation):
            return "report_escalated", (
                f"Eskalerad: årsrapport {year} försenad sedan {_day(due)} "
                f"(handläggare {row.officer})"
            )
        return "report_overdue", f"Årsrapport {year} försenad sedan {_day(due)}"
    if due == today:
        return "report_due", f"Årsrapport {year} ska lämnas i dag"
    return "report_due", f"Årsrapport {year} ska lämnas senast {_day(due)}"


def _payout(
    row: SimpleNamespace, today: date, block: GateBlock | None
) -> tuple[str, str, date | None, str | None]:
    due, money = row.due_on, format_sek(row.amount)
    condition, remedy = (
        (None, None)
        if block is None
        else block_reason({"block": block.facts(), "diarienummer": row.diarienummer}, _day)
    )
    if row.status == PayoutState.BLOCKED:
        if condition is None:
            return "payout_blocked", f"Utbetalning {due} på {money} spärrad", due, UNBLOCKED_SV
        return "payout_blocked", f"Utbetalning {due} på {money} spärrad: {condition}", due, remedy
    when = "väntar på utbetalningskörningen" if due <= today else "planerad"
    if condition is None:
        return "payout_due", f"Utbetalning {due} på {money} {when}", due, None
    return "payout_due", f"Utbetalning {due} på {money} {when}; spärras: {condition}", due, remedy


def _decision(row: SimpleNamespace) -> tuple[str, str, date | None, str | None]:
    state = AgreementState(row.status)
    if state is AgreementState.DIALOGUE:
        return "dialogue", "Dialog pågår: ta fram den ekonomiska planen", None, None
    if state is AgreementState.ECONOMIC_PLAN:
        what = "Ekonomisk plan klar: lämna ärendet till nämnden för beslut"
        return "submit_for_decision", what, None, None
    if state is AgreementState.RENEWAL:
        deadline = end_dates(row.end, load_policy(row.municipality))[RENEWAL_DECISION_DEADLINE]
        what = f"Förnyelse väntar på nämndens beslut, senast {_day(deadline)}"
        return "renewal_decision", what, deadline, None
    what = f"Väntar på nämndens beslut (perioden börjar {_day(row.sort_on)})"
    return "decision_due", what, None, None
