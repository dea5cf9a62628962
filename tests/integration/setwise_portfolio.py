"""Random portfolios of agreements for test_setwise_equals_steps.py.

A portfolio is drawn as plain data (`PortfolioSpec`), then built by firing the domain's
own steps (`fire`) on the days people and the schedule would have taken them: every
agreement is walked from initiative to active, then through its history up to a
*horizon* day (follow-ups opened, submitted, approved, returned, marked overdue;
payouts released or blocked as a payout run would have; an amendment, a termination
and its repayment claim, a renewal dialogue, a renewal or a declined one, the end).
Steps the rules refuse on their day are skipped: the domain decides what history is
possible. What no step can do is take a decision, a signature or a follow-up away; a
portfolio may do that afterwards (`missing`), as data from before the rules were
checked could have it, so that the payout gate meets each of its reasons.

The built agreements are stored as the importer stores them (`Repository.add`), with
no audit trail of their history. Between the horizon and the day the tests run, the
scheduled work was not done: a backlog that the day's run must handle.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from hypothesis import strategies as st

from iop_workflow.adapters.db import Database
from iop_workflow.domain import calendar as cal
from iop_workflow.domain.errors import IopError
from iop_workflow.domain.model import (
    MUNICIPALITY_PARTY,
    Agreement,
    Contribution,
    Organisation,
    Party,
)
from iop_workflow.domain.roles import SYSTEM_ACTOR, Actor
from iop_workflow.domain.states import (
    AgreementState,
    ContributionKind,
    DecisionKind,
    FollowUpState,
    PayoutState,
    Role,
)
from iop_workflow.domain.workflow import fire
from iop_workflow.policies import load_policy, preset_names

NOW = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)

OFFICER = Actor("Anna Handläggare", Role.OFFICER)
REVIEWER = Actor("Olle Handläggare", Role.OFFICER)
SECRETARY = Actor("Sara Sekreterare", Role.SECRETARY)
INDICATORS = ("enskilda samtal", "unika besökare")
DOCUMENTS = ("income_statement", "balance_sheet", "activity_report", "statistics")
# Valid organisationsnummer (Luhn check digit), one per organisation 1..4.
ORGNRS = {1: "802001-1238", 2: "802002-1237", 3: "802003-1236", 4: "802004-1235"}

FOLLOW_UP_TARGETS = ("planned", "open", "submitted", "approved", "returned", "overdue")
# Payout plans the presets let an agreement have (`overridable`: payout_dates, report_due).
PAYOUT_DATES: tuple[tuple[str, str] | None, ...] = (
    None,
    None,
    ("03-15", "09-15"),
    ("01-10", "07-01"),
    ("06-30", "12-30"),
)
REPORT_DUE: tuple[str | None, ...] = (None, None, "04-30", "02-15")
# The nämnd's own payout plan (domain/payout_plan.py); "dates" draws explicit dates.
PAYOUT_PLANS: tuple[str | None, ...] = (None, None, None, "1", "4", "12", "dates")
PLAN_CHANGES: tuple[str | None, ...] = (None, None, "4", "12", "2")
SHARES = {1: [(10_000,)], 2: [(5_000, 5_000), (7_000, 3_000)]}


# --- what is drawn ------------------------------------------------------------------


@dataclass(frozen=True)
class FollowUpPlan:
    target: str  # one of FOLLOW_UP_TARGETS: how far the history took the follow-up
    open_lag: int  # days after its opening day that it was opened
    submit_after: int  # days after opening that the report came
    review_after: int  # days after submission that it was reviewed
    overdue_lag: int  # days after the day after its due date that it was marked overdue


@dataclass(frozen=True)
class AgreementSpec:
    municipality: str
    start: date
    years: int  # 1-4
    year_end: bool  # the period ends on 31 December instead of the day before a start
    parties: tuple[int, ...]  # organisations 1..4
    shares: tuple[int, ...]
    payout_dates: tuple[str, str] | None
    report_due: str | None
    payout_plan: str | None  # PAYOUT_PLANS; with a plan, payout_dates is not drawn
    plan_change: str | None  # the interval a tilläggsavtal or renewal changes to
    support_sek: int
    follow_ups: tuple[FollowUpPlan, ...]
    payout_lags: tuple[int | None, ...]  # per payout: run that many days after due, or never
    amend: tuple[float, int, int | None] | None  # (when, end moved by months, new support)
    terminate: float | None  # when, as a fraction of the period
    claim: tuple[int, int | None] | None  # raised days after termination/end; paid after
    renewal: str | None  # "start", "decline", "renew", "early" (an officer, before the window)
    renewal_lag: int
    end_lag: int | None  # `end` fired that many days after the period; None: never
    missing: str | None  # "decision", "municipality", "party", "follow_up": taken away


@dataclass(frozen=True)
class PortfolioSpec:
    agreements: tuple[AgreementSpec, ...]
    anchor: int | None  # pick the day near the anchor with this index; None: plain offset
    offset: int  # days from the anchor (or from the first start when no anchor)
    lag: int  # the horizon: days before the day up to which history was made


def _follow_up_plans() -> st.SearchStrategy[FollowUpPlan]:
    return st.builds(
        FollowUpPlan,
        target=st.sampled_from(FOLLOW_UP_TARGETS),
        open_lag=st.sampled_from([0, 0, 1, 40]),
        submit_after=st.sampled_from([0, 30, 120, 150, 200]),
        review_after=st.sampled_from([0, 0, 3, 60]),
        overdue_lag=st.sampled_from([0, 0, 2, 30]),
    )


@st.composite
def agreement_specs(draw: st.DrawFn) -> AgreementSpec:
    count = draw(st.sampled_from([1, 1, 1, 2]))
    parties = tuple(draw(st.permutations([1, 2, 3, 4]))[:count])
    year = draw(st.integers(2025, 2028))
    start = date(year, draw(st.integers(1, 12)), draw(st.sampled_from([1, 1, 15])))
    amend = draw(
        st.none()
        | st.tuples(
            st.floats(0.05, 0.95),
            st.sampled_from([-14, -7, -3, 2, 6, 12]),
            st.none() | st.sampled_from([90_000, 480_000]),
        )
    )
    plan = draw(st.sampled_from(PAYOUT_PLANS))
    return AgreementSpec(
        municipality=draw(st.sampled_from(preset_names())),
        start=start,
        years=draw(st.integers(1, 4)),
        year_end=draw(st.booleans()),
        parties=parties,
        shares=draw(st.sampled_from(SHARES[count])),
        payout_dates=None if plan else draw(st.sampled_from(PAYOUT_DATES)),
        report_due=draw(st.sampled_from(REPORT_DUE)),
        payout_plan=plan,
        plan_change=draw(st.sampled_from(PLAN_CHANGES)),
        support_sek=draw(st.sampled_from([120_000, 300_000, 333_333])),
        follow_ups=tuple(draw(st.lists(_follow_up_plans(), min_size=1, max_size=4))),
        payout_lags=tuple(
            draw(st.lists(st.sampled_from([0, 0, 0, 2, 30, None]), min_size=1, max_size=6))
        ),
        amend=amend if draw(st.booleans()) else None,
        terminate=draw(st.floats(0.0, 1.0)) if draw(st.integers(0, 2)) == 0 else None,
        claim=draw(
            st.none() | st.tuples(st.sampled_from([0, 5]), st.sampled_from([None, None, 10]))
        ),
        renewal=draw(st.sampled_from([None, None, "start", "decline", "renew", "early"])),
        renewal_lag=draw(st.sampled_from([0, 9, 40, 200])),
        end_lag=draw(st.sampled_from([None, None, 0, 3])),
        missing=draw(
            st.sampled_from([None, None, None, None, "decision", "municipality", "party"])
        ),
    )


@st.composite
def portfolio_specs(draw: st.DrawFn) -> PortfolioSpec:
    """Mostly a day on or next to a day something is scheduled for (an anchor);
    sometimes any day from before the first start to years after it."""
    near = draw(st.integers(0, 3))
    return PortfolioSpec(
        agreements=tuple(draw(st.lists(agreement_specs(), min_size=1, max_size=4))),
        anchor=draw(st.integers(0, 10_000)) if near else None,
        offset=draw(st.sampled_from([0, 0, 0, -1, 1, -2, 2]))
        if near
        else draw(st.integers(-200, 1900)),
        lag=draw(st.sampled_from([0, 0, 1, 3, 20, 90, 400])),
    )


# --- building ------------------------------------------------------------------------


def organisations() -> dict[int, Organisation]:
    """Fresh organisation objects (a session takes them over), registered in the
    föreningsregister so that either preset admits them."""
    return {
        n: Organisation(
            name=f"Förening {n}",
            organisationsnummer=nr,
            contact_name=f"Kontakt {n}",
            contact_email=f"kontakt{n}@forening{n}.example",
            forening_registered=True,
            forening_register_ref=f"FR-{n}",
            id=n,
        )
        for n, nr in ORGNRS.items()
    }


def representative(agreement: Agreement, index: int = 0) -> Actor:
    org = agreement.parties[index].organisation
    return Actor(f"Rep {org.name}", Role.ORG_REP, organisation=org.organisationsnummer)


class Builder:
    """Fires steps on one agreement; new payouts and claims get ids unique in the
    portfolio (as the database would give them), so steps can address them."""

    def __init__(self, agreement: Agreement, ids: Iterator[int]) -> None:
        self.agreement = agreement
        self.policy = load_policy(agreement.municipality)
        self.ids = ids

    def fire(self, trigger: str, today: date, actor: Actor, data: Mapping[str, Any]) -> bool:
        try:
            fire(self.agreement, trigger, actor=actor, today=today, policy=self.policy, data=data)
        except IopError:
            return False
        finally:
            for item in [*self.agreement.payouts, *self.agreement.claims]:
                if item.id is None:
                    item.id = next(self.ids)
        return True

    def must(self, trigger: str, today: date, actor: Actor, data: Mapping[str, Any]) -> None:
        if not self.fire(trigger, today, actor, data):
            fire(self.agreement, trigger, actor=actor, today=today, policy=self.policy, data=data)

    def meeting(self, day: date) -> dict[str, str]:
        """The forum's meeting on `day` where the preset names a forum (Kramfors holds
        the dialogue and the follow-up's review in Seniorrådet); nothing elsewhere."""
        if self.policy.dialogue_forum is None:
            return {}
        return {"meeting_on": day.isoformat(), "minutes_ref": f"SR {day.isoformat()}"}


