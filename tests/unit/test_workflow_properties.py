"""Random walks through the workflow: whatever users do, the money rules hold.

Each example builds an agreement (Mjölby or Kramfors, one or two parties, a
random period of at most five years) in a random early phase, then fires a
random sequence of steps with plausible random input, random actors of every
role and a day that only moves forward. Most steps are drawn from what
`available_steps` offers, with the input each step needs, so walks reach
follow-ups, blocked and released payouts, renewals, terminations and claims.
Only the domain's own errors (IopError) count as a refusal; any other
exception fails the test. After every step:

(a) no payout covering year Y+1 is released unless the follow-up of Y is
    approved (payouts in the agreement's first calendar year excepted);
(b) the period never exceeds the municipality's maximum length;
(c) every state change (agreement, follow-ups, payouts, claims) is reported by
    exactly one StateChange, and a refused step changes nothing at all;
(d) every amount is >= 0 and a released payout never changes its amount.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest
from factories import (
    OFFICER,
    OTHER_OFFICER,
    POLICIES,
    STAFF,
    agreement_in,
    give_ids,
    organisation,
    preparation_day,
    representative,
    snapshot,
)
from hypothesis import HealthCheck, Phase, Verbosity, event, find, given, settings
from hypothesis import strategies as st

from iop_workflow.domain import calendar as cal
from iop_workflow.domain.context import StateChange
from iop_workflow.domain.errors import IopError
from iop_workflow.domain.firing import entity_key
from iop_workflow.domain.gate import missing_signatures, payout_block_reason
from iop_workflow.domain.machines import ENTITY_OF
from iop_workflow.domain.model import MUNICIPALITY_PARTY, Agreement
from iop_workflow.domain.roles import Actor, roles_for
from iop_workflow.domain.states import (
    AgreementState,
    ClaimState,
    DocumentKind,
    FollowUpState,
    PayoutState,
    Role,
)
from iop_workflow.domain.workflow import available_steps, fire

TRIGGERS = sorted(ENTITY_OF)
ENDING = {
    "withdraw",
    "reject",
    "reject_decision",
    "cancel_payout",
    "cancel_follow_up",
    "terminate",
    "decline_renewal",
    "write_off_claim",
}
START_PHASES = (
    AgreementState.INITIATIVE,
    AgreementState.DIALOGUE,
    AgreementState.DECISION,
    AgreementState.SIGNING,
    AgreementState.ACTIVE,
    AgreementState.ACTIVE,
    AgreementState.ACTIVE,
    AgreementState.REPAYMENT,
)
EVERYTHING = frozenset({"agreement", "follow_up", "payout", "claim"})
GATE = frozenset({"follow_up", "payout"})

Key = tuple[str, str]


# --- building the starting point --------------------------------------------------------


@st.composite
def starting_points(
    draw: st.DrawFn, phases: tuple[AgreementState, ...] = START_PHASES
) -> tuple[Agreement, date]:
    municipality = draw(st.sampled_from(sorted(POLICIES)))
    start = date(draw(st.integers(2024, 2029)), draw(st.sampled_from([1, 1, 1, 3, 7, 10])), 1)
    years = draw(st.integers(1, 5))
    longest = cal.max_end_date(start, years)
    end = draw(st.sampled_from([longest, longest, date(longest.year, 6, 30)]))
    if not start <= end <= longest:
        end = longest
    parties = draw(
        st.sampled_from([((1,), (10_000,)), ((1, 2), (5_000, 5_000)), ((2, 1), (7_000, 3_000))])
    )
    phase = draw(st.sampled_from(phases))
    a = agreement_in(
        phase,
        municipality,
        start=start,
        end=end,
        organisations=[organisation(n) for n in parties[0]],
        shares_bp=list(parties[1]),
    )
    return a, last_recorded_day(a)


def last_recorded_day(a: Agreement) -> date:
    """The day the walk that built `a` ended: the random steps continue from there."""
    days = [preparation_day(a) + timedelta(days=14), *(c.raised_on for c in a.claims)]
    days += [p.released_on for p in a.payouts if p.released_on is not None]
    return max(days)


# --- choosing the day, the step, the actor and the input ----------------------------------


def milestones(a: Agreement) -> list[date]:
    days = [a.start, a.end + timedelta(days=1), date(a.end.year, 1, 1)]
    days.append(cal.renewal_decision_deadline(a.end, 3))
    for f in a.follow_ups:
        if f.state not in (FollowUpState.APPROVED, FollowUpState.CANCELLED):
            days += [f.opens_on, f.due_on + timedelta(days=1)]
    for p in a.payouts:
        if p.state in (PayoutState.PLANNED, PayoutState.BLOCKED):
            days.append(p.due_on)
    for c in a.claims:
        days.append(c.due_on + timedelta(days=1))
    return sorted(set(days))


def next_day(draw: st.DrawFn, a: Agreement, today: date) -> date:
    """Mostly the same day or a few days on, often the next dated event, rarely a leap."""
    how = draw(st.integers(0, 19))
    if how < 8:
        return today
    if how < 13:
        return today + timedelta(days=draw(st.integers(1, 20)))
    if how < 19:
        upcoming = [d for d in milestones(a) if d > today][:2]
        return draw(st.sampled_from(upcoming)) if upcoming else today + timedelta(days=30)
    return today + timedelta(days=draw(st.integers(60, 400)))


OPEN_REPORT = (FollowUpState.OPEN, FollowUpState.OVERDUE, FollowUpState.RETURNED)


def progress(a: Agreement, today: date) -> list[tuple[str, str]]:
    """Steps that would take the agreement further on the usual path, as far as can be told."""
    policy = POLICIES[a.municipality]
    found: list[tuple[str, str]] = []
    state = a.state
    follow_ups_done = all(
        f.state in (FollowUpState.APPROVED, FollowUpState.CANCELLED) for f in a.follow_ups
    )
    claims_open = any(c.state in (ClaimState.RAISED, ClaimState.OVERDUE) for c in a.claims)
    if state is AgreementState.INITIATIVE:
        passed = {x.criterion for x in a.assessments if x.verdict.value == "met" and x.motivation}
        missing = [c for c in policy.criteria if c.key not in passed]
        found.append(("assess_criterion", "") if missing else ("start_dialogue", ""))
    nxt = {
        AgreementState.DIALOGUE: "propose_plan",
        AgreementState.ECONOMIC_PLAN: "submit_for_decision",
        AgreementState.DECISION: "approve_decision",
        AgreementState.RENEWAL: "renew",
        AgreementState.TERMINATED: "raise_claim",
    }
    if state in nxt:
        found.append((nxt[state], ""))
    closable = (AgreementState.TERMINATED, AgreementState.ENDED, AgreementState.REPAYMENT)
    if state in closable and follow_ups_done and not claims_open:
        found.append(("close", ""))
    if state is AgreementState.SIGNING:
        found.append(("sign", "") if missing_signatures(a, a.period_no) else ("activate", ""))
    if state in (AgreementState.ACTIVE, AgreementState.RENEWAL, AgreementState.NOT_RENEWED):
        if today > a.end:
            found.append(("end", ""))
        elif state is AgreementState.ACTIVE and today.year == a.end.year:
            found.append(("start_renewal", ""))
    for f in a.follow_ups:
        target = f"year={f.year}"
        have = {d.kind for d in f.documents}
        complete = all(k in have for k in policy.required_documents)
        if f.state is FollowUpState.PLANNED and today >= f.opens_on:
            found.append(("open_follow_up", target))
        elif f.state in OPEN_REPORT or f.state is FollowUpState.SUBMITTED:
            if not complete:
                found.append(("receive_document", target))
            elif f.state is FollowUpState.SUBMITTED:
                found.append(("approve_follow_up", target))
            else:
                found.append(("submit_report", target))
    for p in a.payouts:
        if p.state in (PayoutState.PLANNED, PayoutState.BLOCKED) and today >= p.due_on:
            if payout_block_reason(a, p) is None:
                found.append(("release_payout", f"payout={p.id}"))
            elif p.state is PayoutState.PLANNED:
                found.append(("block_payout", f"payout={p.id}"))
    for c in a.claims:
        if c.state in (ClaimState.RAISED, ClaimState.OVERDUE):
            found.append(("record_claim_paid", f"claim={c.id}"))
    return found


def choose_step(
    draw: st.DrawFn, a: Agreement, today: date, entities: frozenset[str]
) -> tuple[str, str]:
    """(trigger, target) on one of `entities`: often a step on the usual path, mostly
    what the machines allow now, sometimes any step at all."""
    offered = [s for s in available_steps(a) if s.entity in entities]
    ahead = [(t, target) for t, target in progress(a, today) if ENTITY_OF[t] in entities]
    how = draw(st.integers(0, 9))
    if ahead and how < 6:
        return draw(st.sampled_from(ahead))
    if offered and how < 9:
        entities = sorted({s.entity for s in offered})
        entity = draw(st.sampled_from(entities))
        steps = [s for s in offered if s.entity == entity]
        weighted = [s for s in steps for _ in range(1 if s.trigger in ENDING else 8)]
        step = draw(st.sampled_from(weighted))
        return step.trigger, step.target
    return draw(st.sampled_from([t for t in TRIGGERS if ENTITY_OF[t] in entities])), ""


def actor_pool(a: Agreement) -> list[Actor]:
    reps = [representative(p.organisation) for p in a.parties]
    stranger = representative(organisation(3))
    # An officer who carries a representative's name: separation of duties is by person.
    twin = Actor(reps[0].name, Role.OFFICER) if reps else OFFICER
    return [*STAFF, *STAFF, OTHER_OFFICER, *reps, *reps, stranger, twin]


def choose_actor(draw: st.DrawFn, a: Agreement, trigger: str) -> Actor:
    pool = actor_pool(a)
    allowed = [x for x in pool if x.role in roles_for(trigger)]
    if trigger == "sign" and draw(st.integers(0, 4)) > 0:
        missing = missing_signatures(a, a.period_no)
        allowed = [OFFICER] if MUNICIPALITY_PARTY in missing else []
        allowed += [representative(p.organisation) for p in a.parties]
        allowed = [x for x in allowed if x.organisation in (None, *missing)] or pool
    if trigger == "submit_report" and draw(st.integers(0, 4)) > 0:
        allowed = [x for x in allowed if x.role is Role.ORG_REP] or allowed
    if allowed and draw(st.integers(0, 9)) < 9:
        return draw(st.sampled_from(allowed))
    return draw(st.sampled_from(pool))


def target_data(draw: st.DrawFn, a: Agreement, trigger: str, target: str) -> dict[str, Any]:
    entity = ENTITY_OF[trigger]
    if entity == "agreement":
        return {}
    if target:
        key, value = target.split("=")
        return {key: int(value)}
    if entity == "follow_up":
        years = [f.year for f in a.follow_ups] or [a.start.year]
        return {"year": draw(st.sampled_from([*years, years[-1] + 1]))}
    items = a.payouts if entity == "payout" else a.claims
    ids = [item.id for item in items if item.id is not None] or [1]
    return {entity if entity == "payout" else "claim": draw(st.sampled_from(ids))}


def some_day(draw: st.DrawFn, around: date, before: int, after: int) -> date:
    return around + timedelta(days=draw(st.integers(-before, after)))


def some_end(draw: st.DrawFn, a: Agreement, today: date) -> date:
    longest = cal.max_end_date(a.start, POLICIES[a.municipality].max_period_years)
    return draw(
        st.sampled_from(
            [
                a.end,
                longest,
                longest + timedelta(days=1),
                date(max(today.year, a.start.year), 12, 31),
                date(max(today.year, a.start.year) + 1, 6, 30),
            ]
        )
    )


AMOUNTS = st.sampled_from(
    ["300000", "300 000", "150000,50", "80000", "450000", "120000", "200000", "0"]
)


def support_for(draw: st.DrawFn, first: int, last: int) -> dict[str, str]:
    data = {f"support.{y}": draw(AMOUNTS) for y in range(first, last + 1)}
    if draw(st.integers(0, 9)) == 0 and data:
        data.pop(draw(st.sampled_from(sorted(data))))
    return data


def step_data(
    draw: st.DrawFn, a: Agreement, trigger: str, target: str, today: date
) -> dict[str, Any]:
    data = target_data(draw, a, trigger, target)
    policy = POLICIES[a.municipality]
    maybe_reason = draw(st.sampled_from([{}, {"reason": "Beslutat i dialog"}, {"reason": "Skäl"}]))
    if trigger == "assess_criterion":
        keys = [c.key for c in policy.criteria]
        data |= {
            "criterion": draw(st.sampled_from([*keys, *keys, "okänt"])),
            "verdict": draw(st.sampled_from(["met"] * 8 + ["partly_met", "not_met"])),
            "motivation": draw(st.sampled_from(["Uppfyllt", "Finns sedan länge"] * 4 + [" "])),
        }
    elif trigger == "propose_plan":
        if draw(st.booleans()):
            data["end"] = some_end(draw, a, today).isoformat()
    elif trigger == "submit_for_decision":
        end = some_end(draw, a, today) if draw(st.booleans()) else a.end
        if end != a.end:
            data["end"] = end.isoformat()
        data |= support_for(draw, a.start.year, end.year)
    elif trigger in ("approve_decision", "reject_decision", "return_decision"):
        meeting = some_day(draw, today, 20, 1)
        data |= {"meeting_date": meeting.isoformat(), "paragraph": f"§ {draw(st.integers(1, 300))}"}
        if draw(st.booleans()):
            data["minutes_adjusted"] = some_day(draw, meeting, 1, 5).isoformat()
    elif trigger == "sign":
        if draw(st.integers(0, 4)) == 0:
            data["signed_on"] = some_day(draw, today, 3, 1).isoformat()
    elif trigger == "amend":
        data |= {
            "decided_on": some_day(draw, today, 10, 0).isoformat(),
            "paragraph": "§ 77",
            "description": "Tilläggsavtal",
        }
        if draw(st.booleans()):
            data["end"] = draw(
                st.sampled_from([some_end(draw, a, today), some_day(draw, today, 30, 400)])
            ).isoformat()
        for year in draw(st.lists(st.integers(a.start.year, a.end.year), max_size=2)):
            data[f"support.{year}"] = draw(AMOUNTS)
    elif trigger == "renew":
        deadline = cal.renewal_decision_deadline(a.end, policy.renewal_decision_months_before_end)
        meeting = draw(st.sampled_from([min(today, deadline), today, deadline + timedelta(days=1)]))
        years = draw(st.integers(1, 5))
        new_start = a.end + timedelta(days=1)
        new_end = cal.max_end_date(new_start, years) + timedelta(
            days=draw(st.sampled_from([0, 0, 1]))
        )
        data |= {
            "end": new_end.isoformat(),
            "meeting_date": meeting.isoformat(),
            "paragraph": "§ 12",
            **support_for(draw, new_start.year, new_end.year),
        }
    elif trigger == "terminate":
        data |= {"date": some_day(draw, min(today, a.end), 200, 20).isoformat()}
        data |= draw(st.sampled_from([{"reason": "Verksamheten upphör"}] * 4 + [{}]))
    elif trigger == "raise_claim" and a.state is not AgreementState.TERMINATED:
        data |= {"amount": draw(AMOUNTS), "basis": "Outnyttjat stöd"}
        if len(a.parties) > 1 or draw(st.booleans()):
            data["organisation"] = draw(
                st.sampled_from([p.organisation.organisationsnummer for p in a.parties])
            )
    elif trigger == "receive_document":
        follow_up = a.follow_up(data["year"])
        have = {d.kind for d in follow_up.documents} if follow_up else set()
        missing = [k.value for k in policy.required_documents if k not in have]
        data["kind"] = draw(st.sampled_from(missing or [k.value for k in DocumentKind]))
        if draw(st.booleans()):
            data["arrived"] = some_day(draw, today, 20, 1).isoformat()
    elif trigger == "submit_report":
        names = (
            draw(st.lists(st.sampled_from(a.indicators), unique=True))
            if draw(st.integers(0, 4)) == 0
            else list(a.indicators)
        )
        data |= {f"statistics.{n}": str(draw(st.integers(0, 5000))) for n in names}
    elif trigger in ("reject", "return_follow_up", "write_off_claim"):
        data |= draw(st.sampled_from([{"reason": "Skäl"}] * 4 + [{}]))
    else:
        data |= maybe_reason
    if draw(st.integers(0, 29)) == 0:
        data["oväntad"] = "x"  # an input the step does not read
    return data


# --- the invariants ---------------------------------------------------------------------


def states(a: Agreement) -> dict[Key, str]:
    """Every object's state under the key its StateChange (and audit record) uses."""
    keyed: list[tuple[Key, str]] = [(("agreement", entity_key("agreement", a)), a.state.value)]
    keyed += [(("follow_up", entity_key("follow_up", f)), f.state.value) for f in a.follow_ups]
    keyed += [(("payout", entity_key("payout", p)), p.state.value) for p in a.payouts]
    keyed += [(("claim", entity_key("claim", c)), c.state.value) for c in a.claims]
    found = dict(keyed)
    assert len(found) == len(keyed), "two objects of one agreement share an audit key"
    return found


