"""Notices that a step itself causes (iop-rules §3), as opposed to the sweep's reminders.

A returned report, an approved follow-up (with the payouts it released at once) and a
raised repayment claim are news for the organisation on the day they happen. They are
derived from the step's state changes, so the service stores them in the same
transaction as the step and its audit records: a refused or rolled-back step sends
nothing, a committed one cannot forget its notice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .context import StateChange
from .model import Agreement
from .reminders import ORGANISATION, Stage
from .states import ClaimState

REPORT_RETURNED = "report_returned"
FOLLOW_UP_APPROVED = "follow_up_approved"
CLAIM_RAISED = "claim_raised"
REPORT_RECEIVED = "report_received"


@dataclass(frozen=True)
class StepNotice:
    subject_date: date
    stage: Stage
    facts: dict[str, Any] = field(default_factory=dict)


def step_notices(
    agreement: Agreement, changes: Sequence[StateChange], today: date
) -> list[StepNotice]:
    """The notices the fired step's `changes` call for, keyed so each exists once.

    Call after the changes are flushed: a returned report's stage carries the follow-up's
    version, so a report returned twice in one day gives two notices, not one.
    """
    by_year = {str(f.year): f for f in agreement.follow_ups}
    payouts = {str(p.id): p for p in agreement.payouts if p.id is not None}
    released = sum(
        payouts[c.entity_key].amount_ore
        for c in changes
        if c.trigger == "release_payout" and c.entity_key in payouts
    )
    notices = []
    for change in changes:
        follow_up = by_year.get(change.entity_key) if change.entity == "follow_up" else None
        if change.trigger == "return_follow_up" and follow_up is not None:
            notices.append(
                _notice(
                    today,
                    REPORT_RETURNED,
                    f"returned_{follow_up.year}_v{follow_up.version}",
                    agreement,
                    year=follow_up.year,
                    due=follow_up.due_on,
                    reason=follow_up.return_reason or change.reason,
                )
            )
        elif change.trigger == "approve_follow_up" and follow_up is not None:
            extra = {"amount_ore": released} if released else {}
            notices.append(
                _notice(
                    today,
                    FOLLOW_UP_APPROVED,
                    f"approved_{follow_up.year}",
                    agreement,
                    year=follow_up.year,
                    **extra,
                )
            )
        elif change.trigger == "raise_claim":
            notices += _claims_raised(agreement, today)
    return notices


def _claims_raised(agreement: Agreement, today: date) -> list[StepNotice]:
    """One notice per claim: with several parties, each claim has its own amount."""
    raised = [c for c in agreement.claims if c.raised_on == today and c.state is ClaimState.RAISED]
    return [
        _notice(
            today,
            CLAIM_RAISED,
            f"raised_{claim.kind.value}_{claim.organisation_id}",
            agreement,
            organisation_id=claim.organisation_id,
            amount_ore=claim.amount_ore,
            due=claim.due_on,
            basis=claim.basis,
        )
        for claim in raised
    ]


def _notice(today: date, kind: str, stage: str, agreement: Agreement, **facts: Any) -> StepNotice:
    return StepNotice(
        today,
        Stage(today, kind, stage, (ORGANISATION,)),
        {"diarienummer": agreement.diarienummer, **facts},
    )


def report_received(
    agreement: Agreement,
    year: int,
    submission: int,
    files: Sequence[dict[str, Any]],
    statistics: dict[str, int],
    today: date,
) -> StepNotice:
    """The receipt (kvittens) of a report the organisation handed in: each file with its
    arrival time and SHA-256 (`files`: name, kind, size, sha256, received), the counts.
    Keyed by the submission, so each hand-in has one receipt."""
    return _notice(
        today,
        REPORT_RECEIVED,
        f"received_{year}_{submission}",
        agreement,
        year=year,
        submission=submission,
        files=[dict(f) for f in files],
        statistics=dict(statistics),
    )
