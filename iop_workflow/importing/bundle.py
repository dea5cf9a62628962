"""What an import file yields: domain objects plus what only the database can settle.

The file may name organisations and people that are not in it but already
stored. Parsing stays pure, so those names are handed back (`unresolved_orgnrs`,
`referenced_people`) for the storing side to look up before it writes anything.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from ..domain.errors import InvalidInput
from ..domain.model import Agreement, Organisation, Person
from ..domain.states import Role
from .phases import PhaseCheck


@dataclass(frozen=True)
class Where:
    """A record and a field in the file, to name in a message."""

    record: str
    field: str

    def refuse(self, message: str) -> InvalidInput:
        return InvalidInput(message, record=self.record, field=self.field)

    def __str__(self) -> str:
        return f"{self.record} field '{self.field}'"


# The fields naming someone who is to act or be notified from now on.
_FORWARD = frozenset({"officer", "manager"})


@dataclass(frozen=True)
class PersonReference:
    """A name the file uses for someone it does not list: the database must know them.

    `municipality` binds staff (the preset key they work for); `organisations`
    binds a representative (any of these organisationsnummer).
    """

    name: str
    roles: tuple[Role, ...]
    where: Where
    municipality: str | None = None
    organisations: tuple[str, ...] = ()

    def problem(self, person: Person, orgnr: str | None) -> str | None:
        """Why `person` (representing `orgnr`) cannot be the one referred to, or None."""
        if not person.active and self.where.field in _FORWARD:
            # Who did something in the past may have left since; who is to act may not.
            return f"{person.name} was deactivated on {person.deactivated_on}"
        if person.role not in self.roles:
            wanted = " or ".join(r.value for r in self.roles)
            return f"{person.name} is {person.role.value}, must be {wanted}"
        if person.role is Role.ORG_REP:
            if self.organisations and orgnr not in self.organisations:
                return f"{person.name} represents {orgnr}, not {' or '.join(self.organisations)}"
        elif self.municipality and person.municipality != self.municipality:
            return f"{person.name} works for {person.municipality}, not {self.municipality}"
        return None


def placeholder_organisation(orgnr: str) -> Organisation:
    """Stands in for a stored organisation until `resolve_organisations` swaps it."""
    return Organisation(name="", organisationsnummer=orgnr, contact_name="", contact_email="")


def is_placeholder(organisation: Organisation) -> bool:
    return organisation.id is None and not organisation.name


@dataclass
class ImportBundle:
    """The parsed file. Nothing in it is stored yet; ids are all None.

    - `people`: each person with the organisationsnummer a representative speaks
      for (None for staff); the storing side sets `Person.organisation_id`.
    - `agreements[*].parties[*].organisation` is the `Organisation` of this file,
      or a placeholder (empty name) for an orgnr in `unresolved_orgnrs`.
    - `unresolved_orgnrs`: orgnr -> where the file first names it.
    - `referenced_people`: names the file uses but does not list.
    - `released_through`: per diarienummer, the day up to which instalments were
      already paid before the import (payouts_released_through).
    - `deferred`: the replay of the steps up to its state (phases.py) of each agreement
      with a party in `unresolved_orgnrs`: `resolve_organisations` runs it.
    """

    organisations: list[Organisation] = field(default_factory=list)
    people: list[tuple[Person, str | None]] = field(default_factory=list)
    agreements: list[Agreement] = field(default_factory=list)
    unresolved_orgnrs: dict[str, Where] = field(default_factory=dict)
    referenced_people: list[PersonReference] = field(default_factory=list)
    released_through: dict[str, date] = field(default_factory=dict)  # diarienummer -> day
    deferred: list[PhaseCheck] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not (self.organisations or self.people or self.agreements)

    def resolve_organisations(self, stored: Mapping[str, Organisation]) -> None:
        """Swap every placeholder party for the stored organisation with that orgnr.

        Refuses the first orgnr that `stored` lacks, then replays the steps of each
        agreement that waited for its stored parties (`deferred`: the föreningsregister,
        the signatures). All-or-nothing: on a refusal no party has been changed.
        """
        for orgnr, where in self.unresolved_orgnrs.items():
            if orgnr not in stored:
                raise where.refuse(f"no organisation {orgnr} in the file or in the database")
        swapped = [
            (party, party.organisation, party.organisation_id)
            for agreement in self.agreements
            for party in agreement.parties
            if is_placeholder(party.organisation)
        ]
        for party, placeholder, _ in swapped:
            party.organisation = stored[placeholder.organisationsnummer]
            party.organisation_id = party.organisation.id
        try:
            for check in self.deferred:
                check.run()
        except InvalidInput:
            for party, placeholder, organisation_id in swapped:
                party.organisation, party.organisation_id = placeholder, organisation_id
            raise
        self.deferred.clear()
        self.unresolved_orgnrs.clear()

    def check_people(self, lookup: Callable[[str], tuple[Person, str | None] | None]) -> None:
        """Refuse the first referenced name that `lookup` (name -> person and the
        orgnr they represent, or None) does not know or knows in another role."""
        for reference in self.referenced_people:
            found = lookup(reference.name)
            if found is None:
                raise reference.where.refuse(
                    f"{reference.name} is neither in this file's people nor in the database"
                )
            problem = reference.problem(*found)
            if problem:
                raise reference.where.refuse(problem)
