"""The economic plan, the nämnd decisions and the signatures of one agreement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from ..domain.errors import InvalidInput
from ..domain.model import (
    MUNICIPALITY_PARTY,
    Agreement,
    Contribution,
    Decision,
    OtherIncome,
    Signature,
    YearSupport,
)
from ..domain.payout_plan import parse_plan
from ..domain.policy import Policy
from ..domain.states import ContributionKind, DecisionKind, DecisionOutcome, Role
from .bundle import Where
from .people import People
from .schema import AgreementIn, EconomicPlanIn

Locate = Callable[[str], Where]


def economic_plan(plan: EconomicPlanIn, agreement: Agreement, policy: Policy, at: Locate) -> None:
    def in_period(year: int, field: str) -> None:
        if not agreement.start.year <= year <= agreement.end.year:
            raise at(field).refuse(
                f"{year} is outside the period {agreement.start} – {agreement.end}"
            )

    for year, amount in sorted((plan.support or {}).items()):
        in_period(year, f"economic_plan.support.{year}")
        agreement.support.append(YearSupport(year=year, amount_ore=amount))
    for index, item in enumerate(plan.contributions or []):
        field = f"economic_plan.contributions[{index}]"
        in_period(item.year, f"{field}.year")
        if item.kind not in policy.contribution_kinds:
            allowed = ", ".join(k.value for k in policy.contribution_kinds)
            raise at(f"{field}.kind").refuse(
                f"{item.kind.value} is not a contribution kind {policy.key} allows ({allowed})"
            )
        volunteer = item.kind is ContributionKind.VOLUNTEER_HOURS
        if volunteer and item.hours is None:
            raise at(f"{field}.hours").refuse("is required for volunteer_hours")
        if not volunteer and item.hours is not None:
            raise at(f"{field}.hours").refuse("only volunteer_hours contributions have hours")
        agreement.contributions.append(
            Contribution(item.year, item.kind, item.value, item.hours, item.description)
        )
    for index, income in enumerate(plan.other_income or []):
        in_period(income.year, f"economic_plan.other_income[{index}].year")
        agreement.other_income.append(OtherIncome(income.year, income.source, income.amount))
    agreement.repayment_terms, agreement.renewal_terms = plan.repayment_terms, plan.renewal_terms
    for name in ("payout_dates", "payout_plan", "report_due"):
        if getattr(plan, name) is not None and name not in policy.overridable:
            raise at(f"economic_plan.{name}").refuse(
                f"the {policy.key} policy does not allow a per-agreement {name}"
            )
    if plan.payout_dates is not None and len(plan.payout_dates) != len(policy.payout_parts):
        parts = ", ".join(f"{a}..{b}" for a, b in policy.payout_parts)
        raise at("economic_plan.payout_dates").refuse(
            f"needs exactly {len(policy.payout_parts)} dates, one per covered part ({parts})"
        )
    agreement.payout_dates = plan.payout_dates
    agreement.report_due = plan.report_due
    if plan.payout_plan is not None:
        if plan.payout_dates is not None:
            raise at("economic_plan.payout_plan").refuse(
                "give either payout_plan or payout_dates, not both"
            )
        try:
            decided = parse_plan(plan.payout_plan, field="economic_plan.payout_plan")
            decided.check_period(agreement.start, agreement.end)
        except InvalidInput as error:
            raise at("economic_plan.payout_plan").refuse(error.detail) from None
        agreement.payout_plan = decided.stored()


def decisions(raw: AgreementIn, agreement: Agreement, people: People, at: Locate) -> None:
    for index, item in enumerate(raw.decisions or []):
        field = f"decisions[{index}]"
        if item.kind is not DecisionKind.ENTRY:
            # A renewal or amendment changes the period: it is a step, not history.
            raise at(f"{field}.kind").refuse(
                f"only entry decisions are imported; record a {item.kind.value} as a step"
            )
        if item.minutes_adjusted is not None and item.minutes_adjusted < item.meeting_date:
            raise at(f"{field}.minutes_adjusted").refuse(
                f"{item.minutes_adjusted} is before the meeting on {item.meeting_date}"
            )
        if item.recorded_by is not None:
            people.require(
                item.recorded_by,
                (Role.SECRETARY,),
                at(f"{field}.recorded_by"),
                municipality=agreement.municipality,
            )
        agreement.decisions.append(
            Decision(
                kind=item.kind,
                body=item.body or agreement.committee,
                meeting_date=item.meeting_date,
                paragraph=item.paragraph,
                outcome=item.outcome,
                minutes_adjusted_on=item.minutes_adjusted,
                recorded_by=item.recorded_by,
            )
        )


def signatures(raw: AgreementIn, agreement: Agreement, people: People, at: Locate) -> None:
    parties = [p.organisation.organisationsnummer for p in agreement.parties]
    approvals = [
        d.meeting_date
        for d in agreement.decisions
        if d.outcome is DecisionOutcome.APPROVED and d.kind is DecisionKind.ENTRY
    ]
    for index, item in enumerate(raw.signatures or []):
        field = f"signatures[{index}]"
        if item.party != MUNICIPALITY_PARTY and item.party not in parties:
            raise at(f"{field}.party").refuse(f"{item.party} is not a party to the agreement")
        if any(s.party == item.party for s in agreement.signatures):
            raise at(f"{field}.party").refuse(f"{item.party} has signed twice")
        first_approval: date | None = min(approvals) if approvals else None
        if first_approval is None:
            raise at(f"{field}.signed_on").refuse("no approved entry decision to sign")
        if item.signed_on < first_approval:
            raise at(f"{field}.signed_on").refuse(
                f"{item.signed_on} is before the approving decision of {first_approval}"
            )
        if item.party == MUNICIPALITY_PARTY:
            people.require(
                item.signed_by,
                (Role.OFFICER,),
                at(f"{field}.signed_by"),
                municipality=agreement.municipality,
            )
        else:
            people.require(
                item.signed_by,
                (Role.ORG_REP,),
                at(f"{field}.signed_by"),
                organisations=(item.party,),
            )
        agreement.signatures.append(Signature(item.party, item.signed_on, item.signed_by))
