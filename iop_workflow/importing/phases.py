"""What an agreement imported in a given state must already have.

Importing an agreement in state S claims that every step up to S was taken, so
the file must hold what those steps' guards demand (domain/machines.py): an
agreement imported as `active` needs its approving decision and all
signatures, just as one that reached `active` step by step.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..domain.errors import InvalidInput
from ..domain.gate import has_approving_decision, missing_signatures
from ..domain.model import Agreement, Organisation
from ..domain.policy import Policy
from ..domain.states import AgreementState as A
from ..domain.states import FollowUpState, Verdict
from ..policies import load_policy
from .bundle import is_placeholder

# How far along the lifecycle each state is. Rejected and withdrawn can follow
# any early phase, so they claim nothing.
_RANK = {
    A.INITIATIVE: 0,
    A.DIALOGUE: 1,
    A.ECONOMIC_PLAN: 2,
    A.DECISION: 3,
    A.SIGNING: 4,
    A.ACTIVE: 5,
    A.RENEWAL: 5,
    A.NOT_RENEWED: 5,
    A.ENDED: 5,
    A.TERMINATED: 5,
    A.REPAYMENT: 5,
    A.CLOSED: 5,
}
DIALOGUE, PLAN, DECISION, SIGNING, ACTIVE = 1, 2, 3, 4, 5


def rank(state: A) -> int | None:
    return _RANK.get(state)


def check_phase(agreement: Agreement, policy: Policy, record: str) -> None:
    """Refuse the first thing `agreement` lacks for the state it is imported in."""
    reached = rank(agreement.state)
    if reached is None:
        return
    state = agreement.state.value

    def refuse(field: str, message: str) -> InvalidInput:
        return InvalidInput(f"{message}; required in state '{state}'", record=record, field=field)

    if reached >= DIALOGUE:
        verdicts = {a.criterion: a.verdict for a in agreement.assessments}
        for criterion in policy.criteria:
            verdict = verdicts.get(criterion.key)
            if verdict is None:
                raise refuse("criteria", f"criterion '{criterion.key}' is not assessed")
            if criterion.required and verdict is not Verdict.MET:
                raise refuse("criteria", f"required criterion '{criterion.key}' is {verdict.value}")
        check_registration(agreement, record, {})
    if reached >= PLAN:
        for name in ("goals", "purpose", "target_group"):
            if not getattr(agreement, name):
                raise refuse(name, "the dialogue's outcome is not recorded")
        if not agreement.indicators:
            raise refuse("indicators", "the statistics the yearly report must hold are not named")
    if reached >= DECISION:
        for year in range(agreement.start.year, agreement.end.year + 1):
            if agreement.support_for(year) <= 0:
                raise refuse("economic_plan.support", f"no municipal support for {year}")
        if sum(c.amount_ore for c in agreement.contributions) <= 0:
            raise refuse(
                "economic_plan.contributions",
                "the organisation's own contribution (egna insatser) is missing",
            )
        for name in ("repayment_terms", "renewal_terms"):
            if not getattr(agreement, name):
                raise refuse(f"economic_plan.{name}", "the agreement must state them")
    if reached >= SIGNING and not has_approving_decision(agreement, 1):
        raise refuse("decisions", "no approved entry decision is recorded")
    if reached >= ACTIVE and missing_signatures(agreement, 1):
        missing = ", ".join(missing_signatures(agreement, 1))
        raise refuse("signatures", f"not signed by {missing}")
    if agreement.state is A.CLOSED:
        done = {FollowUpState.APPROVED, FollowUpState.CANCELLED}
        for follow_up in agreement.follow_ups:
            if follow_up.state not in done:
                raise refuse("follow_ups", f"follow-up {follow_up.year} is {follow_up.state.value}")


def check_registration(
    agreement: Agreement, record: str, stored: Mapping[str, Organisation]
) -> None:
    """Kramfors-like policies admit to dialogue only organisations in the
    föreningsregister. A party still waiting for the database is checked when
    `stored` has it (ImportBundle.resolve_organisations)."""
    reached = rank(agreement.state)
    if reached is None or reached < DIALOGUE:
        return
    policy = load_policy(agreement.municipality)
    if not policy.requires_forening_registration:
        return
    for index, party in enumerate(agreement.parties):
        organisation: Organisation | None = party.organisation
        if organisation is not None and is_placeholder(organisation):
            organisation = stored.get(organisation.organisationsnummer)
        if organisation is not None and not organisation.forening_registered:
            raise InvalidInput(
                f"{organisation.name} ({organisation.organisationsnummer}) is not registered "
                f"in {policy.municipality}'s föreningsregister; required in state "
                f"'{agreement.state.value}'",
                record=record,
                field=f"parties[{index}].organisation",
            )