INITIAL = {
    "follow_up": FollowUpState.PLANNED.value,
    "payout": PayoutState.PLANNED.value,
    "claim": ClaimState.RAISED.value,
}


def check_changes_reported(
    before: dict[Key, str], after: dict[Key, str], changes: list[StateChange], trigger: str
) -> None:
    assert changes, f"'{trigger}' was accepted but reported nothing"
    assert changes[0].trigger == trigger, "the step itself is reported first"
    assert set(before) <= set(after), "a step removed a follow-up, payout or claim"
    for key in set(after) - set(before):
        assert after[key] == INITIAL[key[0]], f"{key} was created in state {after[key]}"
    actual = {key: (before[key], after[key]) for key in before if before[key] != after[key]}
    moved = [c for c in changes if c.from_state != c.to_state]
    counted = Counter((c.entity, c.entity_key) for c in moved)
    assert all(n == 1 for n in counted.values()), f"a change reported twice: {counted}"
    reported = {(c.entity, c.entity_key): (c.from_state, c.to_state) for c in moved}
    assert reported == actual, f"'{trigger}': reported {reported}, actual {actual}"
    assert all(c.from_state != c.to_state for c in changes[1:]), "a cascade without a change"


def check_money(a: Agreement, released_amounts: dict[int, int]) -> None:
    amounts = [s.amount_ore for s in a.support]
    amounts += [p.amount_ore for p in a.payouts] + [c.amount_ore for c in a.claims]
    amounts += [c.amount_ore for c in a.contributions] + [o.amount_ore for o in a.other_income]
    assert all(amount >= 0 for amount in amounts), f"a negative amount: {amounts}"
    for p in a.payouts:
        if p.state is PayoutState.RELEASED:
            paid = released_amounts.setdefault(id(p), p.amount_ore)
            assert p.amount_ore == paid, f"released payout {p.covers_from} changed its amount"


