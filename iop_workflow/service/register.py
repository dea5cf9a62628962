"""The association register, maintained: organisations and people change after import.

`iop org update` here, and `iop people add|update|deactivate` (people_register.py,
with the rules and the audit writer of this module). Each change is checked whole
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
from .actors import SYSTEM_REFUSED, refuse_inactive
from .system_day import refuse_future
from .views import audit_view

ORGANISATION, PERSON = "organisation", "person"
STAFF = frozenset({Role.OFFICER, Role.MANAGER, Role.SECRETARY})
FINISHED = (AgreementState.CLOSED.value, AgreementState.REJECTED.value)
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
class Changed:
    entity: str
    key: str
    changes: dict[str, dict[str, Any]] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)  # what the caller should know


# --- validation: the import's own field types (importing/schema.py) --------------------


def valid(name: str, kind: Any, value: object) -> Any:
    try:
        return TypeAdapter(kind).validate_python(value)
    except ValidationError as error:
        message = error.errors()[0]["msg"].removeprefix("Value error, ")
        raise InvalidInput(message, field=name) from None


def optional(name: str, kind: Any, value: str | None) -> str | None:
    """CLEAR (empty) removes the value; anything else is validated."""
    assert value is not None  # callers leave None (unchanged) out
    return None if value.strip() == CLEAR else str(valid(name, kind, value))


def orgnr_of(value: str, name: str = "organisationsnummer") -> str:
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


def org_municipalities(repo: Repository, organisation_id: int | None) -> set[str]:
    a, p = t.agreements, t.agreement_parties
    query = (
        sa.select(a.c.municipality)
        .join(p, p.c.agreement_id == a.c.id)
        .where(p.c.organisation_id == organisation_id)
        .distinct()
    )
    return set(repo.session.scalars(query))


def audit_change(
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


def shown(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _diff(obj: object, wanted: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        name: {"from": shown(getattr(obj, name)), "to": shown(value)}
        for name, value in wanted.items()
        if getattr(obj, name) != value
    }


def given_reason(reason: str | None) -> str:
    return "" if reason is None else str(valid("reason", s.OptText, reason))


# --- organisations ----------------------------------------------------------------------------


def registration(org: Organisation) -> str:
    return "registered" if org.forening_registered else "not_registered"


def organisation_values(
    org: Organisation, change: OrganisationChange, today: date
) -> dict[str, Any]:
    """The organisation's fields after `change`, validated; nothing is set on `org`."""
    new: dict[str, Any] = {}
    if change.name is not None:
        new["name"] = valid("name", s.NameText, change.name)
    if change.contact_name is not None:
        new["contact_name"] = valid("contact_name", s.NameText, change.contact_name)
    if change.contact_email is not None:
        new["contact_email"] = valid("contact_email", s.Email, change.contact_email)
    if change.contact_phone is not None:
        new["contact_phone"] = optional("contact_phone", s.PhoneText, change.contact_phone)
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
        ref = valid("register_ref", s.RegisterRef, change.register_ref)
    on = org.forening_registered_on if change.registered_on is None else change.registered_on
    if change.registered:
        if not ref:
            raise InvalidInput(
                "is required to register: the föreningsregister's reference", field="register_ref"
            )
        on = on or today
    if on is not None:
        valid("registered_on", s.Day, on)
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
    nr = orgnr_of(orgnr, "ORGNR")
    if change == OrganisationChange():
        raise InvalidInput("nothing to change: give at least one field")
    why = given_reason(reason)
    with db.write() as session:
        repo = Repository(session)
        refuse_future(session, today, record="organisation update", clock=clock)
        org = repo.organisation_by_orgnr(nr)
        if org is None:
            raise NotFound(f"no organisation {nr}")
        who = editor(repo, actor_name, org_municipalities(repo, org.id))
        changes = _diff(org, organisation_values(org, change, today))
        if changes:
            before = registration(org)
            for name, values in changes.items():
                setattr(org, name, _restore(name, values["to"]))
            audit_change(
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
    nr = orgnr_of(orgnr, "ORGNR")
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
                "registered_on": shown(org.forening_registered_on),
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
            "history": audit_view(history(repo, ORGANISATION, nr)),
        }


def history(repo: Repository, entity: str, key: str) -> list[AuditRecord]:
    log = t.audit_log
    query = (
        sa.select(AuditRecord)
        .where(log.c.agreement_id.is_(None), log.c.entity == entity, log.c.entity_key == key)
        .order_by(log.c.id)
    )
    return list(repo.session.scalars(query))


# --- people ----------------------------------------------------------------------------------