def new_agreement(spec: AgreementSpec, number: int, orgs: Mapping[int, Organisation]) -> Agreement:
    end = (
        date(spec.start.year + spec.years - 1, 12, 31)
        if spec.year_end
        else cal.max_end_date(spec.start, spec.years)
    )
    years = range(spec.start.year, end.year + 1)
    policy = load_policy(spec.municipality)
    return Agreement(
        diarienummer=f"TST 2026/{number:04d}",
        municipality=spec.municipality,
        committee=policy.committee,
        title=f"Mötesplats {number}",
        purpose="Minska ofrivillig ensamhet",
        target_group="Äldre i kommunen",
        start=spec.start,
        end=end,
        officer=OFFICER.name,
        goals="Fler äldre deltar i social gemenskap",
        values="Alla människors lika värde",
        indicators=list(INDICATORS),
        repayment_terms="Pro rata per dag.",
        renewal_terms="Dialog under årets två första månader.",
        payout_dates=list(spec.payout_dates) if spec.payout_dates else None,
        report_due=spec.report_due,
        parties=[
            Party(orgs[n], share_bp=share, organisation_id=n)
            for n, share in zip(spec.parties, spec.shares, strict=True)
        ],
        contributions=[Contribution(y, ContributionKind.MONEY, 5_000_000) for y in years],
    )


