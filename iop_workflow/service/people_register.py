"""People, maintained after the import: add, change, deactivate (`iop people`).

The rules of who may change what, and the audit record of each change, are the
register's (service/register.py): one record per change, in the change's transaction,
with entity "person" keyed by the name. A deactivated person keeps their history but
can no longer act (service/actors.py) or receive notices (notify/routing.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..clock import Clock
from ..domain.errors import InvalidInput, NotFound, RuleViolation
from ..domain.model import Organisation, Person
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import Role
from ..importing import schema as s
from ..policies import load_policy
from .register import (
    CLEAR,
    FINISHED,
    PERSON,
    Changed,
    audit_change,
    editor,
    given_reason,
    history,
    optional,
    org_municipalities,
    orgnr_of,
    shown,
    valid,
)
from .system_day import refuse_future
from .views import audit_view


@dataclass(frozen=True)
class PersonChange:
    """What to change; None leaves a field as it is, CLEAR empties an optional one."""

    role: str | None = None
    email: str | None = None
    municipality: str | None = None
    organisation: str | None = None  # an organisationsnummer (org representatives)
    manager: str | None = None
    digest: bool | None = None


def _person_values(repo: Repository, person: Person | None, change: PersonChange) -> dict[str, Any]:
    """The person's fields after `change`, validated as the import validates them."""
    new: dict[str, Any] = {}
    if change.role is not None:
        new["role"] = Role(valid("role", s.RoleName, change.role))
    if change.email is not None:
        new["email"] = optional("email", s.Email, change.email)
    if change.municipality is not None:
        key = optional("municipality", s.MunicipalityKey, change.municipality)
        if key is not None:
            load_policy(key)  # an unknown preset is refused naming the known ones
        new["municipality"] = key
    if change.organisation is not None:
        nr = (
            None
            if change.organisation.strip() == CLEAR
            else orgnr_of(change.organisation, "organisation")
        )
        org = None if nr is None else repo.organisation_by_orgnr(nr)
        if nr is not None and org is None:
            raise InvalidInput(f"no organisation {nr}", field="organisation")
        new["organisation_id"] = None if org is None else org.id
    if change.manager is not None:
        new["manager"] = optional("manager", s.NameText, change.manager)
    if change.digest is not None:
        new["digest"] = change.digest
    merged = {
        name: new.get(name, getattr(person, name) if person else None)
        for name in ("role", "email", "municipality", "organisation_id", "manager", "digest")
    }
    _check_person(repo, person.name if person else "", merged)
    return new


def _check_person(repo: Repository, name: str, p: dict[str, Any]) -> None:
    role: Role = p["role"]
    if role is Role.ORG_REP:
        if p["organisation_id"] is None:
            raise InvalidInput(f"is required for a {role.value}", field="organisation")
        for key in ("municipality", "manager"):
            if p[key] is not None:
                raise InvalidInput(f"is for staff, not a {role.value}", field=key)
    else:
        if p["organisation_id"] is not None:
            raise InvalidInput(
                f"only an organisation_representative speaks for an organisation, "
                f"not a {role.value}",
                field="organisation",
            )
        if p["municipality"] is None:
            raise InvalidInput(f"is required for a {role.value}", field="municipality")
        if p["manager"] is not None:
            if role is not Role.OFFICER:
                raise InvalidInput(f"only an officer has one, not a {role.value}", field="manager")
            boss = repo.person(p["manager"])
            if boss is None or boss.role is not Role.MANAGER:
                raise InvalidInput(f"{p['manager']} is not a manager", field="manager")
            if not boss.active:
                raise InvalidInput(
                    f"{boss.name} was deactivated on {boss.deactivated_on}", field="manager"
                )
            if boss.municipality != p["municipality"]:
                raise InvalidInput(
                    f"{boss.name} works for {boss.municipality}, not {p['municipality']}",
                    field="manager",
                )
    if p["digest"] and not p["email"]:
        raise InvalidInput("needs an email address", field="digest")
    if role is not Role.MANAGER and name:
        managed = repo.session.scalars(
            sa.select(t.people.c.name).where(t.people.c.manager == name, t.people.c.active)
        ).all()
        if managed:
            raise InvalidInput(
                f"{name} is the manager of {', '.join(managed)}; give them another manager first",
                field="role",
            )


def _person_municipalities(repo: Repository, values: dict[str, Any]) -> set[str]:
    if values.get("organisation_id") is not None:
        return org_municipalities(repo, values["organisation_id"])
    return {values["municipality"]} if values.get("municipality") else set()


