"""Follow-up history (uppföljning) of an imported agreement.

Only agreements that have been active have follow-ups. An imported follow-up
must pass the guards of the steps that lead to its state (domain/machines.py):
phases.py replays them, so an approved one has every required document, the
statistics the agreement names, and a reviewer other than the submitter. Here
the file must name who took those steps, and its dates must be in order.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Protocol

from ..domain import deadlines
from ..domain.errors import InvalidInput
from ..domain.model import Agreement, FollowUp, FollowUpDocument
from ..domain.policy import Policy
from ..domain.states import FollowUpState as F
from ..domain.states import Role
from .bundle import Where
from .phases import HAS_BEEN_ACTIVE, follow_up_path
from .schema import AgreementIn, FollowUpIn, bare_message

FollowUpDates = Callable[[Agreement, Policy, int], tuple[date, date]]
"""(agreement, policy, year) -> (opens_on, due_on); the deadline engine's by default."""

default_follow_up_dates: FollowUpDates = deadlines.follow_up_dates


def _reached_by(*triggers: str) -> frozenset[F]:
    """The follow-up states whose way from planned passes one of `triggers`."""
    return frozenset(s for s in F if any(t in triggers for _, t in follow_up_path(s)))


# Who submitted the report (submit_report) and who reviewed it, the file must say.
_SUBMITTED = _reached_by("submit_report")  # submitted, returned, approved
_REVIEWED = _reached_by("approve_follow_up", "return_follow_up")  # returned, approved


class Require(Protocol):
    def __call__(
        self,
        name: str,
        roles: tuple[Role, ...],
        where: Where,
        *,
        municipality: str | None = None,
        organisations: tuple[str, ...] = (),
    ) -> None: ...


def follow_ups(
    raw: AgreementIn,
    agreement: Agreement,
    policy: Policy,
    require: Require,
    at: Callable[[str], Where],
    dates: FollowUpDates,
) -> list[FollowUp]:
    records = raw.follow_ups or []
    if records and agreement.state not in HAS_BEEN_ACTIVE:
        raise at("follow_ups").refuse(
            f"an agreement in state '{agreement.state.value}' has no follow-ups yet"
        )
    found: list[FollowUp] = []
    for index, item in enumerate(records):
        field = f"follow_ups[{index}]"
        if not agreement.start.year <= item.year <= agreement.end.year:
            raise at(f"{field}.year").refuse(
                f"{item.year} is outside the period {agreement.start} – {agreement.end}"
            )
        if any(f.year == item.year for f in found):
            raise at(f"{field}.year").refuse(f"{item.year} is followed up twice")
        inside = _Inside(at, field)
        _check_state(item, inside)
        _check_people(item, agreement, require, inside)
        try:
            opens_on, due_on = dates(agreement, policy, item.year)
        except InvalidInput as error:
            raise at(f"{field}.year").refuse(bare_message(error)) from None
        found.append(
            FollowUp(
                year=item.year,
                opens_on=opens_on,
                due_on=due_on,
                state=item.state,
                submitted_by=item.submitted_by,
                submitted_on=item.submitted_on,
                reviewed_by=item.reviewed_by,
                reviewed_on=item.reviewed_on,
                return_reason=item.return_reason,
                statistics=dict(item.statistics or {}),
                forum=_review_forum(item, policy),
                meeting_on=item.meeting.meeting_on if item.meeting else None,
                minutes_ref=item.meeting.minutes_ref if item.meeting else None,
                documents=[
                    FollowUpDocument(d.kind, d.arrived, d.received_by, d.note)
                    for d in item.documents or []
                ],
            )
        )
    return sorted(found, key=lambda f: f.year)


def _review_forum(item: FollowUpIn, policy: Policy) -> str | None:
    """The forum of the review's meeting: the file's, else the preset's (as the step)."""
    if item.meeting is None:
        return None
    return item.meeting.forum or policy.dialogue_forum


class _Inside:
    """Fields of one follow-up record, named from the agreement's record."""

    def __init__(self, at: Callable[[str], Where], prefix: str) -> None:
        self.at, self.prefix = at, prefix

    def __call__(self, name: str) -> Where:
        return self.at(f"{self.prefix}.{name}")


def _check_state(item: FollowUpIn, at: _Inside) -> None:
    state = item.state.value
    if item.state in _SUBMITTED and item.submitted_by is None:
        raise at("submitted_by").refuse(f"is required for a follow-up that is {state}")
    if item.state in _REVIEWED and item.reviewed_by is None:
        raise at("reviewed_by").refuse(f"is required for a follow-up that is {state}")
    if item.meeting is not None and item.state not in _REVIEWED:
        raise at("meeting").refuse(f"a follow-up that is {state} has not been reviewed yet")
    if item.state is F.RETURNED and item.return_reason is None:
        raise at("return_reason").refuse("is required for a returned follow-up (komplettering)")
    if item.submitted_on and item.reviewed_on and item.reviewed_on < item.submitted_on:
        raise at("reviewed_on").refuse(
            f"{item.reviewed_on} is before the submission on {item.submitted_on}"
        )


def _check_people(item: FollowUpIn, agreement: Agreement, require: Require, at: _Inside) -> None:
    orgnrs = tuple(p.organisation.organisationsnummer for p in agreement.parties)
    municipality = agreement.municipality
    if item.submitted_by is not None:
        require(item.submitted_by, (Role.ORG_REP,), at("submitted_by"), organisations=orgnrs)
    if item.reviewed_by is not None:
        require(
            item.reviewed_by,
            (Role.OFFICER, Role.MANAGER),
            at("reviewed_by"),
            municipality=municipality,
        )
    for index, document in enumerate(item.documents or []):
        if document.received_by is not None:
            require(
                document.received_by,
                (Role.OFFICER, Role.ORG_REP),
                at(f"documents[{index}].received_by"),
                municipality=municipality,
                organisations=orgnrs,
            )
