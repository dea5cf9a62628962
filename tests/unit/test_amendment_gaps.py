"""Three gaps around amendments (tilläggsavtal) and closing, through `fire`.

1. A year that an amendment dropped and a later amendment (or a renewal) brings back
   gets its follow-up and its payouts planned again, with the current support.
2. An ended agreement cannot be closed while a payout is still planned or blocked.
3. An amendment cannot lengthen the period without support for the new years.
"""

from __future__ import annotations

from datetime import date

import pytest
from factories import (
    OFFICER,
    POLICIES,
    SECRETARY,
    SYSTEM,
    agreement_in,
    approve_follow_up_of,
    decision_data,
    fire_step,
    follow_up,
    organisation,
    payouts_covering_year,
    refused,
    release,
    support_data,
)

from iop_workflow.domain import machines
from iop_workflow.domain.context import StateChange, StepContext, StepData
from iop_workflow.domain.errors import GuardRefused, InvalidInput, InvalidStep, NotPermitted
from iop_workflow.domain.firing import fire_machine
from iop_workflow.domain.model import Agreement
from iop_workflow.domain.roles import PERMISSIONS
from iop_workflow.domain.schedule import sync_schedule
from iop_workflow.domain.states import AgreementState, CancelCause, FollowUpState, PayoutState

A, F, P = AgreementState, FollowUpState, PayoutState


def amend(a: Agreement, today: date, paragraph: str = "§ 80", **extra: str) -> list[StateChange]:
    data = {
        "decided_on": today.isoformat(),
        "paragraph": paragraph,
        "description": "Tilläggsavtal",
        **extra,
    }
    return fire_step(a, "amend", actor=SECRETARY, today=today, data=data)


def follow_up_states(a: Agreement) -> dict[int, FollowUpState]:
    return {f.year: f.state for f in a.follow_ups}


def payout_states(a: Agreement, year: int) -> list[tuple[PayoutState, int]]:
    return [(p.state, p.amount_ore) for p in payouts_covering_year(a, year)]


# --- 1. a year that comes back into the period is planned again ------------------------


def test_lengthening_again_plans_the_follow_ups_and_payouts_an_amendment_cancelled() -> None:
    a = agreement_in(A.ACTIVE)  # 2027–2031, 300 000 kr a year
    amend(a, date(2027, 6, 1), end="2028-12-31")
    assert follow_up_states(a)[2029] is F.CANCELLED
    assert payout_states(a, 2029) == [(P.CANCELLED, 15_000_000)] * 2

    changes = amend(a, date(2027, 9, 1), "§ 95", end="2030-12-31")

    assert follow_up_states(a) == {
        2027: F.PLANNED,
        2028: F.PLANNED,
        2029: F.PLANNED,
        2030: F.PLANNED,
        2031: F.CANCELLED,
    }
    assert follow_up(a, 2030).opens_on == date(2030, 11, 1)
    assert follow_up(a, 2030).due_on == date(2031, 3, 31)
    for year in (2029, 2030):
        assert payout_states(a, year) == [(P.PLANNED, 15_000_000)] * 2
    assert payout_states(a, 2031) == [(P.CANCELLED, 15_000_000)] * 2
    # Each comes back as a state change of its own, so each gets an audit record.
    moved = [(c.entity, c.entity_key, c.trigger, c.from_state, c.to_state) for c in changes[1:]]
    assert moved[:2] == [
        ("follow_up", "2029", "reinstate_follow_up", "cancelled", "planned"),
        ("follow_up", "2030", "reinstate_follow_up", "cancelled", "planned"),
    ]
    reinstated = [m for m in moved if m[2] == "reinstate_payout"]
    assert len(reinstated) == 4 and len(moved) == 6
    assert all(m[3:] == ("cancelled", "planned") for m in reinstated)


def test_a_payout_that_comes_back_follows_the_current_support_of_its_year() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2029-12-31", **{"support.2029": "420000"})
    assert payout_states(a, 2029) == [(P.PLANNED, 21_000_000)] * 2
    assert follow_up_states(a)[2029] is F.PLANNED