def activate(b: Builder, spec: AgreementSpec) -> None:
    """From initiative to active by the real steps, four months before the start."""
    a = b.agreement
    prep = a.start - timedelta(days=120)
    for criterion in b.policy.criteria:
        data = {"criterion": criterion.key, "verdict": "met", "motivation": "Bedömt i dialog"}
        b.must("assess_criterion", prep, OFFICER, data)
    b.must("start_dialogue", prep, OFFICER, b.meeting(prep))
    b.must("propose_plan", prep, OFFICER, _plan_of(spec, a))
    support = {f"support.{y}": str(spec.support_sek) for y in range(a.start.year, a.end.year + 1)}
    b.must("submit_for_decision", prep, OFFICER, support)
    decided = prep + timedelta(days=10)
    meeting = {"meeting_date": decided.isoformat(), "paragraph": "§ 151"}
    b.must("approve_decision", decided, SECRETARY, meeting)
    signed = decided + timedelta(days=4)
    b.must("sign", signed, OFFICER, {})
    for index in range(len(a.parties)):
        b.must("sign", signed, representative(a, index), {})
    b.must("activate", signed, OFFICER, {})


def _plan_of(spec: AgreementSpec, a: Agreement) -> dict[str, str]:
    if spec.payout_plan is None:
        return {}
    if spec.payout_plan != "dates":
        return {"payout_plan": spec.payout_plan}
    # Explicit dates: 40 and 200 days into the period, then 1 March of each later year.
    days = [a.start + timedelta(days=40), a.start + timedelta(days=200)]
    days += [date(y, 3, 1) for y in range(a.start.year + 1, a.end.year + 1)]
    kept = sorted({d for d in days if a.start <= d <= a.end})
    return {"payout_plan": ",".join(d.isoformat() for d in kept) or a.start.isoformat()}


