"""Builders for the pure-domain workflow tests (no database).

Every agreement beyond `initiative` is reached by firing the real steps with
`fire`, so its decisions, signatures, follow-ups and payouts are always the ones
the workflow itself would have produced. `give_ids` stands in for the database
flush that gives new payouts and claims their ids (steps address them by id).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping, Sequence
from datetime import date, timedelta
from typing import Any

import pytest

from iop_workflow.domain.context import StateChange
from iop_workflow.domain.errors import GuardRefused, IopError
from iop_workflow.domain.model import (
    Agreement,
    Contribution,
    FollowUp,
    Organisation,
    Party,
    Payout,
)
from iop_workflow.domain.policy import Policy
from iop_workflow.domain.roles import SYSTEM_ACTOR, Actor, roles_for
from iop_workflow.domain.states import (
    AgreementState,
    ContributionKind,
    FollowUpState,
    PayoutState,
    Role,
)
from iop_workflow.domain.workflow import fire
from iop_workflow.policies import load_policy

MJOLBY = load_policy("mjolby")
KRAMFORS = load_policy("kramfors")
POLICIES: dict[str, Policy] = {"mjolby": MJOLBY, "kramfors": KRAMFORS}

START = date(2027, 1, 1)
END = date(2031, 12, 31)
SUPPORT_SEK = 300_000  # per calendar year
INDICATORS = ("enskilda samtal", "unika besökare")

# Valid organisationsnummer (Luhn check digit), one per organisation number 1..4.
ORGNRS = {1: "802001-1238", 2: "802002-1237", 3: "802003-1236", 4: "802004-1235"}

OFFICER = Actor("Anna Handläggare", Role.OFFICER)
OTHER_OFFICER = Actor("Olle Handläggare", Role.OFFICER)
MANAGER = Actor("Maja Chef", Role.MANAGER)
SECRETARY = Actor("Sara Sekreterare", Role.SECRETARY)
AUDITOR = Actor("Rolf Revisor", Role.AUDITOR)
SYSTEM = SYSTEM_ACTOR

STAFF = (OFFICER, MANAGER, SECRETARY, AUDITOR, SYSTEM)


# --- organisations and actors ---------------------------------------------------


def organisation(n: int = 1, *, registered: bool = True) -> Organisation:
    """Organisation number `n` (1..4) with its id set, as if loaded from the database."""
    return Organisation(
        name=f"Förening {n}",
        organisationsnummer=ORGNRS[n],
        contact_name=f"Kontakt {n}",
        contact_email=f"kontakt{n}@forening{n}.example",
        forening_registered=registered,
        forening_register_ref=f"FR-{n}" if registered else None,
        id=n,
    )


def representative(org: Organisation, name: str | None = None) -> Actor:
    """An organisation representative who speaks for `org`."""
    return Actor(name or f"Rep {org.name}", Role.ORG_REP, organisation=org.organisationsnummer)


def rep_of(agreement: Agreement, index: int = 0) -> Actor:
    return representative(agreement.parties[index].organisation)


def actors_of_every_role(agreement: Agreement) -> list[Actor]:
    """One actor per role; the organisation representative speaks for the first party."""
    return [*STAFF, rep_of(agreement)]


def actor_for(agreement: Agreement, trigger: str) -> Actor:
    """A plausible actor allowed to fire `trigger` (staff first, then a representative)."""
    allowed = roles_for(trigger)
    for candidate in (OFFICER, SECRETARY, MANAGER, SYSTEM):
        if candidate.role in allowed:
            return candidate
    return rep_of(agreement)


# --- agreements -----------------------------------------------------------------


def new_agreement(
    municipality: str = "mjolby",
    *,
    start: date = START,
    end: date = END,
    organisations: Sequence[Organisation] | None = None,
    shares_bp: Sequence[int] | None = None,
    indicators: Sequence[str] = INDICATORS,
    contributions: Sequence[Contribution] | None = None,
    diarienummer: str = "OSN 2026/17",
) -> Agreement:
    """An agreement in `initiative` with everything the dialogue records filled in."""
    orgs = list(organisations) if organisations is not None else [organisation(1)]
    shares = list(shares_bp) if shares_bp is not None else _even_shares(len(orgs))
    if contributions is None:
        contributions = [
            Contribution(year, ContributionKind.MONEY, 5_000_000)
            for year in range(start.year, end.year + 1)
        ]
    return Agreement(
        diarienummer=diarienummer,
        municipality=municipality,
        committee=POLICIES[municipality].committee,
        title="Mötesplats för seniorer",
        purpose="Minska ofrivillig ensamhet",
        target_group="Äldre i kommunen",
        start=start,
        end=end,
        officer=OFFICER.name,
        goals="Fler äldre deltar i social gemenskap",
        values="Alla människors lika värde",
        indicators=list(indicators),
        parties=[
            Party(org, share_bp=share, organisation_id=org.id)
            for org, share in zip(orgs, shares, strict=True)
        ],
        contributions=list(contributions),
    )


def _even_shares(count: int) -> list[int]:
    if count == 0:
        return []
    base = 10_000 // count
    return [base + (10_000 - base * count if i == 0 else 0) for i in range(count)]


def give_ids(agreement: Agreement) -> None:
    """Number new payouts and claims, as the database does when the step is saved."""
    for items in (agreement.payouts, agreement.claims):
        next_id = max((item.id or 0 for item in items), default=0) + 1
        for item in items:
            if item.id is None:
                item.id = next_id
                next_id += 1


def fire_step(
    agreement: Agreement,
    trigger: str,
    *,
    today: date,
    actor: Actor | None = None,
    data: Mapping[str, Any] | None = None,
) -> list[StateChange]:
    """`fire` with the agreement's own policy, then number new payouts and claims.

    Where the preset names a forum (Kramfors), the dialogue and a follow-up's approval
    are held in its meeting on `today`, unless `data` gives `meeting_on` itself (an
    empty one: no meeting)."""
    policy = POLICIES[agreement.municipality]
    if policy.dialogue_forum and trigger in FORUM_STEPS and "meeting_on" not in (data or {}):
        data = {**(data or {}), "meeting_on": today.isoformat()}
    changes = fire(
        agreement,
        trigger,
        actor=actor or actor_for(agreement, trigger),
        today=today,
        policy=policy,
        data=data,
    )
    give_ids(agreement)
    return changes


# The steps a preset's forum holds a meeting for (guards.forum_meeting_held).
FORUM_STEPS = frozenset({"start_dialogue", "approve_follow_up"})


def support_data(start: date, end: date, sek: int = SUPPORT_SEK) -> dict[str, str]:
    return {f"support.{year}": str(sek) for year in range(start.year, end.year + 1)}


def decision_data(meeting: date, paragraph: str = "§ 151") -> dict[str, str]:
    return {"meeting_date": meeting.isoformat(), "paragraph": paragraph}


def preparation_day(agreement: Agreement) -> date:
    """The day the case is prepared: four months before the period starts."""
    return agreement.start - timedelta(days=120)


def assess_all(agreement: Agreement, today: date, *, verdict: str = "met") -> None:
    for criterion in POLICIES[agreement.municipality].criteria:
        fire_step(
            agreement,
            "assess_criterion",
            today=today,
            data={
                "criterion": criterion.key,
                "verdict": verdict,
                "motivation": "Bedömt i dialog",
            },
        )


def sign_all(agreement: Agreement, today: date) -> None:
    fire_step(agreement, "sign", actor=OFFICER, today=today)
    for party in agreement.parties:
        fire_step(agreement, "sign", actor=representative(party.organisation), today=today)


PRE_ACTIVE = [
    AgreementState.INITIATIVE,
    AgreementState.DIALOGUE,
    AgreementState.ECONOMIC_PLAN,
    AgreementState.DECISION,
    AgreementState.SIGNING,
    AgreementState.ACTIVE,
]


def agreement_in(
    state: AgreementState,
    municipality: str = "mjolby",
    *,
    start: date = START,
    end: date = END,
    support_sek: int = SUPPORT_SEK,
    organisations: Sequence[Organisation] | None = None,
    shares_bp: Sequence[int] | None = None,
    terminate_on: date | None = None,
    release_first: bool = False,
) -> Agreement:
    """An agreement brought to `state` by the real steps.

    The case is prepared and decided four months before `start`. `terminated`
    stops it on `terminate_on`, by default the last day of its third month,
    before any payout; with `release_first` the first instalment is released to
    every party and the default termination is 30 days before that instalment's
    covered part ends. `repayment` is `terminated` with `release_first` and the
    claim raised; `closed` terminates before any payout and approves the one
    follow-up that remains.
    """
    a = new_agreement(
        municipality,
        start=start,
        end=end,
        organisations=organisations,
        shares_bp=shares_bp,
    )
    prep = preparation_day(a)
    if state is AgreementState.REJECTED:
        fire_step(a, "reject", today=prep, data={"reason": "Inte ett IOP"})
        return a
    if state is AgreementState.WITHDRAWN:
        fire_step(a, "withdraw", actor=rep_of(a), today=prep, data={"reason": "Drar tillbaka"})
        return a
    target = PRE_ACTIVE.index(state) if state in PRE_ACTIVE else len(PRE_ACTIVE) - 1
    if target >= 1:
        assess_all(a, prep)
        fire_step(a, "start_dialogue", today=prep)
    if target >= 2:
        fire_step(a, "propose_plan", today=prep)
    if target >= 3:
        fire_step(a, "submit_for_decision", today=prep, data=support_data(start, end, support_sek))
    decided = prep + timedelta(days=10)
    if target >= 4:
        fire_step(a, "approve_decision", today=decided, data=decision_data(decided))
    if target >= 5:
        sign_all(a, decided + timedelta(days=4))
        fire_step(a, "activate", today=decided + timedelta(days=4))
    if state in PRE_ACTIVE:
        return a

    if state is AgreementState.RENEWAL:
        fire_step(a, "start_renewal", today=date(end.year, 1, 1))
    elif state is AgreementState.NOT_RENEWED:
        fire_step(a, "decline_renewal", actor=rep_of(a), today=date(end.year, 1, 15))
    elif state is AgreementState.ENDED:
        fire_step(a, "end", today=end + timedelta(days=1))
    elif state in (AgreementState.TERMINATED, AgreementState.REPAYMENT):
        when = terminate_on or _last_of_third_month(start)
        if release_first or state is AgreementState.REPAYMENT:
            first = first_payout(a)
            for payout in a.payouts:
                if payout.covers_from == first.covers_from:
                    release(a, payout)
            when = terminate_on or first.covers_to - timedelta(days=30)
        fire_step(a, "terminate", today=when, data={"date": when, "reason": "Verksamheten upphör"})
        if state is AgreementState.REPAYMENT:
            fire_step(a, "raise_claim", today=when)
    elif state is AgreementState.CLOSED:
        when = terminate_on or _last_of_third_month(start)
        fire_step(a, "terminate", today=when, data={"date": when, "reason": "Verksamheten upphör"})
        approve_follow_up_of(a, when.year)
        fire_step(a, "close", today=a.follow_ups[0].reviewed_on or when)
    else:  # pragma: no cover - every state is listed above
        raise AssertionError(f"no walk to {state}")
    return a


def _last_of_third_month(start: date) -> date:
    month = start.month + 3
    year = start.year + (month - 1) // 12
    month = (month - 1) % 12 + 1
    return date(year, month, 1) - timedelta(days=1)


# --- follow-ups and payouts -----------------------------------------------------


def follow_up(agreement: Agreement, year: int) -> FollowUp:
    found = agreement.follow_up(year)
    assert found is not None, f"no follow-up {year}"
    return found


def open_follow_up_of(agreement: Agreement, year: int) -> FollowUp:
    f = follow_up(agreement, year)
    fire_step(agreement, "open_follow_up", today=f.opens_on, data={"year": year})
    return f


def receive_all_documents(agreement: Agreement, year: int, *, today: date) -> None:
    for kind in POLICIES[agreement.municipality].required_documents:
        fire_step(
            agreement,
            "receive_document",
            today=today,
            data={"year": year, "kind": kind.value, "arrived": today.isoformat()},
        )


def statistics_data(agreement: Agreement, value: int = 12) -> dict[str, str]:
    return {f"statistics.{name}": str(value) for name in agreement.indicators}


def submitted_follow_up_of(
    agreement: Agreement, year: int, *, documents: bool = True, today: date | None = None
) -> FollowUp:
    """Open the follow-up of `year`, receive the documents and submit the report with
    statistics on `today` (default: 15 February of the next year, or when it opens)."""
    f = open_follow_up_of(agreement, year)
    day = today or max(f.opens_on, date(year + 1, 2, 15))
    if documents:
        receive_all_documents(agreement, year, today=day)
    fire_step(
        agreement,
        "submit_report",
        actor=rep_of(agreement),
        today=day,
        data={"year": year, **statistics_data(agreement)},
    )
    return f


def approve_follow_up_of(agreement: Agreement, year: int, *, today: date | None = None) -> FollowUp:
    """Take the follow-up of `year` through to approval, the report submitted and
    approved on `today` (see `submitted_follow_up_of`)."""
    f = submitted_follow_up_of(agreement, year, today=today)
    fire_step(
        agreement,
        "approve_follow_up",
        actor=OFFICER,
        today=f.submitted_on or f.opens_on,
        data={"year": year},
    )
    assert f.state is FollowUpState.APPROVED
    return f


def payouts_covering_year(agreement: Agreement, year: int) -> list[Payout]:
    return [p for p in agreement.payouts if p.covers_from.year == year]


def first_payout(agreement: Agreement) -> Payout:
    return min(agreement.payouts, key=lambda p: (p.covers_from, p.organisation_id))


def release(agreement: Agreement, payout: Payout, *, today: date | None = None) -> None:
    fire_step(
        agreement,
        "release_payout",
        actor=SYSTEM,
        today=today or payout.due_on,
        data={"payout": payout.id},
    )
    assert payout.state is PayoutState.RELEASED


# --- comparisons ------------------------------------------------------------------


def snapshot(agreement: Agreement) -> Any:
    """Everything recorded about the agreement, as nested tuples, for 'nothing changed' checks."""
    return _freeze(agreement)


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


def _freeze(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        kind = type(value)
        return (kind.__name__, *(_freeze(getattr(value, n)) for n in _field_names(kind)))
    return value  # str, int, bool, None, date, enum members: immutable


def signed_parties(agreement: Agreement) -> list[str]:
    return [s.party for s in agreement.signatures]


def refused(
    agreement: Agreement,
    trigger: str,
    *,
    today: date,
    actor: Actor | None = None,
    data: Mapping[str, Any] | None = None,
    error: type[IopError] = GuardRefused,
) -> Any:
    """Fire a step that must be refused with `error`; nothing may have changed after it."""
    before = snapshot(agreement)
    with pytest.raises(error) as info:
        fire_step(agreement, trigger, today=today, actor=actor, data=data)
    assert snapshot(agreement) == before, f"refused '{trigger}' changed the agreement"
    return info.value