def test_a_year_brought_back_in_part_plans_only_the_parts_inside_the_period() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2029-06-30")
    (first, second) = sorted(payouts_covering_year(a, 2029), key=lambda p: p.covers_from)
    assert (first.state, first.covers_to, first.amount_ore) == (
        P.PLANNED,
        date(2029, 6, 30),
        30_000_000,  # the year's support, for the one part of 2029 inside the period
    )
    assert second.state is P.CANCELLED
    assert follow_up(a, 2029).opens_on == date(2029, 7, 1)


def test_a_reinstated_payout_is_released_on_its_due_day_once_its_gate_holds() -> None:
    a = agreement_in(A.ACTIVE, end=date(2028, 12, 31))
    amend(a, date(2027, 6, 1), end="2027-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2028-12-31")
    approve_follow_up_of(a, 2027, today=date(2028, 2, 15))
    (first_2028, _) = sorted(payouts_covering_year(a, 2028), key=lambda p: p.covers_from)
    release(a, first_2028)
    assert first_2028.amount_ore == 15_000_000


def test_a_renewal_also_plans_again_the_years_an_amendment_dropped() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2029-12-31")
    assert follow_up_states(a)[2030] is F.CANCELLED
    fire_step(a, "start_renewal", today=date(2029, 1, 10))
    fire_step(
        a,
        "renew",
        actor=SECRETARY,
        today=date(2029, 3, 1),
        data={
            "end": "2031-12-31",
            **decision_data(date(2029, 2, 25), "§ 30"),
            **support_data(date(2030, 1, 1), date(2031, 12, 31), 360_000),
        },
    )
    assert {y: s for y, s in follow_up_states(a).items() if y >= 2030} == {
        2030: F.PLANNED,
        2031: F.PLANNED,
    }
    for year in (2030, 2031):
        assert payout_states(a, year) == [(P.PLANNED, 18_000_000)] * 2


def test_a_payout_an_officer_cancelled_inside_the_period_stays_cancelled() -> None:
    a = agreement_in(A.ACTIVE)
    cancelled = min(payouts_covering_year(a, 2029), key=lambda p: p.covers_from)
    fire_step(
        a, "cancel_payout", actor=OFFICER, today=date(2027, 5, 2), data={"payout": cancelled.id}
    )
    amend(a, date(2027, 6, 1), end="2029-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2031-12-31")
    assert cancelled.state is P.CANCELLED  # cancelled by hand, never by an amendment
    assert [s for s, _ in payout_states(a, 2029)] == [P.CANCELLED, P.PLANNED]
    assert payout_states(a, 2030) == [(P.PLANNED, 15_000_000)] * 2
    assert follow_up_states(a)[2031] is F.PLANNED


def test_a_payout_cancelled_by_hand_stays_cancelled_when_a_cut_year_comes_back() -> None:
    """Cancelled by hand inside the period, then cut and brought back: still cancelled.

    The cut happens after the hand, so the payout lies after the end the period had
    before the bringing-back step: only its recorded cause tells the two apart."""
    a = agreement_in(A.ACTIVE)  # 2027–2031
    by_hand = min(payouts_covering_year(a, 2029), key=lambda p: p.covers_from)
    fire_step(
        a, "cancel_payout", actor=OFFICER, today=date(2027, 5, 2), data={"payout": by_hand.id}
    )
    amend(a, date(2027, 6, 1), end="2028-12-31")
    changes = amend(a, date(2027, 9, 1), "§ 95", end="2031-12-31")

    assert by_hand.state is P.CANCELLED
    assert by_hand.cancel_cause is CancelCause.MANUAL
    assert [s for s, _ in payout_states(a, 2029)] == [P.CANCELLED, P.PLANNED]
    assert payout_states(a, 2030) == [(P.PLANNED, 15_000_000)] * 2
    assert str(by_hand.id) not in {c.entity_key for c in changes if c.entity == "payout"}