Event = tuple[date, int, Callable[[date], object]]


def _day_in_period(a: Agreement, fraction: float) -> date:
    return a.start + timedelta(days=int((a.end - a.start).days * fraction))


def history(b: Builder, spec: AgreementSpec) -> list[Event]:
    """The steps of the agreement's history, each with its day (post-activation plan)."""
    a = b.agreement
    events: list[Event] = []
    order = itertools.count()

    def at(day: date, step: Callable[[date], object]) -> None:
        events.append((day, next(order), step))

    for index, follow_up in enumerate(sorted(a.follow_ups, key=lambda f: f.year)):
        plan = spec.follow_ups[index % len(spec.follow_ups)]
        year = follow_up.year
        if plan.target == "planned":
            continue
        opened = follow_up.opens_on + timedelta(days=plan.open_lag)
        at(opened, lambda d, y=year: b.fire("open_follow_up", d, SYSTEM_ACTOR, {"year": y}))
        if plan.target == "overdue":
            overdue = follow_up.due_on + timedelta(days=1 + plan.overdue_lag)
            at(
                overdue,
                lambda d, y=year: b.fire("mark_report_overdue", d, SYSTEM_ACTOR, {"year": y}),
            )
            continue
        if plan.target == "open":
            continue
        submitted = opened + timedelta(days=plan.submit_after)
        at(submitted, lambda d, y=year: _submit(b, d, y))
        if plan.target in ("approved", "returned"):
            reviewed = submitted + timedelta(days=plan.review_after)
            trigger = "approve_follow_up" if plan.target == "approved" else "return_follow_up"
            data = {"year": year, "reason": "Komplettering behövs"}
            if trigger == "approve_follow_up":
                data = {"year": year, **b.meeting(reviewed)}
            at(reviewed, lambda d, t=trigger, x=data: b.fire(t, d, REVIEWER, x))

    payouts = sorted(a.payouts, key=lambda p: (p.covers_from, p.organisation_id))
    for index, payout in enumerate(payouts):
        lag = spec.payout_lags[index % len(spec.payout_lags)]
        if lag is not None:
            at(payout.due_on + timedelta(days=lag), lambda d, i=payout.id: _payout_run(b, d, i))

    if spec.amend is not None:
        fraction, months, support = spec.amend
        at(_day_in_period(a, fraction), lambda d: _amend(b, d, months, support, spec.plan_change))
    if spec.terminate is not None:
        when = _day_in_period(a, spec.terminate)
        at(when, lambda d: b.fire("terminate", d, OFFICER, {"date": d, "reason": "Upphör"}))
        if spec.claim is not None:
            raised = when + timedelta(days=spec.claim[0])
            at(raised, lambda d: b.fire("raise_claim", d, OFFICER, {}))
    window = date(a.end.year, 1, 1) + timedelta(days=spec.renewal_lag)
    if spec.renewal == "early":  # allowed any day of the period (guards.in_final_year)
        early = a.start + timedelta(days=spec.renewal_lag)
        at(early, lambda d: b.fire("start_renewal", d, OFFICER, {}))
    if spec.renewal in ("start", "renew"):
        at(window, lambda d: b.fire("start_renewal", d, SYSTEM_ACTOR, {}))
    if spec.renewal == "renew":
        at(window + timedelta(days=3), lambda d: _renew(b, d, spec.plan_change))
    if spec.renewal == "decline":
        at(window, lambda d: b.fire("decline_renewal", d, representative(a), {}))
    if spec.end_lag is not None:
        ended = a.end + timedelta(days=1 + spec.end_lag)
        at(ended, lambda d: b.fire("end", d, SYSTEM_ACTOR, {}))
        if spec.claim is not None and spec.terminate is None:
            raised = ended + timedelta(days=spec.claim[0])
            at(raised, lambda d: _unused_claim(b, d))
    if spec.claim is not None and spec.claim[1] is not None:
        paid_after = spec.claim[1]
        base = a.end if spec.terminate is None else _day_in_period(a, spec.terminate)
        at(base + timedelta(days=spec.claim[0] + paid_after + 2), lambda d: _pay_claims(b, d))
    return events


