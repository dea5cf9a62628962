"""Money through `fire`: payouts and their gate, termination, repayment claims, closing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from factories import (
    MANAGER,
    OFFICER,
    ORGNRS,
    SYSTEM,
    agreement_in,
    approve_follow_up_of,
    fire_step,
    first_payout,
    follow_up,
    open_follow_up_of,
    organisation,
    payouts_covering_year,
    refused,
    release,
    snapshot,
    submitted_follow_up_of,
)

from iop_workflow.domain.errors import InvalidInput, InvalidStep, NotFound, NotPermitted
from iop_workflow.domain.machines import CLAIM_TRANSITIONS, PAYOUT_TRANSITIONS
from iop_workflow.domain.model import Agreement, Payout, RepaymentClaim
from iop_workflow.domain.states import (
    AgreementState,
    ClaimKind,
    ClaimState,
    FollowUpState,
    PayoutState,
)

A, P, C = AgreementState, PayoutState, ClaimState
TERMINATE = {"reason": "Verksamheten har upphört"}


def _pairs(table: list[dict[str, object]]) -> dict[tuple[str, object], object]:
    pairs: dict[tuple[str, object], object] = {}
    for t in table:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            pairs[(str(t["trigger"]), source)] = t["dest"] or source
    return pairs


def second_year_payout(a: Agreement) -> Payout:
    """The payout covering 2028-01-01–2028-06-30, due 28 April 2028."""
    return min(payouts_covering_year(a, 2028), key=lambda p: p.covers_from)


def blocked_payout(municipality: str = "mjolby") -> tuple[Agreement, Payout]:
    a = agreement_in(A.ACTIVE, municipality)
    p = second_year_payout(a)
    fire_step(a, "block_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    return a, p


# --- every payout transition ---------------------------------------------------------------


def _release_planned(m: str) -> tuple[Agreement, Payout, str, date]:
    a = agreement_in(A.ACTIVE, m)
    p = first_payout(a)
    return a, p, "release_payout", p.due_on


def _release_blocked(m: str) -> tuple[Agreement, Payout, str, date]:
    a, p = blocked_payout(m)
    approve_follow_up_of(a, 2027)
    return a, p, "release_payout", date(2028, 4, 29)


def _on_payout(
    trigger: str, source: PayoutState
) -> Callable[[str], tuple[Agreement, Payout, str, date]]:
    def build(m: str) -> tuple[Agreement, Payout, str, date]:
        if source is P.BLOCKED:
            a, p = blocked_payout(m)
        else:
            a = agreement_in(A.ACTIVE, m)
            p = second_year_payout(a)
        return a, p, trigger, date(2028, 5, 2)

    return build


PAYOUT_CASES = {
    ("release_payout", P.PLANNED): _release_planned,
    ("release_payout", P.BLOCKED): _release_blocked,
    ("block_payout", P.PLANNED): _on_payout("block_payout", P.PLANNED),
    ("block_payout", P.BLOCKED): _on_payout("block_payout", P.BLOCKED),
    ("cancel_payout", P.PLANNED): _on_payout("cancel_payout", P.PLANNED),
    ("cancel_payout", P.BLOCKED): _on_payout("cancel_payout", P.BLOCKED),
}


def test_every_payout_transition_of_the_machine_has_a_test_case() -> None:
    assert set(PAYOUT_CASES) == set(_pairs(PAYOUT_TRANSITIONS))


@pytest.mark.parametrize("municipality", ["mjolby", "kramfors"])
@pytest.mark.parametrize(("trigger", "source"), sorted(PAYOUT_CASES), ids=str)
def test_each_payout_step_moves_from_its_source_to_its_destination(
    trigger: str, source: PayoutState, municipality: str
) -> None:
    a, p, trigger, today = PAYOUT_CASES[(trigger, source)](municipality)
    assert p.state is source
    amount = p.amount_ore

    changes = fire_step(a, trigger, actor=SYSTEM, today=today, data={"payout": p.id})

    dest = _pairs(PAYOUT_TRANSITIONS)[(trigger, source)]
    assert p.state is dest
    assert p.amount_ore == amount
    (change,) = changes
    assert (change.entity, change.trigger, change.from_state, change.to_state) == (
        "payout",
        trigger,
        source.value,
        dest.value,
    )
    assert change.entity_key == str(p.id)  # the audit trail names the payout by its id


# --- the payout gate ----------------------------------------------------------------------


def test_payouts_of_the_first_calendar_year_need_only_the_decision_and_the_signatures() -> None:
    a = agreement_in(A.ACTIVE)
    first_year = payouts_covering_year(a, 2027)
    for p in first_year:
        release(a, p)
    assert [(p.state, p.released_on, p.released_by) for p in first_year] == [
        (P.RELEASED, date(2027, 4, 30), SYSTEM.name),
        (P.RELEASED, date(2027, 10, 29), SYSTEM.name),
    ]
    assert follow_up(a, 2027).state is FollowUpState.PLANNED


def test_an_officer_may_release_a_due_payout_by_hand() -> None:
    a = agreement_in(A.ACTIVE)
    p = first_payout(a)
    fire_step(a, "release_payout", actor=OFFICER, today=date(2027, 5, 3), data={"payout": p.id})
    assert (p.state, p.released_by, p.released_on) == (P.RELEASED, OFFICER.name, date(2027, 5, 3))


def test_a_payout_cannot_be_released_before_its_due_day() -> None:
    a = agreement_in(A.ACTIVE)
    p = first_payout(a)
    error = refused(
        a, "release_payout", actor=SYSTEM, today=date(2027, 4, 29), data={"payout": p.id}
    )
    assert error.reason == f"payout {p.id} is due 2027-04-30"


def test_a_payout_cannot_be_blocked_before_its_due_day() -> None:
    a = agreement_in(A.ACTIVE)
    p = second_year_payout(a)
    error = refused(a, "block_payout", actor=SYSTEM, today=date(2028, 4, 27), data={"payout": p.id})
    assert error.reason == f"payout {p.id} is due 2028-04-28"


def test_a_second_year_payout_is_blocked_until_the_follow_up_of_the_first_year_is_approved() -> (
    None
):
    a = agreement_in(A.ACTIVE)
    open_follow_up_of(a, 2027)
    p = second_year_payout(a)
    reason = (
        "follow-up 2027 is open (report due 2028-03-31); "
        "payouts in 2028 are released when it is approved"
    )

    error = refused(a, "release_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    assert error.reason == reason

    fire_step(a, "block_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    assert (p.state, p.blocked_reason) == (P.BLOCKED, reason)

    error = refused(
        a, "release_payout", actor=SYSTEM, today=date(2028, 5, 1), data={"payout": p.id}
    )
    assert error.reason == reason
    assert p.state is P.BLOCKED


def test_approving_the_follow_up_releases_the_due_payouts_it_was_holding_back() -> None:
    a = agreement_in(A.ACTIVE)
    held = second_year_payout(a)
    fire_step(a, "block_payout", actor=SYSTEM, today=held.due_on, data={"payout": held.id})
    later = max(payouts_covering_year(a, 2028), key=lambda p: p.covers_from)
    f = submitted_follow_up_of(a, 2027, today=date(2028, 5, 10))

    changes = fire_step(
        a, "approve_follow_up", actor=MANAGER, today=date(2028, 5, 12), data={"year": 2027}
    )

    assert f.state is FollowUpState.APPROVED
    assert (held.state, held.released_on, held.released_by, held.blocked_reason) == (
        P.RELEASED,
        date(2028, 5, 12),
        MANAGER.name,
        None,
    )
    assert later.state is P.PLANNED  # due 31 October: released on its day, not before
    # The first year's payouts, never released by hand, are due too: they go out with it.
    first_year = payouts_covering_year(a, 2027)
    assert all(p.state is P.RELEASED for p in first_year)
    assert [(c.entity, c.entity_key, c.from_state, c.to_state, c.reason) for c in changes] == [
        ("follow_up", "2027", "submitted", "approved", ""),
        *(
            ("payout", str(p.id), "planned", "released", "follow-up 2027 approved")
            for p in first_year
        ),
        ("payout", str(held.id), "blocked", "released", "follow-up 2027 approved"),
    ]


@pytest.mark.parametrize(
    ("state", "shown"),
    [(FollowUpState.PLANNED, "planned"), (FollowUpState.OVERDUE, "overdue")],
)
def test_the_block_reason_names_the_follow_up_year_and_its_state(
    state: FollowUpState, shown: str
) -> None:
    a = agreement_in(A.ACTIVE)
    if state is FollowUpState.OVERDUE:
        open_follow_up_of(a, 2027)
        fire_step(
            a, "mark_report_overdue", actor=SYSTEM, today=date(2028, 4, 1), data={"year": 2027}
        )
    p = second_year_payout(a)
    fire_step(a, "block_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    assert p.blocked_reason is not None
    assert p.blocked_reason.startswith(f"follow-up 2027 is {shown} (report due 2028-03-31)")


def test_a_payout_of_year_three_waits_for_the_follow_up_of_year_two_not_year_one() -> None:
    a = agreement_in(A.ACTIVE)
    approve_follow_up_of(a, 2027)
    p = min(payouts_covering_year(a, 2029), key=lambda x: x.covers_from)
    error = refused(a, "release_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    assert error.reason.startswith("follow-up 2028 is planned")


def test_a_payout_whose_gate_holds_cannot_be_blocked() -> None:
    a = agreement_in(A.ACTIVE)
    p = first_payout(a)
    error = refused(a, "block_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    assert error.reason == f"payout {p.id} may be released; there is nothing to block"


def test_only_the_scheduled_flow_blocks_payouts() -> None:
    a = agreement_in(A.ACTIVE)
    p = second_year_payout(a)
    refused(
        a, "block_payout", actor=OFFICER, today=p.due_on, data={"payout": p.id}, error=NotPermitted
    )


def test_a_released_payout_can_be_neither_released_again_nor_cancelled() -> None:
    a = agreement_in(A.ACTIVE)
    p = first_payout(a)
    release(a, p)
    for trigger in ("release_payout", "cancel_payout", "block_payout"):
        error = refused(
            a,
            trigger,
            actor=SYSTEM,
            today=date(2027, 5, 1),
            data={"payout": p.id},
            error=InvalidStep,
        )
        assert "'released'" in str(error)


def test_an_unknown_payout_is_not_found() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a,
        "release_payout",
        actor=SYSTEM,
        today=date(2027, 5, 1),
        data={"payout": 999},
        error=NotFound,
    )
    assert "payout 999" in str(error)


def test_an_ended_agreement_still_pays_a_blocked_payout_once_the_follow_up_is_approved() -> None:
    a = agreement_in(A.ACTIVE, start=date(2027, 1, 1), end=date(2028, 12, 31))
    p = second_year_payout(a)
    fire_step(a, "block_payout", actor=SYSTEM, today=p.due_on, data={"payout": p.id})
    fire_step(a, "end", actor=SYSTEM, today=date(2029, 1, 1))
    approve_follow_up_of(a, 2027, today=date(2029, 1, 10))
    assert (a.state, p.state, p.released_on) == (A.ENDED, P.RELEASED, date(2029, 1, 10))


# --- termination ------------------------------------------------------------------------------


def test_termination_cancels_every_unreleased_payout_and_the_later_follow_ups() -> None:
    a = agreement_in(A.ACTIVE)
    first = first_payout(a)
    release(a, first)
    changes = fire_step(
        a,
        "terminate",
        actor=MANAGER,
        today=date(2028, 2, 1),
        data={"date": "2028-01-31", **TERMINATE},
    )
    assert a.state is A.TERMINATED
    assert (a.terminated_on, a.termination_reason) == (date(2028, 1, 31), TERMINATE["reason"])
    assert first.state is P.RELEASED
    assert all(p.state is P.CANCELLED for p in a.payouts if p is not first)
    assert [(f.year, f.state) for f in a.follow_ups] == [
        (2027, FollowUpState.PLANNED),
        (2028, FollowUpState.PLANNED),
        (2029, FollowUpState.CANCELLED),
        (2030, FollowUpState.CANCELLED),
        (2031, FollowUpState.CANCELLED),
    ]
    # the termination, 3 follow-ups and 9 payouts: each change reported once
    assert len(changes) == 1 + 3 + 9
    assert changes[0].to_state == "terminated"
    cancelled = [c for c in changes if c.entity == "payout"]
    assert {c.reason for c in cancelled} == {"agreement terminated 2028-01-31"}
    assert follow_up(a, 2028).opens_on == date(2028, 2, 1)


def test_a_termination_date_outside_the_period_is_refused() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a, "terminate", today=date(2027, 3, 1), data={"date": "2026-12-31", **TERMINATE}
    )
    assert error.reason == "termination date 2026-12-31 is outside the period"


def test_termination_needs_a_reason() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(a, "terminate", today=date(2027, 3, 1), data={"date": "2027-03-01"})
    assert error.reason == "a reason is required (--set reason=...)"


def test_termination_needs_a_date() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(a, "terminate", today=date(2027, 3, 1), data=TERMINATE, error=InvalidInput)
    assert error.field == "date"


def test_termination_repays_pro_rata_as_in_the_rules_example() -> None:
    # 150 000 kr covering 2020-01-01–2020-06-30, terminated 2020-05-31 → 24 725,27 kr
    a = agreement_in(A.ACTIVE, start=date(2020, 1, 1), end=date(2024, 12, 31))
    p = first_payout(a)
    assert (p.covers_from, p.covers_to, p.amount_ore) == (
        date(2020, 1, 1),
        date(2020, 6, 30),
        15_000_000,
    )
    release(a, p)
    fire_step(a, "terminate", today=date(2020, 6, 2), data={"date": "2020-05-31", **TERMINATE})

    changes = fire_step(a, "raise_claim", today=date(2020, 6, 3))

    assert a.state is A.REPAYMENT
    (claim,) = a.claims
    assert (claim.kind, claim.amount_ore, claim.state) == (
        ClaimKind.TERMINATION,
        2_472_527,
        C.RAISED,
    )
    assert claim.basis == ("150 000,00 kr × 30/182 days (2020-06-01–2020-06-30) = 24 725,27 kr")
    assert (claim.raised_on, claim.due_on, claim.organisation_id) == (
        date(2020, 6, 3),
        date(2020, 7, 3),
        1,
    )
    assert [(c.entity, c.from_state, c.to_state) for c in changes] == [
        ("agreement", "terminated", "repayment")
    ]


def test_each_party_organisation_gets_its_own_pro_rata_claim() -> None:
    a = agreement_in(
        A.ACTIVE,
        start=date(2020, 1, 1),
        end=date(2024, 12, 31),
        organisations=[organisation(1), organisation(2)],
        shares_bp=[5000, 5000],
    )
    for p in payouts_covering_year(a, 2020)[:2]:
        release(a, p)
    fire_step(a, "terminate", today=date(2020, 6, 2), data={"date": "2020-05-31", **TERMINATE})
    fire_step(a, "raise_claim", today=date(2020, 6, 3))
    assert sorted((c.organisation_id, c.amount_ore) for c in a.claims) == [
        (1, 1_236_264),  # 75 000 kr × 30/182, rounded half away from zero
        (2, 1_236_264),
    ]


def test_a_claim_is_refused_when_nothing_was_paid_for_the_time_after_termination() -> None:
    a = agreement_in(A.TERMINATED)  # terminated before any payout
    error = refused(a, "raise_claim", today=date(2027, 4, 1))
    assert error.reason == (
        "nothing to repay: the computed claim is 0,00 kr; close the agreement instead"
    )


def test_a_terminated_agreement_owing_money_cannot_be_closed_before_the_claim_is_raised() -> None:
    a = agreement_in(A.TERMINATED, release_first=True)
    approve_follow_up_of(a, 2027)
    error = refused(a, "close", today=date(2028, 3, 1))
    assert error.reason == "24 861,88 kr is owed back; raise the claim (raise_claim) first"


def test_a_terminated_agreement_is_closed_only_after_its_last_follow_up() -> None:
    a = agreement_in(A.TERMINATED)
    error = refused(a, "close", today=date(2027, 5, 1))
    assert error.reason == "follow-up 2027 is planned, not approved"
    approve_follow_up_of(a, 2027)
    fire_step(a, "close", today=date(2028, 3, 1))
    assert a.state is A.CLOSED


# --- claims after the end and closing -----------------------------------------------------


def test_unused_support_found_after_the_end_becomes_a_claim_on_the_named_party() -> None:
    a = agreement_in(A.ENDED, organisations=[organisation(1), organisation(2)])
    fire_step(
        a,
        "raise_claim",
        today=date(2032, 4, 15),
        data={"amount": "12 500,50", "basis": "Outnyttjat 2031", "organisation": ORGNRS[2]},
    )
    (claim,) = a.claims
    assert (claim.kind, claim.organisation_id, claim.amount_ore, claim.basis) == (
        ClaimKind.UNUSED,
        2,
        1_250_050,
        "Outnyttjat 2031",
    )
    assert claim.due_on == date(2032, 5, 15)


def test_with_several_parties_the_claim_must_name_the_organisation() -> None:
    a = agreement_in(A.ENDED, organisations=[organisation(1), organisation(2)])
    error = refused(
        a,
        "raise_claim",
        today=date(2032, 4, 15),
        data={"amount": "100", "basis": "Outnyttjat"},
        error=InvalidInput,
    )
    assert error.field == "organisation"


def test_a_claim_of_zero_after_the_end_is_refused() -> None:
    a = agreement_in(A.ENDED)
    error = refused(a, "raise_claim", today=date(2032, 4, 15), data={"amount": "0", "basis": "-"})
    assert "nothing to repay" in error.reason


def test_an_ended_agreement_is_closed_only_when_every_follow_up_is_approved() -> None:
    a = agreement_in(A.ENDED, start=date(2027, 1, 1), end=date(2028, 12, 31))
    approve_follow_up_of(a, 2027)
    error = refused(a, "close", today=date(2029, 5, 1))
    assert error.reason == "follow-up 2028 is planned, not approved"


def test_closing_after_repayment_needs_every_claim_settled() -> None:
    a = agreement_in(
        A.REPAYMENT, organisations=[organisation(1), organisation(2)], shares_bp=[5000, 5000]
    )
    approve_follow_up_of(a, 2027)
    first, second = a.claims
    fire_step(a, "record_claim_paid", today=date(2027, 6, 20), data={"claim": first.id})
    error = refused(a, "close", today=date(2028, 3, 1))
    assert error.reason == f"claim {second.id} of 12 430,94 kr is not settled"
    fire_step(a, "offset_claim", today=date(2028, 3, 1), data={"claim": second.id})
    fire_step(a, "close", today=date(2028, 3, 1))
    assert a.state is A.CLOSED


def test_closing_after_repayment_also_needs_the_last_follow_up() -> None:
    a = agreement_in(A.REPAYMENT)
    (claim,) = a.claims
    fire_step(a, "record_claim_paid", today=date(2027, 6, 20), data={"claim": claim.id})
    open_follow_up_of(a, 2027)
    error = refused(a, "close", today=date(2027, 7, 1))
    assert error.reason == "follow-up 2027 is open, not approved"


# --- every claim transition ---------------------------------------------------------------------


def claim_in(state: ClaimState, municipality: str = "mjolby") -> tuple[Agreement, RepaymentClaim]:
    """A repayment claim raised 2027-05-31 (due 2027-06-30) in `state`."""
    a = agreement_in(A.REPAYMENT, municipality)
    (claim,) = a.claims
    if state is C.OVERDUE:
        fire_step(
            a, "mark_claim_overdue", actor=SYSTEM, today=date(2027, 7, 1), data={"claim": claim.id}
        )
    return a, claim


CLAIM_CASES = {
    ("mark_claim_overdue", C.RAISED): (SYSTEM, {}),
    **{
        (trigger, source): (actor, data)
        for source in (C.RAISED, C.OVERDUE)
        for trigger, actor, data in (
            ("record_claim_paid", OFFICER, {}),
            ("offset_claim", OFFICER, {"reason": "Kvittad mot utbetalning"}),
            ("write_off_claim", MANAGER, {"reason": "Föreningen har upplösts"}),
        )
    },
}


def test_every_claim_transition_of_the_machine_has_a_test_case() -> None:
    assert set(CLAIM_CASES) == set(_pairs(CLAIM_TRANSITIONS))


@pytest.mark.parametrize("municipality", ["mjolby", "kramfors"])
@pytest.mark.parametrize(("trigger", "source"), sorted(CLAIM_CASES), ids=str)
def test_each_claim_step_moves_from_its_source_to_its_destination(
    trigger: str, source: ClaimState, municipality: str
) -> None:
    a, claim = claim_in(source, municipality)
    actor, data = CLAIM_CASES[(trigger, source)]
    today = date(2027, 7, 2)

    (change,) = fire_step(a, trigger, actor=actor, today=today, data={"claim": claim.id, **data})

    dest = _pairs(CLAIM_TRANSITIONS)[(trigger, source)]
    assert claim.state is dest
    assert (change.entity, change.entity_key, change.from_state, change.to_state) == (
        "claim",
        str(claim.id),
        source.value,
        dest.value,
    )
    if dest in (C.PAID, C.OFFSET, C.WRITTEN_OFF):
        assert (claim.settled_on, claim.settled_by) == (today, actor.name)
    assert a.state is A.REPAYMENT


def test_a_claim_is_overdue_only_after_its_due_day() -> None:
    a, claim = claim_in(C.RAISED)
    error = refused(
        a, "mark_claim_overdue", actor=SYSTEM, today=date(2027, 6, 30), data={"claim": claim.id}
    )
    assert error.reason == f"claim {claim.id} is due 2027-06-30"


def test_writing_off_a_claim_needs_a_reason_and_a_manager() -> None:
    a, claim = claim_in(C.RAISED)
    error = refused(
        a, "write_off_claim", actor=MANAGER, today=date(2027, 7, 1), data={"claim": claim.id}
    )
    assert error.reason == "a reason is required (--set reason=...)"
    refused(
        a,
        "write_off_claim",
        actor=OFFICER,
        today=date(2027, 7, 1),
        data={"claim": claim.id, "reason": "x"},
        error=NotPermitted,
    )


def test_a_settled_claim_cannot_be_settled_again() -> None:
    a, claim = claim_in(C.RAISED)
    fire_step(a, "record_claim_paid", today=date(2027, 6, 20), data={"claim": claim.id})
    before = snapshot(a)
    error = refused(
        a, "offset_claim", today=date(2027, 6, 21), data={"claim": claim.id}, error=InvalidStep
    )
    assert "'paid'" in str(error)
    assert snapshot(a) == before