def test_a_follow_up_cancelled_by_hand_stays_cancelled_when_its_cut_year_comes_back() -> None:
    a = agreement_in(A.ACTIVE)
    fire_step(a, "cancel_follow_up", actor=OFFICER, today=date(2027, 5, 2), data={"year": 2029})
    amend(a, date(2027, 6, 1), end="2028-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2031-12-31")

    assert follow_up(a, 2029).state is F.CANCELLED
    assert follow_up(a, 2029).cancel_cause is CancelCause.MANUAL
    assert {y: s for y, s in follow_up_states(a).items() if y >= 2030} == {
        2030: F.PLANNED,
        2031: F.PLANNED,
    }


def test_every_cancellation_records_its_cause() -> None:
    a = agreement_in(A.ACTIVE)  # 2027–2031
    assert all(p.cancel_cause is None for p in a.payouts)
    assert all(f.cancel_cause is None for f in a.follow_ups)
    by_hand = min(payouts_covering_year(a, 2028), key=lambda p: p.covers_from)
    fire_step(
        a, "cancel_payout", actor=OFFICER, today=date(2027, 5, 2), data={"payout": by_hand.id}
    )
    fire_step(a, "cancel_follow_up", actor=OFFICER, today=date(2027, 5, 2), data={"year": 2028})
    assert (by_hand.cancel_cause, follow_up(a, 2028).cancel_cause) == (CancelCause.MANUAL,) * 2

    amend(a, date(2027, 6, 1), end="2029-12-31")  # cuts 2030 and 2031
    for year in (2030, 2031):
        assert follow_up(a, year).cancel_cause is CancelCause.PERIOD
        assert {p.cancel_cause for p in payouts_covering_year(a, year)} == {CancelCause.PERIOD}

    fire_step(
        a, "terminate", today=date(2027, 7, 1), data={"date": "2027-06-30", "reason": "Upphör"}
    )
    assert follow_up(a, 2029).cancel_cause is CancelCause.TERMINATION
    assert {p.cancel_cause for p in payouts_covering_year(a, 2029)} == {CancelCause.TERMINATION}
    assert {p.cancel_cause for p in payouts_covering_year(a, 2027) if p.covers_from.month > 6} == {
        CancelCause.TERMINATION
    }
    # What was cancelled before keeps the cause it was cancelled for.
    assert (by_hand.cancel_cause, follow_up(a, 2028).cancel_cause) == (CancelCause.MANUAL,) * 2
    assert follow_up(a, 2030).cancel_cause is CancelCause.PERIOD
    assert all((x.state is P.CANCELLED) == (x.cancel_cause is not None) for x in a.payouts)
    assert all((x.state is F.CANCELLED) == (x.cancel_cause is not None) for x in a.follow_ups)


def test_a_reinstated_follow_up_or_payout_has_no_cause_of_cancellation() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    assert follow_up(a, 2029).cancel_cause is CancelCause.PERIOD
    amend(a, date(2027, 9, 1), "§ 95", end="2029-12-31")
    assert follow_up(a, 2029).state is F.PLANNED
    assert follow_up(a, 2029).cancel_cause is None
    assert [(p.state, p.cancel_cause) for p in payouts_covering_year(a, 2029)] == [
        (P.PLANNED, None)
    ] * 2
    assert follow_up(a, 2030).cancel_cause is CancelCause.PERIOD


def test_a_cancellation_from_before_causes_were_recorded_falls_back_to_the_dates() -> None:
    """A row cancelled before migration 0004 has no cause: the dates decide, as before."""
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    for item in [follow_up(a, 2029), *payouts_covering_year(a, 2029)]:
        item.cancel_cause = None
    amend(a, date(2027, 9, 1), "§ 95", end="2029-12-31")
    assert follow_up(a, 2029).state is F.PLANNED
    assert payout_states(a, 2029) == [(P.PLANNED, 15_000_000)] * 2


def test_an_amendment_that_keeps_the_period_brings_nothing_back() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    changes = amend(a, date(2027, 9, 1), "§ 95", **{"support.2028": "320000"})
    assert len(changes) == 1
    assert follow_up_states(a)[2029] is F.CANCELLED