def _submit(b: Builder, day: date, year: int) -> None:
    for kind in DOCUMENTS:
        b.fire("receive_document", day, representative(b.agreement), {"year": year, "kind": kind})
    stats = {f"statistics.{name}": "12" for name in INDICATORS}
    b.fire("submit_report", day, representative(b.agreement), {"year": year, **stats})


def _payout_run(b: Builder, day: date, payout_id: int | None) -> None:
    """What a payout run on `day` did to the payout: released it, or blocked it."""
    data = {"payout": payout_id}
    if not b.fire("release_payout", day, SYSTEM_ACTOR, data):
        b.fire("block_payout", day, SYSTEM_ACTOR, data)


def _support_for(a: Agreement, start: date, end: date, sek: int | None) -> dict[str, str]:
    support = {}
    for year in range(start.year, end.year + 1):
        if sek is not None or a.support_for(year) <= 0:
            support[f"support.{year}"] = str(sek or 250_000)
    return support


def _amend(b: Builder, day: date, months: int, sek: int | None, plan: str | None) -> None:
    a = b.agreement
    new_end = cal.add_months(a.end, months)
    data = {
        "decided_on": day.isoformat(),
        "paragraph": "§ 42",
        "description": "Tilläggsavtal",
        "end": new_end.isoformat(),
        **_support_for(a, a.start, new_end, sek),
        **({"payout_plan": plan} if plan else {}),
    }
    b.fire("amend", day, SECRETARY, data)


def _renew(b: Builder, day: date, plan: str | None) -> None:
    a = b.agreement
    new_start = a.end + timedelta(days=1)
    new_end = cal.max_end_date(new_start, 1 + day.day % 2)
    data = {
        "end": new_end.isoformat(),
        "meeting_date": day.isoformat(),
        "paragraph": "§ 77",
        **_support_for(a, new_start, new_end, 200_000),
        # A plan of dates ends with its period: the renewal states the next one.
        **({"payout_plan": plan or "4"} if plan or _has_dates(a) else {}),
    }
    b.fire("renew", day, SECRETARY, data)


def _has_dates(a: Agreement) -> bool:
    return bool(a.payout_plan and "dates" in a.payout_plan)


def _unused_claim(b: Builder, day: date) -> None:
    orgnr = b.agreement.parties[0].organisation.organisationsnummer
    data = {"amount": "5 000", "basis": "Outnyttjade medel", "organisation": orgnr}
    b.fire("raise_claim", day, OFFICER, data)


def _pay_claims(b: Builder, day: date) -> None:
    for claim in list(b.agreement.claims):
        b.fire("record_claim_paid", day, OFFICER, {"claim": claim.id})


def take_away(a: Agreement, missing: str | None) -> None:
    """Remove the entry decision, a signature of the first period or the first year's
    follow-up (data from before the rules were checked)."""
    if missing == "follow_up":
        a.follow_ups = sorted(a.follow_ups, key=lambda f: f.year)[1:]
    elif missing == "decision":
        a.decisions = [d for d in a.decisions if d.kind is not DecisionKind.ENTRY]
    elif missing is not None:
        party = (
            MUNICIPALITY_PARTY
            if missing == "municipality"
            else a.parties[0].organisation.organisationsnummer
        )
        a.signatures = [s for s in a.signatures if not (s.party == party and s.period_no == 1)]


