"""The agreement's life cycle through `fire`: every transition, every guard, the rules."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from factories import (
    AUDITOR,
    END,
    MANAGER,
    MJOLBY,
    OFFICER,
    ORGNRS,
    OTHER_OFFICER,
    POLICIES,
    SECRETARY,
    START,
    SUPPORT_SEK,
    SYSTEM,
    agreement_in,
    approve_follow_up_of,
    assess_all,
    decision_data,
    fire_step,
    first_payout,
    new_agreement,
    organisation,
    preparation_day,
    refused,
    release,
    rep_of,
    representative,
    sign_all,
    signed_parties,
    snapshot,
    support_data,
)

from iop_workflow.domain.errors import GuardRefused, InvalidInput, InvalidStep, NotPermitted
from iop_workflow.domain.machines import AGREEMENT_TRANSITIONS
from iop_workflow.domain.model import MUNICIPALITY_PARTY, Agreement, Contribution
from iop_workflow.domain.roles import PERMISSIONS, Actor
from iop_workflow.domain.states import (
    AgreementState,
    ContributionKind,
    DecisionKind,
    DecisionOutcome,
    FollowUpState,
    PayoutState,
    Verdict,
)
from iop_workflow.domain.workflow import available_steps

A = AgreementState
MUNICIPALITIES = ["mjolby", "kramfors"]
ORG1 = ORGNRS[1]


def _day(agreement: Agreement, days: int = 0) -> date:
    return preparation_day(agreement) + timedelta(days=days)


# --- every transition of the agreement machine ------------------------------------


@dataclass
class Case:
    agreement: Agreement
    today: date
    data: dict[str, Any] = field(default_factory=dict)
    actor: Actor | None = None


def _assess(m: str) -> Case:
    a = agreement_in(A.INITIATIVE, m)
    criterion = POLICIES[m].criteria[0].key
    return Case(a, _day(a), {"criterion": criterion, "verdict": "met", "motivation": "Finns"})


def _start_dialogue(m: str) -> Case:
    a = agreement_in(A.INITIATIVE, m)
    assess_all(a, _day(a))
    return Case(a, _day(a))


def _withdraw(source: AgreementState) -> Callable[[str], Case]:
    def build(m: str) -> Case:
        a = agreement_in(source, m)
        return Case(a, _day(a, 12), {"reason": "Styrelsen avstår"}, rep_of(a))

    return build


def _in(source: AgreementState, days: int = 12, **data: Any) -> Callable[[str], Case]:
    def build(m: str) -> Case:
        a = agreement_in(source, m)
        return Case(a, _day(a, days), dict(data))

    return build


def _decide(m: str) -> Case:
    a = agreement_in(A.DECISION, m)
    return Case(a, _day(a, 12), decision_data(_day(a, 10)))


def _submit(m: str) -> Case:
    a = agreement_in(A.ECONOMIC_PLAN, m)
    return Case(a, _day(a), support_data(a.start, a.end))


def _sign(m: str) -> Case:
    a = agreement_in(A.SIGNING, m)
    return Case(a, _day(a, 14), {}, OFFICER)


def _activate(m: str) -> Case:
    a = agreement_in(A.SIGNING, m)
    sign_all(a, _day(a, 14))
    return Case(a, _day(a, 14))


def _amend(m: str) -> Case:
    a = agreement_in(A.ACTIVE, m)
    data = {
        "decided_on": "2027-01-25",
        "paragraph": "§ 12",
        "description": "Utökad verksamhet 2028",
        "support.2028": "350000",
    }
    return Case(a, date(2027, 2, 1), data, SECRETARY)


def _renew(m: str) -> Case:
    a = agreement_in(A.RENEWAL, m)
    data = {
        "end": "2034-12-31",
        **decision_data(date(2031, 2, 25), "§ 30"),
        **support_data(date(2032, 1, 1), date(2034, 12, 31)),
    }
    return Case(a, date(2031, 3, 1), data, SECRETARY)


def _at(source: AgreementState, today: date, **data: Any) -> Callable[[str], Case]:
    def build(m: str) -> Case:
        return Case(agreement_in(source, m), today, dict(data))

    return build


def _terminate(source: AgreementState) -> Callable[[str], Case]:
    return _at(source, date(2031, 2, 1), date="2031-02-01", reason="Verksamheten har upphört")


def _raise_after_termination(m: str) -> Case:
    a = agreement_in(A.TERMINATED, m, release_first=True)
    return Case(a, date(2027, 6, 1))


def _raise_after_end(m: str) -> Case:
    a = agreement_in(A.ENDED, m)
    return Case(a, date(2032, 4, 15), {"amount": "10 000", "basis": "Outnyttjat stöd 2031"})


def _close_terminated(m: str) -> Case:
    a = agreement_in(A.TERMINATED, m)
    approve_follow_up_of(a, 2027)
    return Case(a, date(2028, 3, 1))


def _close_ended(m: str) -> Case:
    a = agreement_in(A.ENDED, m, start=date(2027, 1, 1), end=date(2027, 12, 31))
    approve_follow_up_of(a, 2027)
    return Case(a, date(2028, 3, 1))


def _close_repayment(m: str) -> Case:
    a = agreement_in(A.REPAYMENT, m)
    for claim in a.claims:
        fire_step(a, "record_claim_paid", today=date(2027, 6, 20), data={"claim": claim.id})
    approve_follow_up_of(a, 2027)
    return Case(a, date(2028, 3, 1))


CASES: dict[tuple[str, AgreementState], Callable[[str], Case]] = {
    ("assess_criterion", A.INITIATIVE): _assess,
    ("start_dialogue", A.INITIATIVE): _start_dialogue,
    ("reject", A.INITIATIVE): _in(A.INITIATIVE, 0, reason="Uppfyller inte kriterierna"),
    ("withdraw", A.INITIATIVE): _withdraw(A.INITIATIVE),
    ("withdraw", A.DIALOGUE): _withdraw(A.DIALOGUE),
    ("withdraw", A.ECONOMIC_PLAN): _withdraw(A.ECONOMIC_PLAN),
    ("withdraw", A.DECISION): _withdraw(A.DECISION),
    ("propose_plan", A.DIALOGUE): _in(A.DIALOGUE, 1),
    ("back_to_dialogue", A.ECONOMIC_PLAN): _in(A.ECONOMIC_PLAN, 1, reason="Mer dialog"),
    ("submit_for_decision", A.ECONOMIC_PLAN): _submit,
    ("approve_decision", A.DECISION): _decide,
    ("reject_decision", A.DECISION): _decide,
    ("return_decision", A.DECISION): _decide,
    ("sign", A.SIGNING): _sign,
    ("activate", A.SIGNING): _activate,
    ("amend", A.ACTIVE): _amend,
    ("start_renewal", A.ACTIVE): _at(A.ACTIVE, date(2031, 1, 10)),
    ("renew", A.RENEWAL): _renew,
    ("decline_renewal", A.ACTIVE): _at(A.ACTIVE, date(2031, 1, 10)),
    ("decline_renewal", A.RENEWAL): _at(A.RENEWAL, date(2031, 2, 10)),
    ("end", A.ACTIVE): _at(A.ACTIVE, date(2032, 1, 1)),
    ("end", A.RENEWAL): _at(A.RENEWAL, date(2032, 1, 1)),
    ("end", A.NOT_RENEWED): _at(A.NOT_RENEWED, date(2032, 1, 1)),
    ("terminate", A.ACTIVE): _terminate(A.ACTIVE),
    ("terminate", A.RENEWAL): _terminate(A.RENEWAL),
    ("terminate", A.NOT_RENEWED): _terminate(A.NOT_RENEWED),
    ("raise_claim", A.TERMINATED): _raise_after_termination,
    ("raise_claim", A.ENDED): _raise_after_end,
    ("close", A.TERMINATED): _close_terminated,
    ("close", A.ENDED): _close_ended,
    ("close", A.REPAYMENT): _close_repayment,
}


def _machine_pairs() -> dict[tuple[str, AgreementState], AgreementState]:
    pairs = {}
    for t in AGREEMENT_TRANSITIONS:
        sources = t["source"] if isinstance(t["source"], list) else [t["source"]]
        for source in sources:
            pairs[(t["trigger"], source)] = t["dest"] or source
    return pairs


def test_every_agreement_transition_of_the_machine_has_a_test_case() -> None:
    assert set(CASES) == set(_machine_pairs())


@pytest.mark.parametrize("municipality", MUNICIPALITIES)
@pytest.mark.parametrize(("trigger", "source"), sorted(CASES), ids=lambda v: str(v))
def test_each_agreement_step_moves_from_its_source_to_its_destination(
    trigger: str, source: AgreementState, municipality: str
) -> None:
    case = CASES[(trigger, source)](municipality)
    assert case.agreement.state is source
    dest = _machine_pairs()[(trigger, source)]

    changes = fire_step(case.agreement, trigger, today=case.today, actor=case.actor, data=case.data)

    assert case.agreement.state is dest
    first = changes[0]
    assert (first.entity, first.trigger, first.from_state, first.to_state) == (
        "agreement",
        trigger,
        source.value,
        dest.value,
    )
    assert first.entity_key == case.agreement.diarienummer


# --- initiative ---------------------------------------------------------------------


def test_assessing_a_criterion_records_verdict_motivation_assessor_and_day() -> None:
    a = agreement_in(A.INITIATIVE)
    fire_step(
        a,
        "assess_criterion",
        actor=MANAGER,
        today=date(2026, 9, 1),
        data={"criterion": "no_market", "verdict": "partly_met", "motivation": "Delvis"},
    )
    (assessment,) = a.assessments
    assert (assessment.criterion, assessment.verdict, assessment.motivation) == (
        "no_market",
        Verdict.PARTLY_MET,
        "Delvis",
    )
    assert (assessment.assessed_by, assessment.assessed_on) == (MANAGER.name, date(2026, 9, 1))


def test_reassessing_a_criterion_replaces_the_earlier_verdict() -> None:
    a = agreement_in(A.INITIATIVE)
    for verdict in ("not_met", "met"):
        fire_step(
            a,
            "assess_criterion",
            today=date(2026, 9, 1),
            data={"criterion": "no_market", "verdict": verdict, "motivation": "Ny bedömning"},
        )
    assert [(x.criterion, x.verdict) for x in a.assessments] == [("no_market", Verdict.MET)]


def test_an_unknown_criterion_is_refused_naming_the_municipalitys_criteria() -> None:
    a = agreement_in(A.INITIATIVE, "kramfors")
    error = refused(
        a,
        "assess_criterion",
        today=date(2026, 9, 1),
        data={"criterion": "political_programme", "verdict": "met", "motivation": "x"},
    )
    assert "'political_programme' is not a kramfors criterion" in error.reason
    assert "not_purchase" in error.reason


def test_dialogue_cannot_start_before_every_criterion_is_assessed() -> None:
    a = agreement_in(A.INITIATIVE)
    error = refused(a, "start_dialogue", today=date(2026, 9, 1))
    assert error.reason == "criterion 'initiative_from_organisation' has not been assessed"


def test_dialogue_cannot_start_while_a_required_criterion_is_not_met() -> None:
    a = agreement_in(A.INITIATIVE)
    assess_all(a, date(2026, 9, 1))
    fire_step(
        a,
        "assess_criterion",
        today=date(2026, 9, 1),
        data={"criterion": "both_finance", "verdict": "partly_met", "motivation": "Bara tid"},
    )
    error = refused(a, "start_dialogue", today=date(2026, 9, 1))
    assert error.reason == "required criterion 'both_finance' is partly_met"


def test_a_should_hold_criterion_only_partly_met_does_not_stop_the_dialogue_in_mjolby() -> None:
    a = agreement_in(A.INITIATIVE)
    assess_all(a, date(2026, 9, 1))
    fire_step(
        a,
        "assess_criterion",
        today=date(2026, 9, 1),
        data={"criterion": "local_development", "verdict": "not_met", "motivation": "Lokalt"},
    )
    fire_step(a, "start_dialogue", today=date(2026, 9, 1))
    assert a.state is A.DIALOGUE


def test_dialogue_cannot_start_when_a_criterion_has_a_blank_motivation() -> None:
    a = agreement_in(A.INITIATIVE)
    assess_all(a, date(2026, 9, 1))
    fire_step(
        a,
        "assess_criterion",
        today=date(2026, 9, 1),
        data={"criterion": "independent_actor", "verdict": "met", "motivation": "   "},
    )
    error = refused(a, "start_dialogue", today=date(2026, 9, 1))
    assert error.reason == "criterion 'independent_actor' has no motivation"


def test_kramfors_refuses_dialogue_with_an_organisation_not_in_the_forening_register() -> None:
    a = new_agreement("kramfors", organisations=[organisation(1, registered=False)])
    assess_all(a, date(2026, 9, 1))
    error = refused(a, "start_dialogue", today=date(2026, 9, 1))
    assert "föreningsregister" in str(error)
    assert error.reason == (
        f"Förening 1 ({ORG1}) is not registered in Kramfors kommun's föreningsregister"
    )
    assert a.state is A.INITIATIVE


def test_mjolby_needs_no_forening_register_entry_for_the_dialogue() -> None:
    a = new_agreement("mjolby", organisations=[organisation(1, registered=False)])
    assess_all(a, date(2026, 9, 1))
    fire_step(a, "start_dialogue", today=date(2026, 9, 1))
    assert a.state is A.DIALOGUE


def test_rejecting_an_initiative_needs_a_reason() -> None:
    a = agreement_in(A.INITIATIVE)
    error = refused(a, "reject", today=date(2026, 9, 1))
    assert error.reason == "a reason is required (--set reason=...)"


# --- dialogue and economic plan ----------------------------------------------------


@pytest.mark.parametrize("missing", ["goals", "purpose", "target_group"])
def test_the_plan_cannot_be_proposed_before_the_dialogue_outcome_is_recorded(
    missing: str,
) -> None:
    a = agreement_in(A.DIALOGUE)
    setattr(a, missing, "")
    error = refused(a, "propose_plan", today=date(2026, 9, 5))
    assert error.reason == f"the dialogue's {missing} is not recorded"


def test_the_plan_cannot_be_proposed_without_indicators_for_the_yearly_report() -> None:
    a = agreement_in(A.DIALOGUE)
    a.indicators = []
    error = refused(a, "propose_plan", today=date(2026, 9, 5))
    assert error.reason == "no indicators: the yearly report's statistics must be named"


def test_proposing_the_plan_records_the_dialogue_outcome_given_with_the_step() -> None:
    a = agreement_in(A.DIALOGUE)
    a.goals, a.indicators = "", []
    fire_step(
        a,
        "propose_plan",
        today=date(2026, 9, 5),
        data={"goals": "Minskad ensamhet", "indicators": "besök, samtal", "end": "2029-12-31"},
    )
    assert a.state is A.ECONOMIC_PLAN
    assert (a.goals, a.indicators, a.end) == (
        "Minskad ensamhet",
        ["besök", "samtal"],
        date(2029, 12, 31),
    )


def test_a_plan_ending_before_it_starts_is_refused() -> None:
    a = agreement_in(A.DIALOGUE)
    error = refused(a, "propose_plan", today=date(2026, 9, 5), data={"end": "2026-12-31"})
    assert error.reason == "the period ends (2026-12-31) before it starts (2027-01-01)"


def test_mjolby_refuses_a_plan_from_2027_01_01_to_2032_01_01_as_over_five_years() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    error = refused(
        a,
        "submit_for_decision",
        today=date(2026, 9, 5),
        data={"end": "2032-01-01", **support_data(START, date(2032, 1, 1))},
    )
    assert error.reason == (
        "period 2027-01-01 – 2032-01-01 is longer than Mjölby kommun's maximum of 5 years "
        "(last allowed end date 2031-12-31)"
    )
    assert a.state is A.ECONOMIC_PLAN
    assert (a.start, a.end, a.support) == (START, END, [])


def test_mjolby_accepts_a_plan_ending_the_day_before_the_fifth_anniversary() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    fire_step(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert (a.state, a.start, a.end) == (A.DECISION, START, date(2031, 12, 31))
    per_year = {s.year: s.amount_ore for s in a.support}
    assert per_year == dict.fromkeys(range(2027, 2032), SUPPORT_SEK * 100)


def test_proposing_a_plan_over_five_years_is_refused_already_in_the_dialogue() -> None:
    a = agreement_in(A.DIALOGUE)
    error = refused(a, "propose_plan", today=date(2026, 9, 5), data={"end": "2032-06-30"})
    assert "maximum of 5 years" in error.reason


def test_the_plan_needs_municipal_support_for_every_year_of_the_period() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    data = support_data(START, END)
    del data["support.2029"]
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=data)
    assert error.reason == "the economic plan has no municipal support for 2029"


def test_the_plan_cannot_hold_support_for_a_year_outside_the_period() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    data = {**support_data(START, END), "support.2035": "1000"}
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=data)
    assert error.reason == "the economic plan has support for 2035, outside the period"


def test_the_plan_needs_the_organisations_own_contribution() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    a.contributions = []
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert error.reason == "the organisation's own contribution (egna insatser) is missing"


def test_kramfors_does_not_count_other_in_kind_contributions() -> None:
    a = agreement_in(A.ECONOMIC_PLAN, "kramfors")
    a.contributions.append(Contribution(2028, ContributionKind.OTHER_IN_KIND, 100_000))
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert error.reason == "Kramfors kommun does not count other_in_kind contributions"


def test_mjolby_counts_volunteer_hours_and_other_in_kind_as_own_contribution() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    a.contributions = [
        Contribution(2027, ContributionKind.VOLUNTEER_HOURS, 2_000_000, hours=800),
        Contribution(2028, ContributionKind.OTHER_IN_KIND, 100_000),
    ]
    fire_step(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert a.state is A.DECISION


def test_the_parties_shares_must_sum_to_one_hundred_percent() -> None:
    a = agreement_in(
        A.ECONOMIC_PLAN, organisations=[organisation(1), organisation(2)], shares_bp=[6000, 3000]
    )
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert error.reason == "the parties' shares sum to 90.00 %, not 100 %"


def test_an_agreement_without_a_party_organisation_cannot_go_to_decision() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    a.parties = []
    error = refused(a, "submit_for_decision", today=date(2026, 9, 5), data=support_data(START, END))
    assert error.reason == "the agreement has no organisation as party"


def test_support_that_is_not_an_amount_is_refused_naming_the_field() -> None:
    a = agreement_in(A.ECONOMIC_PLAN)
    error = refused(
        a,
        "submit_for_decision",
        today=date(2026, 9, 5),
        data={**support_data(START, END), "support.2028": "mycket"},
        error=InvalidInput,
    )
    assert error.field == "support.2028"


# --- decision and signing ----------------------------------------------------------


@pytest.mark.parametrize("trigger", ["approve_decision", "reject_decision", "return_decision"])
def test_a_decision_whose_minutes_are_adjusted_before_the_meeting_is_refused(
    trigger: str,
) -> None:
    a = agreement_in(A.DECISION)
    data = {**decision_data(date(2026, 9, 20)), "minutes_adjusted": "2026-09-19"}
    error = refused(a, trigger, actor=SECRETARY, today=date(2026, 9, 25), data=data)
    assert error.reason == "the minutes cannot be adjusted (justerat) before the meeting"


@pytest.mark.parametrize("trigger", ["approve_decision", "reject_decision", "return_decision"])
def test_a_decision_from_a_future_meeting_is_refused(trigger: str) -> None:
    a = agreement_in(A.DECISION)
    error = refused(
        a, trigger, actor=SECRETARY, today=date(2026, 9, 25), data=decision_data(date(2026, 9, 29))
    )
    assert error.reason == "the meeting date 2026-09-29 is in the future"


def test_an_approving_decision_is_recorded_with_its_paragraph_and_body() -> None:
    a = agreement_in(A.DECISION)
    fire_step(
        a,
        "approve_decision",
        today=date(2026, 10, 1),
        data={
            **decision_data(date(2026, 9, 29), "§ 151"),
            "minutes_adjusted": "2026-09-30",
        },
    )
    (decision,) = a.decisions
    assert (decision.kind, decision.outcome, decision.paragraph, decision.body) == (
        DecisionKind.ENTRY,
        DecisionOutcome.APPROVED,
        "§ 151",
        MJOLBY.committee,
    )
    assert (decision.meeting_date, decision.minutes_adjusted_on) == (
        date(2026, 9, 29),
        date(2026, 9, 30),
    )
    assert decision.recorded_by == SECRETARY.name


def test_a_returned_decision_sends_the_case_back_to_the_economic_plan_and_keeps_the_record() -> (
    None
):
    a = agreement_in(A.DECISION)
    fire_step(a, "return_decision", today=date(2026, 10, 1), data=decision_data(date(2026, 9, 29)))
    assert a.state is A.ECONOMIC_PLAN
    assert [d.outcome for d in a.decisions] == [DecisionOutcome.RETURNED]


def test_a_decision_without_paragraph_is_refused_naming_the_field() -> None:
    a = agreement_in(A.DECISION)
    error = refused(
        a,
        "approve_decision",
        today=date(2026, 10, 1),
        data={"meeting_date": "2026-09-29"},
        error=InvalidInput,
    )
    assert error.field == "paragraph"


def test_the_officer_signs_for_the_municipality_and_the_representative_for_the_organisation() -> (
    None
):
    a = agreement_in(A.SIGNING)
    fire_step(a, "sign", actor=OFFICER, today=date(2026, 9, 20))
    fire_step(a, "sign", actor=rep_of(a), today=date(2026, 9, 21), data={"signed_on": "2026-09-20"})
    assert signed_parties(a) == [MUNICIPALITY_PARTY, ORG1]
    assert [(s.signed_by, s.signed_on) for s in a.signatures] == [
        (OFFICER.name, date(2026, 9, 20)),
        (rep_of(a).name, date(2026, 9, 20)),
    ]
    assert a.state is A.SIGNING


def test_a_signature_dated_in_the_future_is_refused() -> None:
    a = agreement_in(A.SIGNING)
    error = refused(
        a,
        "sign",
        actor=OFFICER,
        today=date(2026, 9, 20),
        data={"signed_on": "2026-09-21"},
        error=InvalidInput,
    )
    assert error.field == "signed_on"


def test_only_a_party_to_the_agreement_can_sign() -> None:
    a = agreement_in(A.SIGNING)
    error = refused(a, "sign", actor=representative(organisation(3)), today=date(2026, 9, 20))
    assert error.reason == f"'{ORGNRS[3]}' is not a party to the agreement"


def test_a_representative_signs_only_for_their_own_organisation() -> None:
    a = agreement_in(A.SIGNING, organisations=[organisation(1), organisation(2)])
    error = refused(
        a,
        "sign",
        actor=representative(organisation(1), "Eva"),
        today=date(2026, 9, 20),
        data={"party": ORGNRS[2]},
    )
    assert error.reason == "Eva may sign only for their own organisation"


def test_an_officer_cannot_sign_for_the_organisation() -> None:
    a = agreement_in(A.SIGNING)
    error = refused(a, "sign", actor=OFFICER, today=date(2026, 9, 20), data={"party": ORG1})
    assert error.reason == "an officer signs for the municipality only"


def test_a_party_cannot_sign_twice() -> None:
    a = agreement_in(A.SIGNING)
    fire_step(a, "sign", actor=OFFICER, today=date(2026, 9, 20))
    error = refused(a, "sign", actor=OTHER_OFFICER, today=date(2026, 9, 21))
    assert error.reason == "'municipality' has already signed"


def test_activation_needs_both_signatures() -> None:
    a = agreement_in(A.SIGNING)
    error = refused(a, "activate", today=date(2026, 9, 20))
    assert error.reason == f"not signed yet by: municipality, Förening 1 ({ORG1})"
    fire_step(a, "sign", actor=OFFICER, today=date(2026, 9, 20))
    error = refused(a, "activate", today=date(2026, 9, 20))
    assert error.reason == f"not signed yet by: Förening 1 ({ORG1})"
    assert (a.payouts, a.follow_ups) == ([], [])


def test_activation_needs_every_party_organisations_signature() -> None:
    a = agreement_in(A.SIGNING, organisations=[organisation(1), organisation(2)])
    fire_step(a, "sign", actor=OFFICER, today=date(2026, 9, 20))
    fire_step(a, "sign", actor=rep_of(a, 1), today=date(2026, 9, 20))
    error = refused(a, "activate", today=date(2026, 9, 20))
    assert error.reason == f"not signed yet by: Förening 1 ({ORG1})"


def test_activation_needs_an_approving_decision() -> None:
    a = agreement_in(A.SIGNING)
    sign_all(a, date(2026, 9, 20))
    a.decisions.clear()  # e.g. an imported case whose decision was never recorded
    error = refused(a, "activate", today=date(2026, 9, 20))
    assert error.reason == "no approving nämnd decision is recorded"


def test_activation_plans_a_follow_up_per_year_and_two_payouts_per_year() -> None:
    a = agreement_in(A.SIGNING)
    sign_all(a, date(2026, 9, 20))
    changes = fire_step(a, "activate", today=date(2026, 9, 20))
    assert a.state is A.ACTIVE
    assert len(changes) == 1  # created objects start planned; only the agreement changed
    assert [(f.year, f.state, f.opens_on, f.due_on) for f in a.follow_ups][:2] == [
        (2027, FollowUpState.PLANNED, date(2027, 11, 1), date(2028, 3, 31)),
        (2028, FollowUpState.PLANNED, date(2028, 11, 1), date(2029, 3, 31)),
    ]
    assert [f.year for f in a.follow_ups] == [2027, 2028, 2029, 2030, 2031]
    assert len(a.payouts) == 10
    assert {p.amount_ore for p in a.payouts} == {15_000_000}
    assert all(p.state is PayoutState.PLANNED for p in a.payouts)
    assert [(p.covers_from, p.covers_to, p.due_on) for p in a.payouts[:2]] == [
        (date(2027, 1, 1), date(2027, 6, 30), date(2027, 4, 30)),
        (date(2027, 7, 1), date(2027, 12, 31), date(2027, 10, 29)),  # 31 Oct is a Sunday
    ]


def test_two_parties_share_each_instalment_by_their_shares() -> None:
    a = agreement_in(
        A.ACTIVE, organisations=[organisation(1), organisation(2)], shares_bp=[7000, 3000]
    )
    first_half = [p for p in a.payouts if p.covers_from == date(2027, 1, 1)]
    assert sorted((p.organisation_id, p.amount_ore) for p in first_half) == [
        (1, 10_500_000),
        (2, 4_500_000),
    ]


# --- active period: amendment, renewal, end -----------------------------------------


def _amend_data(**extra: str) -> dict[str, str]:
    return {
        "decided_on": "2027-05-20",
        "paragraph": "§ 80",
        "description": "Tilläggsavtal",
        **extra,
    }


def test_an_amendment_changes_unreleased_instalments_but_never_released_ones() -> None:
    a = agreement_in(A.ACTIVE)
    released = first_payout(a)
    release(a, released)
    fire_step(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),
        data=_amend_data(**{"support.2027": "400000", "support.2028": "200000"}),
    )
    assert released.amount_ore == 15_000_000
    assert released.state is PayoutState.RELEASED
    second_half_2027 = next(p for p in a.payouts if p.covers_from == date(2027, 7, 1))
    assert second_half_2027.amount_ore > 15_000_000
    assert [p.amount_ore for p in a.payouts if p.covers_from.year == 2028] == [
        10_000_000,
        10_000_000,
    ]
    (amendment,) = a.amendments
    assert amendment.support_changes == {"2027": 40_000_000, "2028": 20_000_000}
    assert (amendment.paragraph, amendment.recorded_by) == ("§ 80", SECRETARY.name)


def test_an_amendment_pays_the_rest_of_a_changed_year_after_its_released_instalments() -> None:
    a = agreement_in(A.ACTIVE)
    release(a, first_payout(a))  # 150 000 kr of 2027's 300 000 kr is paid
    fire_step(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),
        data=_amend_data(**{"support.2027": "400000"}),
    )
    year_2027 = [p.amount_ore for p in a.payouts if p.covers_from.year == 2027]
    assert sum(year_2027) == 40_000_000
    assert year_2027 == [15_000_000, 25_000_000]


def test_an_amendment_shortening_the_period_cancels_the_later_follow_ups_and_payouts() -> None:
    a = agreement_in(A.ACTIVE)
    changes = fire_step(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),
        data=_amend_data(end="2028-12-31"),
    )
    assert (a.state, a.end) == (A.ACTIVE, date(2028, 12, 31))
    assert [(f.year, f.state) for f in a.follow_ups] == [
        (2027, FollowUpState.PLANNED),
        (2028, FollowUpState.PLANNED),
        (2029, FollowUpState.CANCELLED),
        (2030, FollowUpState.CANCELLED),
        (2031, FollowUpState.CANCELLED),
    ]
    assert sum(p.state is PayoutState.CANCELLED for p in a.payouts) == 6
    assert len(changes) == 1 + 3 + 6


def test_an_amendment_cannot_end_the_period_in_the_past() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a, "amend", actor=SECRETARY, today=date(2027, 6, 1), data=_amend_data(end="2027-05-31")
    )
    assert error.reason == "the new end date 2027-05-31 has already passed"


def test_an_amendment_cannot_end_the_period_before_an_already_released_payout() -> None:
    a = agreement_in(A.ACTIVE)
    second = next(p for p in a.payouts if p.covers_from == date(2027, 7, 1))
    release(a, second)  # released on its due day, 2027-10-29
    error = refused(
        a,
        "amend",
        actor=SECRETARY,
        today=date(2027, 6, 1),  # the decision is registered with an earlier date
        data=_amend_data(end="2027-06-30"),
    )
    assert error.reason == "a payout covering 2027-07-01 is already released"


def test_an_amendment_cannot_lengthen_the_period_beyond_five_years() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a, "amend", actor=SECRETARY, today=date(2027, 6, 1), data=_amend_data(end="2032-03-31")
    )
    assert "maximum of 5 years" in error.reason


def test_the_schedule_starts_the_renewal_dialogue_only_in_the_final_year() -> None:
    # A person may start it earlier (tests/unit/test_renewal_timing_rules.py).
    a = agreement_in(A.ACTIVE)
    error = refused(a, "start_renewal", actor=SYSTEM, today=date(2030, 12, 31))
    assert error.reason == "the renewal dialogue opens 2031-01-01, in the agreement's final year"


def _renewal_data(meeting: date, end: str = "2034-12-31") -> dict[str, str]:
    return {
        "end": end,
        **decision_data(meeting, "§ 30"),
        **support_data(date(2032, 1, 1), date.fromisoformat(end)),
    }


def test_renewal_moves_the_period_forward_and_plans_the_new_years() -> None:
    a = agreement_in(A.RENEWAL)
    fire_step(
        a, "renew", actor=SECRETARY, today=date(2031, 9, 1), data=_renewal_data(date(2031, 8, 28))
    )
    assert a.state is A.ACTIVE
    assert (a.start, a.end, a.period_no, a.origin) == (
        date(2032, 1, 1),
        date(2034, 12, 31),
        2,
        START,
    )
    assert [f.year for f in a.follow_ups] == list(range(2027, 2035))
    new_payouts = [p for p in a.payouts if p.covers_from.year >= 2032]
    assert len(new_payouts) == 6
    assert all(p.state is PayoutState.PLANNED for p in new_payouts)
    assert a.decisions[-1].kind is DecisionKind.RENEWAL
    assert a.decisions[-1].period_no == 2


def test_renewal_decided_on_the_deadline_three_months_before_expiry_is_accepted() -> None:
    a = agreement_in(A.RENEWAL)
    fire_step(
        a, "renew", actor=SECRETARY, today=date(2031, 10, 5), data=_renewal_data(date(2031, 9, 30))
    )
    assert a.state is A.ACTIVE


def test_renewal_decided_after_the_deadline_is_refused() -> None:
    a = agreement_in(A.RENEWAL)
    error = refused(
        a, "renew", actor=SECRETARY, today=date(2031, 10, 5), data=_renewal_data(date(2031, 10, 1))
    )
    assert error.reason == (
        "renewal must be decided by 2031-09-30; the decision is dated 2031-10-01"
    )
    assert (a.state, a.start, a.end, a.period_no) == (A.RENEWAL, START, END, 1)


def test_renewal_with_a_decision_from_a_future_meeting_is_refused() -> None:
    a = agreement_in(A.RENEWAL)
    error = refused(
        a, "renew", actor=SECRETARY, today=date(2031, 6, 1), data=_renewal_data(date(2031, 6, 2))
    )
    assert error.reason == "the meeting date 2031-06-02 is in the future"


def test_a_renewed_period_may_not_be_longer_than_five_years() -> None:
    a = agreement_in(A.RENEWAL)
    error = refused(
        a,
        "renew",
        actor=SECRETARY,
        today=date(2031, 6, 1),
        data=_renewal_data(date(2031, 5, 28), end="2037-01-01"),
    )
    assert "period 2032-01-01 – 2037-01-01 is longer than" in error.reason


def test_a_renewal_needs_support_for_every_new_year() -> None:
    a = agreement_in(A.RENEWAL)
    data = _renewal_data(date(2031, 5, 28))
    del data["support.2033"]
    error = refused(a, "renew", actor=SECRETARY, today=date(2031, 6, 1), data=data)
    assert error.reason == "the economic plan has no municipal support for 2033"


def test_a_renewal_needs_a_new_end_date() -> None:
    a = agreement_in(A.RENEWAL)
    data = _renewal_data(date(2031, 5, 28))
    del data["end"]
    error = refused(
        a, "renew", actor=SECRETARY, today=date(2031, 6, 1), data=data, error=InvalidInput
    )
    assert error.field == "end"


def test_declining_renewal_records_who_declined_and_the_agreement_runs_to_its_end() -> None:
    a = agreement_in(A.RENEWAL)
    rep = rep_of(a)
    fire_step(a, "decline_renewal", actor=rep, today=date(2031, 2, 1))
    assert (a.state, a.renewal_declined_by, a.end) == (A.NOT_RENEWED, rep.name, END)
    error = refused(a, "end", today=date(2031, 12, 31))
    assert error.reason == "the period runs until 2031-12-31"
    fire_step(a, "end", actor=SYSTEM, today=date(2032, 1, 1))
    assert a.state is A.ENDED


def test_an_agreement_cannot_end_before_its_end_date() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(a, "end", actor=SYSTEM, today=END)
    assert error.reason == "the period runs until 2031-12-31"


# --- rules of firing: states, roles, input ------------------------------------------


def test_a_step_not_allowed_in_the_current_state_names_the_state_and_the_allowed_steps() -> None:
    a = agreement_in(A.INITIATIVE)
    error = refused(a, "activate", today=date(2026, 9, 1), error=InvalidStep)
    assert error.state == "initiative"
    assert error.allowed == ["assess_criterion", "reject", "start_dialogue", "withdraw"]
    assert "'initiative'" in str(error)
    assert "allowed now: assess_criterion, reject, start_dialogue, withdraw" in str(error)


def test_an_unknown_step_is_bad_input_on_the_trigger_listing_every_step() -> None:
    a = agreement_in(A.SIGNING)
    error = refused(a, "approve", today=date(2026, 9, 20), error=InvalidInput)
    assert error.field == "TRIGGER"
    assert str(error).startswith("TRIGGER: 'approve' is not a step; the steps are: ")
    assert {"sign", "activate", "approve_decision", "write_off_claim"} <= set(
        str(error).split(": ")[-1].split(", ")
    )


def test_a_closed_agreement_allows_no_further_agreement_step() -> None:
    a = agreement_in(A.CLOSED)
    error = refused(a, "terminate", today=date(2028, 6, 1), error=InvalidStep)
    assert "'closed'" in str(error)
    assert str(error).endswith("allowed now: none")


@pytest.mark.parametrize("trigger", sorted(PERMISSIONS))
def test_an_auditor_may_fire_no_step(trigger: str) -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(a, trigger, actor=AUDITOR, today=date(2027, 5, 1), error=NotPermitted)
    assert f"may not fire '{trigger}'" in str(error)


@pytest.mark.parametrize(
    ("trigger", "actor", "state"),
    [
        ("approve_decision", OFFICER, A.DECISION),
        ("submit_for_decision", SECRETARY, A.ECONOMIC_PLAN),
        ("start_dialogue", SYSTEM, A.INITIATIVE),
        ("renew", OFFICER, A.RENEWAL),
        ("terminate", SECRETARY, A.ACTIVE),
        ("amend", OFFICER, A.ACTIVE),
    ],
)
def test_a_role_that_may_not_fire_a_step_is_not_permitted(
    trigger: str, actor: Actor, state: AgreementState
) -> None:
    a = agreement_in(state)
    error = refused(a, trigger, actor=actor, today=date(2027, 5, 1), error=NotPermitted)
    roles = ", ".join(sorted(r.value for r in PERMISSIONS[trigger]))
    assert str(error) == (
        f"{actor.name} ({actor.role.value}) may not fire '{trigger}'; allowed roles: {roles}"
    )


def test_an_organisation_representative_may_not_activate_or_terminate() -> None:
    a = agreement_in(A.ACTIVE)
    for trigger in ("terminate", "activate", "close"):
        refused(a, trigger, actor=rep_of(a), today=date(2027, 5, 1), error=NotPermitted)


def test_an_unknown_input_key_is_refused_naming_the_key() -> None:
    a = agreement_in(A.INITIATIVE)
    assess_all(a, date(2026, 9, 1))
    error = refused(
        a,
        "start_dialogue",
        today=date(2026, 9, 1),
        data={"reasn": "typo"},
        error=InvalidInput,
    )
    assert error.field == "reasn"
    assert "'reasn'" in str(error)
    assert "is not an input of this step" in str(error)


def test_an_input_key_of_another_step_is_refused_even_when_the_step_is_otherwise_valid() -> None:
    a = agreement_in(A.ACTIVE)
    error = refused(
        a, "start_renewal", today=date(2031, 1, 5), data={"end": "2034-12-31"}, error=InvalidInput
    )
    assert error.field == "end"
    assert a.state is A.ACTIVE


def test_available_steps_offer_what_the_machine_allows_with_the_human_roles() -> None:
    a = agreement_in(A.SIGNING)
    offered = {s.trigger: s.roles for s in available_steps(a)}
    assert offered == {
        "activate": ("officer",),
        "sign": ("officer", "organisation_representative"),
    }


def test_available_steps_of_an_active_agreement_include_each_planned_payout_and_follow_up() -> None:
    a = agreement_in(A.ACTIVE)
    steps = available_steps(a)
    targets = {s.target for s in steps if s.entity == "follow_up"}
    assert targets == {f"year={y}" for y in range(2027, 2032)}
    payout_targets = {s.target for s in steps if s.trigger == "release_payout"}
    assert payout_targets == {f"payout={p.id}" for p in a.payouts}


def test_a_refused_step_leaves_every_recorded_detail_unchanged() -> None:
    a = agreement_in(A.ACTIVE)
    release(a, first_payout(a))
    before = snapshot(a)
    with pytest.raises(GuardRefused):
        fire_step(
            a,
            "terminate",
            today=date(2027, 6, 1),
            data={"date": "2035-01-01", "reason": "Fel datum"},
        )
    assert snapshot(a) == before
