"""Who sees which agreement, and who may change anything: object-level authorization.

The web pages and the API never decide this themselves; they ask here. A person sees
the agreements of their own municipality (staff without a municipality see every
one); an organisation's representative sees the agreements their organisation is a
party to; an auditor reads everything, in every municipality, and changes nothing.
An agreement a person may not see is reported exactly as one that does not exist, so
its existence is not given away.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Repository
from ..domain.errors import NotFound, RuleViolation
from ..domain.model import Agreement, Person
from ..domain.states import Role
from .actors import represented

STAFF = frozenset({Role.OFFICER, Role.MANAGER, Role.SECRETARY, Role.AUDITOR})
READ_ONLY_REFUSED = "an auditor reads every agreement and changes none"


@dataclass(frozen=True)
class Viewer:
    """The signed-in person, as authorization needs them."""

    person_id: int
    name: str
    role: Role
    municipality: str | None = None
    organisation_id: int | None = None
    email: str | None = None
    # Every organisation a representative speaks for (organisation_id among them).
    organisation_ids: tuple[int, ...] = ()
    # The officers whose manager this person is (their items show in a manager's list).
    manages: tuple[str, ...] = ()

    @property
    def represents(self) -> frozenset[int]:
        """The organisations a representative speaks for (none for staff)."""
        own = {self.organisation_id} if self.organisation_id is not None else set()
        return frozenset(own | set(self.organisation_ids))

    @property
    def read_only(self) -> bool:
        return self.role is Role.AUDITOR


def viewer_of(repo: Repository, person: Person) -> Viewer:
    assert person.id is not None
    manages: tuple[str, ...] = ()
    if person.role is Role.MANAGER:
        manages = tuple(
            repo.session.scalars(
                sa.select(t.people.c.name)
                .where(t.people.c.manager == person.name)
                .order_by(t.people.c.name)
            )
        )
    return Viewer(
        person_id=person.id,
        name=person.name,
        role=person.role,
        municipality=person.municipality,
        organisation_id=person.organisation_id,
        email=person.email,
        manages=manages,
        organisation_ids=represented(repo, person),
    )


def visible_agreements(viewer: Viewer) -> sa.ColumnElement[bool]:
    """A WHERE clause on `agreements` keeping the rows `viewer` may see (set-wise: the
    work list, search and the API's list use it)."""
    a = t.agreements
    if viewer.role is Role.ORG_REP:
        if not viewer.represents:
            return sa.false()
        parties = sa.select(t.agreement_parties.c.agreement_id).where(
            t.agreement_parties.c.organisation_id.in_(sorted(viewer.represents))
        )
        return a.c.id.in_(parties)
    if viewer.role in STAFF and viewer.municipality and not viewer.read_only:
        return a.c.municipality == viewer.municipality
    if viewer.role in STAFF:
        return sa.true()
    return sa.false()


def may_see(viewer: Viewer, agreement: Agreement) -> bool:
    """The same rule as `visible_agreements`, for one loaded agreement."""
    if viewer.role is Role.ORG_REP:
        return any(p.organisation.id in viewer.represents for p in agreement.parties)
    if viewer.role in STAFF:
        return (
            viewer.read_only
            or not viewer.municipality
            or viewer.municipality == agreement.municipality
        )
    return False


def seen_agreement(repo: Repository, viewer: Viewer, ref: str | int) -> Agreement:
    """Agreement `ref` when `viewer` may see it; else the very NotFound of a missing one."""
    agreement = repo.find_agreement(ref)
    if agreement is None or not may_see(viewer, agreement):
        raise NotFound(f"no agreement '{ref}'")
    return agreement


class ReadOnly(RuleViolation):
    """The person may read but not change (an auditor): a matter of role, like
    `NotPermitted`."""


def refuse_read_only(viewer: Viewer) -> None:
    if viewer.read_only:
        raise ReadOnly(f"{viewer.name}: {READ_ONLY_REFUSED}")
