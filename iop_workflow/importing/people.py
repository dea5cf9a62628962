"""The file's people, and the check that a name fits where the file uses it."""

from __future__ import annotations

from collections.abc import Sequence

from ..domain.errors import InvalidInput
from ..domain.model import Person
from ..domain.policy import Policy
from ..domain.states import Role
from ..policies import load_policy
from .bundle import ImportBundle, PersonReference, Where
from .locate import record_label
from .schema import PersonIn, bare_message


def policy_for(key: str, where: Where) -> Policy:
    try:
        return load_policy(key)
    except InvalidInput as error:
        raise where.refuse(bare_message(error)) from None


class People:
    """The file's people by name, and the check that a name fits where it is used."""

    def __init__(
        self, records: Sequence[PersonIn], organisations: dict[str, int], bundle: ImportBundle
    ) -> None:
        self.bundle = bundle
        self.by_key: dict[str, tuple[Person, str | None]] = {}
        for index, raw in enumerate(records):
            label = record_label("people", index, raw.name)
            key = raw.name.casefold()
            if key in self.by_key:
                raise Where(label, "name").refuse(f"{raw.name} is listed twice")
            person = self._person(raw, label, organisations)
            self.by_key[key] = (person, raw.organisation)
            bundle.people.append((person, raw.organisation))
        # Managers may be listed after the officers they manage.
        for index, raw in enumerate(records):
            if raw.manager is not None:
                self.require(
                    raw.manager,
                    (Role.MANAGER,),
                    Where(record_label("people", index, raw.name), "manager"),
                    municipality=raw.municipality,
                )

    @staticmethod
    def _person(raw: PersonIn, label: str, organisations: dict[str, int]) -> Person:
        role = Role(raw.role)
        if role is Role.ORG_REP:
            if raw.organisation is None:
                raise Where(label, "organisation").refuse(f"is required for a {role.value}")
            if raw.organisation not in organisations:
                raise Where(label, "organisation").refuse(
                    f"no organisation {raw.organisation} among this file's organisations"
                )
            for name in ("municipality", "manager"):
                if getattr(raw, name) is not None:
                    raise Where(label, name).refuse(f"is for staff, not a {role.value}")
        else:
            if raw.organisation is not None:
                raise Where(label, "organisation").refuse(
                    f"only an organisation_representative speaks for an organisation, "
                    f"not a {role.value}"
                )
            if raw.municipality is None:
                raise Where(label, "municipality").refuse(f"is required for a {role.value}")
            policy_for(raw.municipality, Where(label, "municipality"))
            if raw.manager is not None and role is not Role.OFFICER:
                raise Where(label, "manager").refuse(f"only an officer has one, not a {role.value}")
        if raw.digest and raw.email is None:
            # A digest is an e-mail: without an address the choice would silently do nothing.
            raise Where(label, "digest").refuse("needs an email address")
        return Person(
            name=raw.name,
            role=role,
            email=raw.email,
            municipality=raw.municipality,
            manager=raw.manager,
            digest=bool(raw.digest),
        )

    def require(
        self,
        name: str,
        roles: tuple[Role, ...],
        where: Where,
        *,
        municipality: str | None = None,
        organisations: tuple[str, ...] = (),
    ) -> None:
        reference = PersonReference(name, roles, where, municipality, organisations)
        found = self.by_key.get(name.casefold())
        if found is None:
            self.bundle.referenced_people.append(reference)
            return
        person, orgnr = found
        if person.name != name:
            raise where.refuse(f"'{name}' is spelled '{person.name}' in people")
        problem = reference.problem(person, orgnr)
        if problem:
            raise where.refuse(problem)