def check_gate(a: Agreement) -> None:
    for p in a.payouts:
        if p.state is PayoutState.RELEASED and p.covers_from.year != a.origin.year:
            follow_up = a.follow_up(p.covers_from.year - 1)
            assert follow_up is not None and follow_up.state is FollowUpState.APPROVED, (
                f"payout {p.covers_from} released while follow-up {p.covers_from.year - 1} is "
                f"{follow_up.state.value if follow_up else 'missing'}"
            )


def check_period(a: Agreement) -> None:
    years = POLICIES[a.municipality].max_period_years
    assert cal.period_within_max(a.start, a.end, years), f"period {a.start} – {a.end}"


# --- the property ----------------------------------------------------------------------------


def facts(a: Agreement) -> set[str]:
    """What a walk has reached, to show that the walks go deep."""
    found = {f"agreement:{a.state.value}"}
    found |= {f"follow_up:{f.state.value}" for f in a.follow_ups}
    found |= {f"claim:{c.state.value}" for c in a.claims}
    for p in a.payouts:
        later = p.covers_from.year != a.origin.year
        found.add(f"payout:{p.state.value}" + (":later_year" if later else ""))
    if a.period_no > 1:
        found.add("renewed")
    if a.amendments:
        found.add("amended")
    return found


def walk(
    draw: st.DrawFn, a: Agreement, today: date, entities: frozenset[str] = EVERYTHING
) -> set[str]:
    """Fire a random sequence of steps on `a`, checking the invariants after each."""
    policy = POLICIES[a.municipality]
    released_amounts: dict[int, int] = {}
    check_money(a, released_amounts)
    reached = facts(a)
    for _ in range(draw(st.integers(20, 80), label="steps")):
        today = next_day(draw, a, today)
        trigger, target = choose_step(draw, a, today, entities)
        actor = choose_actor(draw, a, trigger)
        step_input = step_data(draw, a, trigger, target, today)
        before, recorded = states(a), snapshot(a)
        try:
            changes = fire(a, trigger, actor=actor, today=today, policy=policy, data=step_input)
        except IopError:
            assert snapshot(a) == recorded, f"refused '{trigger}' changed the agreement"
        else:
            give_ids(a)
            check_changes_reported(before, states(a), changes, trigger)
        check_gate(a)
        check_period(a)
        check_money(a, released_amounts)
        reached |= facts(a)
    return reached