def test_nothing_a_termination_cancelled_is_ever_reinstated() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    amend(a, date(2027, 9, 1), "§ 95", end="2031-12-31")
    fire_step(
        a, "terminate", today=date(2028, 2, 1), data={"date": "2028-01-31", "reason": "Upphör"}
    )
    assert all(p.state is P.CANCELLED for p in a.payouts)
    cancelled_years = {y for y, s in follow_up_states(a).items() if s is F.CANCELLED}
    assert cancelled_years == {2029, 2030, 2031}
    # The schedule sync brings nothing back, even given an earlier end ...
    ctx = StepContext(
        a, POLICIES[a.municipality], SYSTEM, date(2028, 3, 1), "sync", StepData({}, "sync"), a
    )
    sync_schedule(ctx, previous_end=date(2027, 12, 31))
    assert ctx.changes == []
    # ... and the machine itself refuses to reinstate on a terminated agreement.
    payout = max(a.payouts, key=lambda p: p.covers_from)
    with pytest.raises(GuardRefused, match="terminated 2028-01-31"):
        fire_machine(ctx, "payout", payout, "reinstate_payout")
    with pytest.raises(GuardRefused, match="terminated 2028-01-31"):
        fire_machine(ctx, "follow_up", follow_up(a, 2030), "reinstate_follow_up")
    assert payout.state is P.CANCELLED and follow_up(a, 2030).state is F.CANCELLED


@pytest.mark.parametrize("trigger", ["reinstate_follow_up", "reinstate_payout"])
def test_only_the_schedule_sync_reinstates(trigger: str) -> None:
    assert trigger not in PERMISSIONS  # no role, the system included, may fire it
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    target = {"year": 2030} if trigger == "reinstate_follow_up" else {"payout": 10}
    for actor in (OFFICER, SECRETARY, SYSTEM):
        refused(a, trigger, actor=actor, today=date(2027, 7, 1), data=target, error=NotPermitted)


def test_every_sync_only_transition_goes_from_cancelled_to_planned() -> None:
    pairs = {
        (t["trigger"], t["source"], t["dest"])
        for t in [*machines.FOLLOW_UP_SYNC_TRANSITIONS, *machines.PAYOUT_SYNC_TRANSITIONS]
    }
    assert pairs == {
        ("reinstate_follow_up", F.CANCELLED, F.PLANNED),
        ("reinstate_payout", P.CANCELLED, P.PLANNED),
    }
    assert machines.SYNC_ONLY_TRIGGERS == {"reinstate_follow_up", "reinstate_payout"}
    assert machines.triggers_from("payout", P.CANCELLED) == ["reinstate_payout"]


def test_a_step_on_a_cancelled_payout_does_not_suggest_the_schedule_s_own_step() -> None:
    a = agreement_in(A.ACTIVE)
    amend(a, date(2027, 6, 1), end="2028-12-31")
    [payout, *_] = [p for p in a.payouts if p.state is P.CANCELLED]
    payout.id = 10
    error = refused(
        a, "release_payout", actor=OFFICER, today=date(2027, 7, 1), data={"payout": 10},
        error=InvalidStep,
    )  # fmt: skip
    assert error.allowed == []
    assert "allowed now: none" in str(error) and "reinstate" not in str(error)


# --- 2. closing an ended agreement with a payout still to come --------------------------


def ended_before_its_last_payout() -> Agreement:
    """2027-01-01 – 2028-03-31, its payout for 2028-01-01–03-31 still due 2028-04-28:
    a row planned before instalments were kept inside the period (today it would be
    due 2028-03-31, and approving the last follow-up would release it)."""
    a = agreement_in(A.ACTIVE, end=date(2028, 3, 31))
    for payout in payouts_covering_year(a, 2027):
        release(a, payout)
    approve_follow_up_of(a, 2027, today=date(2028, 2, 15))
    fire_step(a, "end", today=date(2028, 4, 1))
    for payout in payouts_covering_year(a, 2028):
        payout.due_on = date(2028, 4, 28)
    approve_follow_up_of(a, 2028, today=date(2028, 4, 3))
    return a