@dataclass
class Built:
    agreements: list[Agreement]
    organisations: dict[int, Organisation]
    day: date
    horizon: date


def anchors(a: Agreement, spec: AgreementSpec) -> list[date]:
    """The days around which something scheduled happens to `a` (as first planned)."""
    policy = load_policy(a.municipality)
    claimed = []
    if spec.claim is not None:
        if spec.terminate is not None:
            claimed.append(_day_in_period(a, spec.terminate) + timedelta(days=spec.claim[0]))
        elif spec.end_lag is not None:
            claimed.append(a.end + timedelta(days=1 + spec.end_lag + spec.claim[0]))
    overdue = [d + timedelta(days=policy.claim_due_days + n) for d in claimed for n in (0, 1)]
    found = [a.end, a.end + timedelta(days=1), a.end - timedelta(days=30), date(a.end.year, 1, 1)]
    deadline = cal.renewal_decision_deadline(a.end, policy.renewal_decision_months_before_end)
    found += [deadline - timedelta(days=d) for d in (0, 14, 30, 60)]
    for f in a.follow_ups:
        found += [f.opens_on, f.due_on, f.due_on + timedelta(days=1)]
        found += [f.due_on + timedelta(days=d) for d in (-30, -7, 5, 13, 14, 15)]
    for p in a.payouts:
        found += [p.due_on, p.due_on - timedelta(days=policy.payout_warning_days_before)]
    return found + overdue


def build(spec: PortfolioSpec) -> Built:
    orgs = organisations()
    ids = itertools.count(1)
    builders = []
    for number, agreement_spec in enumerate(spec.agreements, start=1):
        b = Builder(new_agreement(agreement_spec, number, orgs), ids)
        activate(b, agreement_spec)
        builders.append((b, agreement_spec))
    if spec.anchor is None:
        day = min(s.start for s in spec.agreements) + timedelta(days=spec.offset)
    else:
        days = sorted({d for b, s in builders for d in anchors(b.agreement, s)})
        day = days[spec.anchor % len(days)] + timedelta(days=spec.offset)
    horizon = day - timedelta(days=spec.lag)
    for b, agreement_spec in builders:
        for when, _, step in sorted(history(b, agreement_spec), key=lambda e: e[:2]):
            if when <= horizon:
                step(when)
        take_away(b.agreement, agreement_spec.missing)
    return Built([b.agreement for b, _ in builders], orgs, day, horizon)


def store(db: Database, built: Built) -> None:
    """Store the organisations and agreements as the importer does (no audit records)."""
    with db.write() as session:
        for org in built.organisations.values():
            session.add(org)
        session.flush()
        for agreement in built.agreements:
            session.add(agreement)


def describe(built: Built) -> list[str]:
    """One line per agreement and its parts, for a failing example's report."""
    lines = [f"day {built.day} (history up to {built.horizon})"]
    for a in built.agreements:
        lines.append(
            f"{a.diarienummer} {a.municipality} {a.start}..{a.end} {a.state.value} "
            f"period {a.period_no} terminated {a.terminated_on} parties "
            f"{[p.organisation.organisationsnummer for p in a.parties]} "
            f"payout_dates {a.payout_dates} payout_plan {a.payout_plan} "
            f"report_due {a.report_due} "
            f"decisions {[(d.kind.value, d.period_no) for d in a.decisions]} "
            f"signatures {[(s.party, s.period_no) for s in a.signatures]}"
        )
        for f in a.follow_ups:
            lines.append(f"  follow-up {f.year} {f.state.value} opens {f.opens_on} due {f.due_on}")
        for p in a.payouts:
            lines.append(
                f"  payout {p.id} org {p.organisation_id} {p.covers_from}..{p.covers_to} due "
                f"{p.due_on} {p.state.value} {p.blocked_reason or ''}"
            )
        for c in a.claims:
            lines.append(f"  claim {c.id} {c.kind.value} due {c.due_on} {c.state.value}")
    return lines


__all__ = [
    "NOW",
    "AgreementState",
    "Built",
    "FollowUpState",
    "PayoutState",
    "PortfolioSpec",
    "build",
    "describe",
    "portfolio_specs",
    "store",
]
