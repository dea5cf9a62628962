"""The association register, maintained: organisations and people change after import.

`iop org update` and `iop people add|update|deactivate`. Each change is checked whole
before anything is written, then stored with one audit record in one transaction. An
organisation or person record has no agreement: its audit record's `agreement_id` is
NULL, its entity is "organisation" (key: the organisationsnummer) or "person" (key: the
name), and its data holds what changed as {"field": {"from": old, "to": new}}.

Who may: municipal staff (officer, manager, secretary) who are active, and, where the
record belongs to municipalities, staff of one of them (an organisation belongs to the
municipalities it has agreements with; a member of staff to their municipality). An
auditor, an organisation representative and a deactivated person are refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from pydantic import TypeAdapter, ValidationError

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..clock import Clock
from ..domain.errors import InvalidInput, NotFound, RuleViolation
from ..domain.model import AuditRecord, Organisation, Person
from ..domain.orgnr import normalise_orgnr
from ..domain.roles import DEFAULT_ORIGIN, SYSTEM_ACTOR, Origin
from ..domain.states import AgreementState, Role
from ..importing import schema as s
from ..policies import load_policy
from .actors import SYSTEM_REFUSED, refuse_inactive
from .system_day import refuse_future
from .views import audit_view

ORGANISATION, PERSON = "organisation", "person"
STAFF = frozenset({Role.OFFICER, Role.MANAGER, Role.SECRETARY})
_FINISHED = (AgreementState.CLOSED.value, AgreementState.REJECTED.value)
CLEAR = ""  # an empty value clears an optional field (phone, e-mail, manager)


@dataclass(frozen=True)
class OrganisationChange:
    """What to change; None leaves a field as it is."""

    name: str | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None  # CLEAR removes it
    registered: bool | None = None
    register_ref: str | None = None
    registered_on: date | None = None


@dataclass(frozen=True)
class PersonChange:
    """What to change; None leaves a field as it is, CLEAR empties an optional one."""

    role: str | None = None
    email: str | None = None
    municipality: str | None = None
    organisation: str | None = None  # an organisationsnummer (org representatives)
    manager: str | None = None
    digest: bool | None = None


@dataclass(frozen=True)
class Changed:
    entity: str
    key: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the caller should know


# --- validation: the import's own field types (importing/schema.py) --------------------


def _valid(name: str, kind: Any, value: object) -> Any:
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(message, field=name) from None


def _optional(name: str, kind: Any, value: str | None) -> str | None:
    """CLEAR (empty) removes the value; anything else is validated."""
    assert value is not None  # callers leave None (unchanged) out
    return None if value.strip() == CLEAR else str(_valid(name, kind, value))


def _orgnr(value: str, name: str = "organisationsnummer") -> str:
    try:
        return normalise_orgnr(value)
    except InvalidInput as error:
        raise InvalidInput(s.bare_message(error), field=name) from None


# --- who may ------------------------------------------------------------------------------


def editor(repo: Repository, name: str, municipalities: set[str]) -> Person:
    """The person changing the register: active staff, of one of `municipalities` when
    the record belongs to any."""
    if name == SYSTEM_ACTOR.name:
        raise RuleViolation(SYSTEM_REFUSED)
    person = repo.person(name)
    if person is None:
        raise NotFound(f"no person named '{name}'")
    refuse_inactive(person)
    if person.role not in STAFF:
        raise RuleViolation(
            f"{name} is a {person.role.value}; only municipal staff (officer, manager, "
            "secretary) change the register"
        )
    if municipalities and person.municipality not in municipalities:
        raise RuleViolation(
            f"{name} works for {person.municipality}, not for {', '.join(sorted(municipalities))}"
        )
    return person


def _org_municipalities(repo: Repository, organisation_id: int | None) -> set[str]:
    a, p = t.agreements, t.agreement_parties
    query = (
        sa.select(a.c.municipality)
        .join(p, p.c.agreement_id == a.c.id)
        .where(p.c.organisation_id == organisation_id)
        .distinct()
    )
    return set(repo.session.scalars(query))


def _audit(
    repo: Repository,
    who: Person,
    entity: str,
    key: str,
    trigger: str,
    states: tuple[str, str],
    changes: dict[str, dict[str, Any]],
    *,
    day: date,
    now: datetime,
    origin: Origin,
    reason: str,
) -> None:
    repo.add_audit(
        AuditRecord(
            at=now,
            actor=who.name,
            role=who.role.value,
            agreement_id=None,
            entity=entity,
            entity_key=key,
            trigger=trigger,
            from_state=states[0],
            to_state=states[1],
            reason=reason,
            data={"changes": changes, "as_of": day.isoformat()},
            channel=origin.channel,
            os_user=origin.os_user,
            host=origin.host,
            effective_date=day,
        )
    )


def _shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _diff(obj: object, wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"from": _shown(getattr(obj, name)), "to": _shown(value)}
        for name, value in wanted.items()
        if getattr(obj, name) != value
    }


def _reason(reason: str | None) -> str:
    return "" if reason is None else str(_valid("reason", s.OptText, reason))


# --- organisations ----------------------------------------------------------------------------


def registration(org: Organisation) -> str:
    return "registered" if org.forening_registered else "not_registered"


def organisation_values(
    org: Organisation, change: OrganisationChange, today: date
) -> dict[str, Any]:
    """The organisation's fields after `change`, validated; nothing is set on `org`."""
    new: dict[str, Any] = {}
    if change.name is not None:
        new["name"] = _valid("name", s.NameText, change.name)
    if change.contact_name is not None:
        new["contact_name"] = _valid("contact_name", s.NameText, change.contact_name)
    if change.contact_email is not None:
        new["contact_email"] = _valid("contact_email", s.Email, change.contact_email)
    if change.contact_phone is not None:
        new["contact_phone"] = _optional("contact_phone", s.PhoneText, change.contact_phone)
    registered = org.forening_registered if change.registered is None else change.registered
    if change.registered is False:
        if change.register_ref is not None or change.registered_on is not None:
            field_name = "register_ref" if change.register_ref is not None else "registered_on"
            raise InvalidInput(
                "is for a registered organisation, not with --not-registered", field=field_name
            )
        new |= {
            "forening_registered": False,
            "forening_register_ref": None,
            "forening_registered_on": None,
        }
        return new
    if not registered and (change.register_ref is not None or change.registered_on is not None):
        field_name = "register_ref" if change.register_ref is not None else "registered_on"
        raise InvalidInput(
            f"{org.organisationsnummer} is not registered; add --registered", field=field_name
        )
    ref = org.forening_register_ref
    if change.register_ref is not None:
        ref = _valid("register_ref", s.RegisterRef, change.register_ref)
    on = org.forening_registered_on if change.registered_on is None else change.registered_on
    if change.registered:
        if not ref:
            raise InvalidInput(
                "is required to register: the föreningsregister's reference", field="register_ref"
            )
        on = on or today
    if on is not None:
        _valid("registered_on", s.Day, on)
        if on > today:
            raise InvalidInput(f"{on} is after the day acted on ({today})", field="registered_on")
    if registered:
        new |= {"forening_registered": True, "forening_register_ref": ref}
        new["forening_registered_on"] = on
    return new