def test_an_ended_agreement_is_not_closed_while_a_payout_is_planned() -> None:
    a = ended_before_its_last_payout()
    (last,) = payouts_covering_year(a, 2028)
    error = refused(a, "close", today=date(2028, 4, 10))
    assert error.reason == (
        f"payout {last.id} due 2028-04-28 of 300 000,00 kr is still planned; "
        "release or cancel it (cancel_payout) before closing"
    )
    release(a, last)
    fire_step(a, "close", today=date(2028, 4, 28))
    assert a.state is A.CLOSED


def test_the_refusal_names_every_open_payout() -> None:
    a = agreement_in(
        A.ACTIVE, end=date(2028, 3, 31), organisations=[organisation(1), organisation(2)]
    )
    for payout in payouts_covering_year(a, 2027):
        release(a, payout)
    approve_follow_up_of(a, 2027, today=date(2028, 2, 15))
    fire_step(a, "end", today=date(2028, 4, 1))
    first, second = payouts_covering_year(a, 2028)
    first.due_on = second.due_on = date(2028, 4, 28)  # planned before the end cap
    approve_follow_up_of(a, 2028, today=date(2028, 4, 3))
    error = refused(a, "close", today=date(2028, 4, 10))
    assert error.reason == (
        f"payouts still open: payout {first.id} due 2028-04-28 of 150 000,00 kr (planned), "
        f"payout {second.id} due 2028-04-28 of 150 000,00 kr (planned); "
        "release or cancel them (cancel_payout) before closing"
    )


def test_a_cancelled_payout_does_not_stop_the_closing() -> None:
    a = ended_before_its_last_payout()
    (last,) = payouts_covering_year(a, 2028)
    fire_step(a, "cancel_payout", actor=OFFICER, today=date(2028, 4, 10), data={"payout": last.id})
    fire_step(a, "close", today=date(2028, 4, 10))
    assert a.state is A.CLOSED


def test_closing_after_a_claim_on_an_ended_agreement_also_waits_for_open_payouts() -> None:
    a = ended_before_its_last_payout()
    fire_step(
        a,
        "raise_claim",
        today=date(2028, 4, 5),
        data={"amount": "1 000", "basis": "Outnyttjat 2027"},
    )
    (claim,) = a.claims
    fire_step(a, "record_claim_paid", today=date(2028, 4, 6), data={"claim": claim.id})
    error = refused(a, "close", today=date(2028, 4, 10))
    assert "is still planned" in error.reason


# --- 3. an amendment must give support for every year of the new period -----------------


@pytest.mark.parametrize("given", [{}, {"support.2030": "0"}], ids=["missing", "zero"])
def test_an_amendment_lengthening_the_period_without_support_is_refused_naming_the_year(
    given: dict[str, str],
) -> None:
    a = agreement_in(A.ACTIVE, end=date(2029, 12, 31))
    error = refused(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),
        data={"decided_on": "2027-06-01", "paragraph": "§ 80", "description": "Längre",
              "end": "2030-12-31", **given},
        error=InvalidInput,
    )  # fmt: skip
    assert error.field == "support.2030"
    assert str(error) == (
        "step 'amend' field 'support.2030': no municipal support for 2030, a year of the "
        "amended period 2027-01-01 – 2030-12-31"
    )


def test_an_amendment_lengthening_the_period_with_support_plans_the_new_year() -> None:
    a = agreement_in(A.ACTIVE, end=date(2029, 12, 31))
    amend(a, date(2027, 6, 1), end="2030-12-31", **{"support.2030": "250 000"})
    assert a.end == date(2030, 12, 31)
    assert payout_states(a, 2030) == [(P.PLANNED, 12_500_000)] * 2
    assert follow_up_states(a)[2030] is F.PLANNED


def test_a_too_long_period_is_still_refused_by_its_rule_first() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),
        data={"decided_on": "2027-06-01", "paragraph": "§ 80", "description": "Längre",
              "end": "2032-03-31"},
    )  # fmt: skip
    assert "maximum of 5 years" in error.reason
