"""Who is acting: turn a name into an `Actor` and check they belong to the agreement."""

from __future__ import annotations

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Repository
from ..domain.errors import NotFound, RuleViolation
from ..domain.model import Agreement, Person
from ..domain.roles import DEFAULT_ORIGIN, FLOW_ORIGIN, SYSTEM_ACTOR, Actor, Origin
from ..domain.states import Role

SYSTEM_REFUSED = "'system' is the scheduled flows' own name; act as a person"


def resolve_actor(
    repo: Repository, name: str, agreement: Agreement, *, origin: Origin = DEFAULT_ORIGIN
) -> Actor:
    """The actor called `name` on `agreement`. Only the scheduled flows (channel flow)
    act as the system; through any other channel a person must be named."""
    if name == SYSTEM_ACTOR.name:
        if origin.channel != FLOW_ORIGIN.channel:
            raise RuleViolation(SYSTEM_REFUSED)
        return SYSTEM_ACTOR
    person = repo.person(name)
    if person is None:
        raise NotFound(
            f"no person named '{name}'; people are added with `iop import` or `iop people add`"
        )
    refuse_inactive(person)
    if person.role is Role.ORG_REP:
        orgnr = _represented(agreement, represented(repo, person))
        if orgnr is None:
            raise RuleViolation(
                f"{name} does not represent any party to agreement {agreement.diarienummer}"
            )
        return Actor(name=name, role=person.role, organisation=orgnr)
    if person.municipality and person.municipality != agreement.municipality:
        raise RuleViolation(
            f"{name} works for {person.municipality}, not for {agreement.municipality}"
        )
    return Actor(name=name, role=person.role, municipality=person.municipality)


def represented(repo: Repository, person: Person) -> tuple[int, ...]:
    """The organisations `person` speaks for: their own (`organisation_id`) first, then
    the further ones of `representations`."""
    if person.role is not Role.ORG_REP or person.id is None:
        return ()
    r = t.representations
    further = repo.session.scalars(
        sa.select(r.c.organisation_id)
        .where(r.c.person_id == person.id)
        .order_by(r.c.organisation_id)
    )
    own = () if person.organisation_id is None else (person.organisation_id,)
    return own + tuple(k for k in further if k not in own)


def _represented(agreement: Agreement, organisation_ids: tuple[int, ...]) -> str | None:
    for organisation_id in organisation_ids:
        for party in agreement.parties:
            if party.organisation.id == organisation_id:
                return party.organisation.organisationsnummer
    return None


def refuse_inactive(person: Person) -> None:
    """A person who has left keeps their name on the records but acts no more."""
    if not person.active:
        since = f" on {person.deactivated_on}" if person.deactivated_on else ""
        raise RuleViolation(f"{person.name} was deactivated{since} and can no longer act")