def update_organisation(
    db: Database,
    orgnr: str,
    change: OrganisationChange,
    *,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> Changed:
    nr = _orgnr(orgnr, "ORGNR")
    if change == OrganisationChange():
        raise InvalidInput("nothing to change: give at least one field")
    why = _reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="organisation update", clock=clock)
        org = repo.organisation_by_orgnr(nr)
        if org is None:
            raise NotFound(f"no organisation {nr}")
        who = editor(repo, actor_name, _org_municipalities(repo, org.id))
        changes = _diff(org, organisation_values(org, change, today))
        if changes:
            before = registration(org)
            for name, values in changes.items():
                setattr(org, name, _restore(name, values["to"]))
            _audit(
                repo,
                who,
                ORGANISATION,
                nr,
                "update_organisation",
                (before, registration(org)),
                changes,
                day=today,
                now=now,
                origin=origin,
                reason=why,
            )
        return Changed(ORGANISATION, nr, changes)


def _restore(name: str, value: Any) -> Any:
    """A diffed value back to the attribute's type (dates are shown as text)."""
    if name.endswith("_on") and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def show_organisation(db: Database, orgnr: str) -> dict[str, Any]:
    nr = _orgnr(orgnr, "ORGNR")
    with db.read() as session:
        repo = Repository(session)
        org = repo.organisation_by_orgnr(nr)
        if org is None:
            raise NotFound(f"no organisation {nr}")
        a, p = t.agreements, t.agreement_parties
        agreements = session.execute(
            sa.select(a.c.diarienummer, a.c.municipality, a.c.state)
            .join(p, p.c.agreement_id == a.c.id)
            .where(p.c.organisation_id == org.id)
            .order_by(a.c.diarienummer)
        ).all()
        people = [p.name for p in repo.people() if p.organisation_id == org.id]
        return {
            "organisationsnummer": org.organisationsnummer,
            "name": org.name,
            "contact": {
                "name": org.contact_name,
                "email": org.contact_email,
                "phone": org.contact_phone,
            },
            "forening_register": {
                "registered": org.forening_registered,
                "ref": org.forening_register_ref,
                "registered_on": _shown(org.forening_registered_on),
            },
            "agreements": [
                {
                    "diarienummer": r.diarienummer,
                    "municipality": r.municipality,
                    "state": str(r.state.value if hasattr(r.state, "value") else r.state),
                }
                for r in agreements
            ],
            "representatives": people,
            "history": audit_view(_history(repo, ORGANISATION, nr)),
        }