def add_person(
    db: Database,
    name: str,
    change: PersonChange,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> Changed:
    person_name = str(valid("name", s.PersonName, name))
    if change.role is None:
        raise InvalidInput("is required", field="role")
    why = given_reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="person", clock=clock)
        same = session.scalars(
            sa.select(t.people.c.name).where(sa.func.lower(t.people.c.name) == person_name.lower())
        ).first()
        if same is not None:
            raise InvalidInput(f"{same} is already in the database", field="name")
        values = _person_values(repo, None, change)
        full = {
            "email": None,
            "municipality": None,
            "organisation_id": None,
            "manager": None,
            "digest": False,
        } | values
        who = editor(repo, actor_name, _person_municipalities(repo, full))
        person = Person(name=person_name, **full)
        repo.add(person)
        changes = _shown_changes(
            repo, {k: {"from": None, "to": v} for k, v in full.items() if v not in (None, False)}
        )
        audit_change(
            repo,
            who,
            PERSON,
            person_name,
            "add_person",
            ("", "active"),
            changes,
            day=today,
            now=now,
            origin=origin,
            reason=why,
        )
        return Changed(PERSON, person_name, changes)


def _stored(value: Any) -> Any:
    return value.value if isinstance(value, Role) else shown(value)


def _shown_changes(
    repo: Repository, changes: dict[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Changes as the audit keeps them: a role by its name, an organisation by its
    organisationsnummer (under "organisation"), a day as ISO text."""

    def orgnr(organisation_id: Any) -> str | None:
        found = repo.organisation(organisation_id) if organisation_id else None
        return None if found is None else found.organisationsnummer

    shown: dict[str, dict[str, Any]] = {}
    for key, values in changes.items():
        if key == "organisation_id":
            shown["organisation"] = {"from": orgnr(values["from"]), "to": orgnr(values["to"])}
        else:
            shown[key] = {"from": _stored(values["from"]), "to": _stored(values["to"])}
    return shown


def _person(repo: Repository, name: str) -> Person:
    person = repo.person(name)
    if person is None:
        raise NotFound(f"no person named '{name}'")
    return person


def update_person(
    db: Database,
    name: str,
    change: PersonChange,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> Changed:
    if change == PersonChange():
        raise InvalidInput("nothing to change: give at least one field")
    why = given_reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="person", clock=clock)
        person = _person(repo, name)
        if not person.active:
            raise RuleViolation(f"{name} was deactivated on {person.deactivated_on}")
        values = _person_values(repo, person, change)
        before = {"municipality": person.municipality, "organisation_id": person.organisation_id}
        after = before | {k: v for k, v in values.items() if k in before}
        # Both sides must be the editor's: staff cannot move someone out of reach.
        allowed = _person_municipalities(repo, before)
        allowed_after = _person_municipalities(repo, after)
        who = editor(repo, actor_name, allowed)
        editor(repo, actor_name, allowed_after)
        changed = {
            k: {"from": getattr(person, k), "to": v}
            for k, v in values.items()
            if getattr(person, k) != v
        }
        for key in changed:
            setattr(person, key, values[key])
        changes = _shown_changes(repo, changed)
        if changes:
            audit_change(
                repo,
                who,
                PERSON,
                person.name,
                "update_person",
                ("active", "active"),
                changes,
                day=today,
                now=now,
                origin=origin,
                reason=why,
            )
        return Changed(PERSON, person.name, changes)


def deactivate_person(
    db: Database,
    name: str,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> Changed:
    """From `today` on the person can no longer act or be notified; their name stays on
    every record they made. Their open agreements are named so someone reassigns them."""
    why = given_reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="person", clock=clock)
        person = _person(repo, name)
        if not person.active:
            raise RuleViolation(f"{name} was already deactivated on {person.deactivated_on}")
        who = editor(
            repo,
            actor_name,
            _person_municipalities(
                repo,
                {"municipality": person.municipality, "organisation_id": person.organisation_id},
            ),
        )
        if who.name == person.name:
            raise RuleViolation("a person cannot deactivate themselves; ask a colleague")
        changes: dict[str, dict[str, Any]] = {
            "active": {"from": True, "to": False},
            "deactivated_on": {"from": None, "to": today.isoformat()},
        }
        person.active, person.deactivated_on = False, today
        audit_change(
            repo,
            who,
            PERSON,
            person.name,
            "deactivate_person",
            ("active", "deactivated"),
            changes,
            day=today,
            now=now,
            origin=origin,
            reason=why,
        )
        a = t.agreements
        open_ones = session.scalars(
            sa.select(a.c.diarienummer)
            .where(a.c.officer == person.name, a.c.state.not_in(FINISHED))
            .order_by(a.c.diarienummer)
        ).all()
        managed = session.scalars(
            sa.select(t.people.c.name).where(t.people.c.manager == person.name, t.people.c.active)
        ).all()
        notes = []
        if open_ones:
            notes.append(
                f"still the officer of {', '.join(open_ones)}: their notices are reported "
                "undeliverable until another officer takes over"
            )
        if managed:
            notes.append(
                f"manager of {', '.join(managed)}: escalations go to the other managers of "
                f"{person.municipality} until they get a new one (`iop people update --manager`)"
            )
        return Changed(PERSON, person.name, changes, notes)


def show_person(db: Database, name: str) -> dict[str, Any]:
    with db.read() as session:
        repo = Repository(session)
        person = _person(repo, name)
        org = repo.organisation(person.organisation_id) if person.organisation_id else None
        return {
            "name": person.name,
            "role": person.role.value,
            "email": person.email,
            "municipality": person.municipality,
            "organisation": None if org is None else org.organisationsnummer,
            "manager": person.manager,
            "digest": person.digest,
            "active": person.active,
            "deactivated_on": shown(person.deactivated_on),
            "history": audit_view(history(repo, PERSON, person.name)),
        }


def list_people(db: Database, *, include_inactive: bool = False) -> list[dict[str, Any]]:
    with db.read() as session:
        repo = Repository(session)
        orgs = {o.id: o.organisationsnummer for o in session.scalars(sa.select(Organisation))}
        return [
            {
                "name": p.name,
                "role": p.role.value,
                "municipality": p.municipality,
                "organisation": orgs.get(p.organisation_id) if p.organisation_id else None,
                "email": p.email,
                "manager": p.manager,
                "active": p.active,
                "deactivated_on": shown(p.deactivated_on),
            }
            for p in repo.people()
            if include_inactive or p.active
        ]


def set_representations(
    db: Database,
    name: str,
    organisations: list[str],
    *,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> Changed:
    """The organisations representative `name` speaks for besides their own, as a whole
    (an empty list: their own only). Audited like every change of a person; the editor
    must be staff of a municipality of every organisation added or removed."""
    why = given_reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="person", clock=clock)
        person = _person(repo, name)
        if not person.active:
            raise RuleViolation(f"{name} was deactivated on {person.deactivated_on}")
        if person.role is not Role.ORG_REP:
            raise InvalidInput(
                f"only an organisation_representative speaks for an organisation, "
                f"not a {person.role.value}",
                field="organisation",
            )
        wanted: list[int] = []
        for value in organisations:
            nr = orgnr_of(value, "organisation")
            org = repo.organisation_by_orgnr(nr)
            if org is None or org.id is None:
                raise InvalidInput(f"no organisation {nr}", field="organisation")
            if org.id != person.organisation_id and org.id not in wanted:
                wanted.append(org.id)
        r = t.representations
        before = list(
            session.scalars(
                sa.select(r.c.organisation_id)
                .where(r.c.person_id == person.id)
                .order_by(r.c.organisation_id)
            )
        )
        touched = set(before) ^ set(wanted)
        allowed: set[str] = set()
        for key in touched:
            allowed |= org_municipalities(repo, key)
        who = editor(repo, actor_name, allowed)
        if not touched:
            return Changed(PERSON, person.name, {})
        session.execute(sa.delete(r).where(r.c.person_id == person.id))
        if wanted:
            session.execute(
                sa.insert(r), [{"person_id": person.id, "organisation_id": k} for k in wanted]
            )
        orgnr = {
            row.id: row.organisationsnummer
            for row in session.execute(
                sa.select(t.organisations.c.id, t.organisations.c.organisationsnummer).where(
                    t.organisations.c.id.in_(sorted(set(before) | set(wanted)))
                )
            )
        }
        changes = {
            "also_represents": {
                "from": sorted(orgnr[k] for k in before),
                "to": sorted(orgnr[k] for k in wanted),
            }
        }
        audit_change(
            repo,
            who,
            PERSON,
            person.name,
            "update_person",
            ("active", "active"),
            changes,
            day=today,
            now=now,
            origin=origin,
            reason=why,
        )
        return Changed(PERSON, person.name, changes)
