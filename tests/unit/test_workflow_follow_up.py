"""The yearly follow-up (uppföljning) through `fire`: every transition and guard."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from factories import (
    MANAGER,
    OFFICER,
    SECRETARY,
    SYSTEM,
    agreement_in,
    approve_follow_up_of,
    fire_step,
    follow_up,
    open_follow_up_of,
    receive_all_documents,
    refused,
    rep_of,
    statistics_data,
    submitted_follow_up_of,
)

from iop_workflow.domain.errors import InvalidInput, InvalidStep, NotFound, NotPermitted
from iop_workflow.domain.machines import FOLLOW_UP_TRANSITIONS
from iop_workflow.domain.model import Agreement, FollowUp
from iop_workflow.domain.roles import Actor
from iop_workflow.domain.states import AgreementState, DocumentKind, FollowUpState

F = FollowUpState
YEAR = 2027
OPENS = date(2027, 11, 1)
DUE = date(2028, 3, 31)


def follow_up_in(state: FollowUpState, municipality: str = "mjolby") -> tuple[Agreement, FollowUp]:
    """An active agreement (2027–2031) whose follow-up of 2027 is in `state`."""
    a = agreement_in(AgreementState.ACTIVE, municipality)
    if state is F.PLANNED:
        return a, follow_up(a, YEAR)
    if state is F.OPEN:
        return a, open_follow_up_of(a, YEAR)
    if state is F.OVERDUE:
        f = open_follow_up_of(a, YEAR)
        fire_step(
            a, "mark_report_overdue", actor=SYSTEM, today=date(2028, 4, 1), data={"year": YEAR}
        )
        return a, f
    if state is F.SUBMITTED:
        return a, submitted_follow_up_of(a, YEAR)
    if state is F.RETURNED:
        f = submitted_follow_up_of(a, YEAR)
        fire_step(
            a,
            "return_follow_up",
            actor=OFFICER,
            today=date(2028, 2, 20),
            data={"year": YEAR, "reason": "Balansräkningen saknar underskrift"},
        )
        return a, f
    if state is F.APPROVED:
        return a, approve_follow_up_of(a, YEAR)
    raise AssertionError(state)


# --- every transition -----------------------------------------------------------------


@dataclass
class Case:
    today: date
    data: dict[str, Any] = field(default_factory=dict)
    actor: Callable[[Agreement], Actor] = lambda a: OFFICER


def _rep(a: Agreement) -> Actor:
    return rep_of(a)


CASES: dict[tuple[str, FollowUpState], Case] = {
    ("open_follow_up", F.PLANNED): Case(OPENS, actor=lambda a: SYSTEM),
    **{
        ("receive_document", source): Case(
            date(2028, 4, 10), {"kind": "income_statement", "arrived": "2028-04-09"}, _rep
        )
        for source in (F.OPEN, F.OVERDUE, F.RETURNED, F.SUBMITTED)
    },
    **{
        ("submit_report", source): Case(
            date(2028, 4, 10), {"statistics.unika besökare": "40"}, _rep
        )
        for source in (F.OPEN, F.OVERDUE, F.RETURNED)
    },
    ("approve_follow_up", F.SUBMITTED): Case(date(2028, 3, 1), actor=lambda a: MANAGER),
    ("return_follow_up", F.SUBMITTED): Case(date(2028, 3, 1), {"reason": "Statistik saknas"}),
    ("mark_report_overdue", F.OPEN): Case(date(2028, 4, 1), actor=lambda a: SYSTEM),
    ("mark_report_overdue", F.RETURNED): Case(date(2028, 4, 1)),
    **{
        ("cancel_follow_up", source): Case(date(2028, 4, 10), {"reason": "Avslutad"})
        for source in (F.PLANNED, F.OPEN, F.OVERDUE, F.RETURNED)
    },
}


def _machine_pairs() -> dict[tuple[str, FollowUpState], FollowUpState]:
    pairs = {}
    for t in FOLLOW_UP_TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            pairs[(t["trigger"], source)] = t["dest"] or source
    return pairs


def test_every_follow_up_transition_of_the_machine_has_a_test_case() -> None:
    assert set(CASES) == set(_machine_pairs())


@pytest.mark.parametrize("municipality", ["mjolby", "kramfors"])
@pytest.mark.parametrize(("trigger", "source"), sorted(CASES), ids=str)
def test_each_follow_up_step_moves_from_its_source_to_its_destination(
    trigger: str, source: FollowUpState, municipality: str
) -> None:
    a, f = follow_up_in(source, municipality)
    case = CASES[(trigger, source)]
    dest = _machine_pairs()[(trigger, source)]

    changes = fire_step(
        a, trigger, actor=case.actor(a), today=case.today, data={"year": YEAR, **case.data}
    )

    assert f.state is dest
    assert (changes[0].entity, changes[0].entity_key, changes[0].trigger) == (
        "follow_up",
        str(YEAR),
        trigger,
    )
    assert (changes[0].from_state, changes[0].to_state) == (source.value, dest.value)
    assert a.state is AgreementState.ACTIVE
    others = [x for x in a.follow_ups if x is not f]
    assert all(x.state is F.PLANNED for x in others)


# --- opening, documents, submission -------------------------------------------------------


def test_a_follow_up_cannot_open_before_1_november_of_its_year() -> None:
    a, f = follow_up_in(F.PLANNED)
    error = refused(
        a, "open_follow_up", actor=SYSTEM, today=date(2027, 10, 31), data={"year": YEAR}
    )
    assert error.reason == "follow-up 2027 opens 2027-11-01"


def test_a_received_document_is_recorded_with_its_arrival_date_and_receiver() -> None:
    a, f = follow_up_in(F.OPEN)
    fire_step(
        a,
        "receive_document",
        actor=OFFICER,
        today=date(2028, 2, 1),
        data={"year": YEAR, "kind": "activity_report", "arrived": "2028-01-30", "note": "Via post"},
    )
    (doc,) = f.documents
    assert (doc.kind, doc.arrived_on, doc.received_by, doc.note) == (
        DocumentKind.ACTIVITY_REPORT,
        date(2028, 1, 30),
        OFFICER.name,
        "Via post",
    )
    assert f.state is F.OPEN


def test_a_document_arriving_in_the_future_is_refused() -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(
        a,
        "receive_document",
        today=date(2028, 2, 1),
        data={"year": YEAR, "kind": "balance_sheet", "arrived": "2028-02-02"},
    )
    assert error.reason == "arrival date 2028-02-02 is in the future"


def test_an_unknown_document_kind_is_refused_listing_the_kinds() -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(
        a,
        "receive_document",
        today=date(2028, 2, 1),
        data={"year": YEAR, "kind": "budget"},
        error=InvalidInput,
    )
    assert error.field == "kind"
    assert "income_statement, balance_sheet, activity_report, statistics" in str(error)


def test_submitting_the_report_records_statistics_submitter_and_day() -> None:
    a, f = follow_up_in(F.OPEN)
    rep = rep_of(a)
    fire_step(
        a,
        "submit_report",
        actor=rep,
        today=date(2028, 3, 2),
        data={"year": YEAR, "statistics.enskilda samtal": "120", "statistics.unika besökare": 0},
    )
    assert f.state is F.SUBMITTED
    assert f.statistics == {"enskilda samtal": 120, "unika besökare": 0}
    assert (f.submitted_by, f.submitted_on) == (rep.name, date(2028, 3, 2))


@pytest.mark.parametrize("value", ["-3", "tolv", "1.5", True])
def test_statistics_must_be_counts(value: object) -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(
        a,
        "submit_report",
        actor=rep_of(a),
        today=date(2028, 3, 2),
        data={"year": YEAR, "statistics.unika besökare": value},
        error=InvalidInput,
    )
    assert error.field == "statistics.unika besökare"


def test_an_officer_who_registers_a_report_sent_by_post_may_not_approve_it() -> None:
    a, f = follow_up_in(F.OPEN)
    receive_all_documents(a, YEAR, today=date(2028, 3, 2))
    fire_step(
        a,
        "submit_report",
        actor=OFFICER,
        today=date(2028, 3, 2),
        data={"year": YEAR, **statistics_data(a)},
    )
    assert (f.state, f.submitted_by) == (F.SUBMITTED, OFFICER.name)
    error = refused(
        a, "approve_follow_up", actor=OFFICER, today=date(2028, 3, 3), data={"year": YEAR}
    )
    assert error.reason == f"{OFFICER.name} submitted the report and may not approve it"
    fire_step(a, "approve_follow_up", actor=MANAGER, today=date(2028, 3, 3), data={"year": YEAR})
    assert f.state is F.APPROVED


def test_neither_the_secretary_submits_nor_the_organisation_approves_a_report() -> None:
    a, f = follow_up_in(F.OPEN)
    refused(
        a,
        "submit_report",
        actor=SECRETARY,
        today=date(2028, 3, 2),
        data={"year": YEAR},
        error=NotPermitted,
    )
    a, f = follow_up_in(F.SUBMITTED)
    refused(
        a,
        "approve_follow_up",
        actor=rep_of(a),
        today=date(2028, 3, 2),
        data={"year": YEAR},
        error=NotPermitted,
    )


def test_a_follow_up_step_for_a_year_outside_the_agreement_is_not_found() -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(a, "open_follow_up", today=OPENS, data={"year": 2040}, error=NotFound)
    assert "2040" in str(error)


def test_a_follow_up_step_needs_the_year() -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(a, "open_follow_up", today=OPENS, error=InvalidInput)
    assert error.field == "year"


def test_a_step_not_allowed_for_the_follow_ups_state_names_that_state() -> None:
    a, f = follow_up_in(F.APPROVED)
    error = refused(
        a,
        "submit_report",
        actor=rep_of(a),
        today=date(2028, 3, 2),
        data={"year": YEAR},
        error=InvalidStep,
    )
    assert "follow-up 2027" in str(error)
    assert "'approved'" in str(error)
    assert str(error).endswith("allowed now: none")


# --- approval ------------------------------------------------------------------------------


def test_approval_needs_every_required_document() -> None:
    a = agreement_in(AgreementState.ACTIVE)
    f = submitted_follow_up_of(a, YEAR, documents=False)
    fire_step(
        a,
        "receive_document",
        today=date(2028, 2, 20),
        data={"year": YEAR, "kind": "income_statement"},
    )
    error = refused(a, "approve_follow_up", today=date(2028, 2, 20), data={"year": YEAR})
    assert (
        error.reason == "follow-up 2027 lacks documents: balance_sheet, activity_report, statistics"
    )
    assert f.state is F.SUBMITTED


def test_approval_needs_the_statistics_the_agreement_names() -> None:
    a, f = follow_up_in(F.OPEN)
    receive_all_documents(a, YEAR, today=date(2028, 2, 1))
    fire_step(
        a,
        "submit_report",
        actor=rep_of(a),
        today=date(2028, 2, 1),
        data={"year": YEAR, "statistics.enskilda samtal": "14"},
    )
    error = refused(a, "approve_follow_up", today=date(2028, 2, 2), data={"year": YEAR})
    assert error.reason == "the report lacks the statistics the agreement names: unika besökare"


def test_statistics_added_on_resubmission_complete_the_report() -> None:
    a, f = follow_up_in(F.OPEN)
    receive_all_documents(a, YEAR, today=date(2028, 2, 1))
    rep = rep_of(a)
    fire_step(
        a,
        "submit_report",
        actor=rep,
        today=date(2028, 2, 1),
        data={"year": YEAR, "statistics.enskilda samtal": "14"},
    )
    fire_step(
        a,
        "return_follow_up",
        today=date(2028, 2, 2),
        data={"year": YEAR, "reason": "Besökare saknas"},
    )
    assert (f.state, f.return_reason) == (F.RETURNED, "Besökare saknas")
    fire_step(
        a,
        "submit_report",
        actor=rep,
        today=date(2028, 2, 5),
        data={"year": YEAR, "statistics.unika besökare": "300"},
    )
    fire_step(a, "approve_follow_up", today=date(2028, 2, 6), data={"year": YEAR})
    assert f.state is F.APPROVED
    assert f.statistics == {"enskilda samtal": 14, "unika besökare": 300}
    assert (f.reviewed_by, f.reviewed_on) == (OFFICER.name, date(2028, 2, 6))


def test_whoever_submitted_the_report_may_not_approve_it() -> None:
    a, f = follow_up_in(F.OPEN)
    receive_all_documents(a, YEAR, today=date(2028, 2, 1))
    # A representative who is also employed as officer submits in one role, approves in the other.
    fire_step(
        a,
        "submit_report",
        actor=Actor("Kim", rep_of(a).role, organisation=rep_of(a).organisation),
        today=date(2028, 2, 1),
        data={"year": YEAR, **statistics_data(a)},
    )
    error = refused(
        a,
        "approve_follow_up",
        actor=Actor("Kim", OFFICER.role),
        today=date(2028, 2, 2),
        data={"year": YEAR},
    )
    assert error.reason == "Kim submitted the report and may not approve it"
    fire_step(a, "approve_follow_up", actor=MANAGER, today=date(2028, 2, 2), data={"year": YEAR})
    assert (f.state, f.reviewed_by) == (F.APPROVED, MANAGER.name)


def test_returning_a_report_needs_a_reason() -> None:
    a, f = follow_up_in(F.SUBMITTED)
    error = refused(a, "return_follow_up", today=date(2028, 3, 1), data={"year": YEAR})
    assert error.reason == "a reason is required (--set reason=...)"


def test_documents_arriving_after_submission_are_kept_with_the_submitted_report() -> None:
    a = agreement_in(AgreementState.ACTIVE)
    f = submitted_follow_up_of(a, YEAR, documents=False)
    receive_all_documents(a, YEAR, today=date(2028, 3, 5))
    assert f.state is F.SUBMITTED
    fire_step(a, "approve_follow_up", today=date(2028, 3, 6), data={"year": YEAR})
    assert f.state is F.APPROVED


# --- overdue and cancelled ------------------------------------------------------------------


def test_a_report_is_overdue_only_after_its_due_day_31_march() -> None:
    a, f = follow_up_in(F.OPEN)
    error = refused(a, "mark_report_overdue", actor=SYSTEM, today=DUE, data={"year": YEAR})
    assert error.reason == "the report for 2027 is due 2028-03-31"
    fire_step(a, "mark_report_overdue", actor=SYSTEM, today=date(2028, 4, 1), data={"year": YEAR})
    assert f.state is F.OVERDUE


def test_an_overdue_report_can_still_be_submitted_and_approved() -> None:
    a, f = follow_up_in(F.OVERDUE)
    receive_all_documents(a, YEAR, today=date(2028, 4, 20))
    fire_step(
        a,
        "submit_report",
        actor=rep_of(a),
        today=date(2028, 4, 20),
        data={"year": YEAR, **statistics_data(a)},
    )
    fire_step(a, "approve_follow_up", today=date(2028, 4, 21), data={"year": YEAR})
    assert f.state is F.APPROVED


def test_an_approved_follow_up_can_no_longer_be_cancelled() -> None:
    a, f = follow_up_in(F.APPROVED)
    refused(a, "cancel_follow_up", today=date(2028, 4, 21), data={"year": YEAR}, error=InvalidStep)
    assert f.state is F.APPROVED


def test_the_final_year_of_an_agreement_ending_mid_year_opens_the_day_after_it_ends() -> None:
    a = agreement_in(AgreementState.ACTIVE, start=date(2027, 1, 1), end=date(2028, 6, 30))
    last = follow_up(a, 2028)
    assert (last.opens_on, last.due_on) == (date(2028, 7, 1), date(2029, 3, 31))