SETTINGS = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@settings(SETTINGS, max_examples=70)
@given(start=starting_points(), data=st.data())
def test_random_walks_keep_the_gate_the_period_the_audit_and_the_money_right(
    start: tuple[Agreement, date], data: st.DataObject
) -> None:
    for fact in sorted(walk(data.draw, *start)):
        event(fact)


@settings(SETTINGS, max_examples=50)
@given(start=starting_points((AgreementState.ACTIVE,)), data=st.data())
def test_random_follow_up_and_payout_steps_never_pay_a_year_before_the_last_is_approved(
    start: tuple[Agreement, date], data: st.DataObject
) -> None:
    # Only follow-up and payout steps on an active agreement: the walks spend all
    # their time on reports and payouts, so payouts of later years are often due.
    for fact in sorted(walk(data.draw, *start, entities=GATE)):
        event(fact)


@st.composite
def walks(
    draw: st.DrawFn, phases: tuple[AgreementState, ...], entities: frozenset[str]
) -> set[str]:
    a, today = draw(starting_points(phases))
    return walk(draw, a, today, entities)


FIND = settings(
    SETTINGS, max_examples=300, database=None, phases=[Phase.generate], verbosity=Verbosity.quiet
)


@pytest.mark.parametrize(
    ("phases", "entities", "fact"),
    [
        ((AgreementState.ACTIVE,), GATE, "payout:released:later_year"),
        (START_PHASES, EVERYTHING, "renewed"),
        (START_PHASES, EVERYTHING, "claim:paid"),
        (START_PHASES, EVERYTHING, "agreement:closed"),
    ],
    ids=["later-year-payout-released", "renewed", "claim-paid", "closed"],
)
def test_the_random_walks_reach_the_deep_states_the_invariants_are_about(
    phases: tuple[AgreementState, ...], entities: frozenset[str], fact: str
) -> None:
    reached = find(walks(phases, entities), lambda facts: fact in facts, settings=FIND)
    assert fact in reached