def _history(repo: Repository, entity: str, key: str) -> list[AuditRecord]:
    log = t.audit_log
    query = (
        sa.select(AuditRecord)
        .where(log.c.agreement_id.is_(None), log.c.entity == entity, log.c.entity_key == key)
        .order_by(log.c.id)
    )
    return list(repo.session.scalars(query))


# --- people ----------------------------------------------------------------------------------


def _person_values(repo: Repository, person: Person | None, change: PersonChange) -> dict[str, Any]:
    """The person's fields after `change`, validated as the import validates them."""
    new: dict[str, Any] = {}
    if change.role is not None:
        new["role"] = Role(_valid("role", s.RoleName, change.role))
    if change.email is not None:
        new["email"] = _optional("email", s.Email, change.email)
    if change.municipality is not None:
        key = _optional("municipality", s.MunicipalityKey, change.municipality)
        if key is not None:
            load_policy(key)  # an unknown preset is refused naming the known ones
        new["municipality"] = key
    if change.organisation is not None:
        nr = (
            None
            if change.organisation.strip() == CLEAR
            else _orgnr(change.organisation, "organisation")
        )
        org = None if nr is None else repo.organisation_by_orgnr(nr)
        if nr is not None and org is None:
            raise InvalidInput(f"no organisation {nr}", field="organisation")
        new["organisation_id"] = None if org is None else org.id
    if change.manager is not None:
        new["manager"] = _optional("manager", s.NameText, change.manager)
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
        return _org_municipalities(repo, values["organisation_id"])
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
    person_name = str(_valid("name", s.PersonName, name))
    if change.role is None:
        raise InvalidInput("is required", field="role")
    why = _reason(reason)
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
        _audit(
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
    return value.value if isinstance(value, Role) else _shown(value)


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
    why = _reason(reason)
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
            _audit(
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
    why = _reason(reason)
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
        _audit(
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
            .where(a.c.officer == person.name, a.c.state.not_in(_FINISHED))
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
            "deactivated_on": _shown(person.deactivated_on),
            "history": audit_view(_history(repo, PERSON, person.name)),
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
                "deactivated_on": _shown(p.deactivated_on),
            }
            for p in repo.people()
            if include_inactive or p.active
        ]
