"""Who a notification goes to: its roles resolved to addresses, a few queries per batch.

organisation → the contact e-mail of each organisation party to the agreement (only the
party a notice is about when its facts name an `organisation_id`);
officer → the agreement's officer; manager → that officer's manager; secretary → every
nämnd secretary of the agreement's municipality. A role that resolves to nobody is a
`problem` the delivery records and reports; it never stops the other recipients.

A deactivated person (`iop people deactivate`) gets nothing: a deactivated officer is a
problem (reported, so someone takes the agreement over); an escalation whose manager
is deactivated (or missing) goes to the municipality's other active managers, and is a
problem only when there are none; deactivated secretaries are left out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..domain.reminders import MANAGER, OFFICER, ORGANISATION, SECRETARY
from ..domain.states import Role
from ..service.setwise import chunks


@dataclass(frozen=True)
class Row:
    """One outbox row, as delivery needs it."""

    id: int
    agreement_id: int
    kind: str
    subject_date: date
    stage: str
    recipients: tuple[str, ...]
    facts: dict[str, Any]
    attempts: int
    created_at: datetime


@dataclass(frozen=True)
class AgreementInfo:
    id: int
    title: str
    diarienummer: str
    municipality: str
    officer: str
    organisations: tuple[tuple[int, str, str], ...]  # (id, name, contact e-mail) per party


@dataclass(frozen=True)
class Recipient:
    role: str
    name: str
    address: str
    digest: bool = False


@dataclass
class Routed:
    row: Row
    agreement: AgreementInfo
    recipients: list[Recipient] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # roles that resolved to nobody


def rows(session: Session, where: sa.ColumnElement[bool]) -> list[Row]:
    n = t.notifications
    query = sa.select(n).where(where).order_by(n.c.id)
    return [
        Row(
            r.id,
            r.agreement_id,
            r.kind,
            r.subject_date,
            r.stage,
            tuple(r.recipients or ()),
            dict(r.facts or {}),
            r.attempts,
            r.created_at,
        )
        for r in session.execute(query)
    ]


def route(session: Session, batch: Sequence[Row]) -> list[Routed]:
    agreements = _agreements(session, {r.agreement_id for r in batch})
    directory = _Directory(session, agreements.values())
    routed = []
    for row in batch:
        info = agreements[row.agreement_id]
        result = Routed(row, info)
        for role in row.recipients:
            found, problem = directory.resolve(role, info, row.facts.get("organisation_id"))
            if problem:
                result.problems.append(problem)
            for recipient in found:
                if recipient.address not in {r.address for r in result.recipients}:
                    result.recipients.append(recipient)
        if not row.recipients:
            result.problems.append("the notification names no recipient role")
        routed.append(result)
    return routed


def _agreements(session: Session, ids: Iterable[int]) -> dict[int, AgreementInfo]:
    a, p, o = t.agreements, t.agreement_parties, t.organisations
    wanted = sorted(ids)
    parties: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    found: dict[int, AgreementInfo] = {}
    for part in chunks(wanted):
        query = (
            sa.select(p.c.agreement_id, o.c.id, o.c.name, o.c.contact_email)
            .join(o, o.c.id == p.c.organisation_id)
            .where(p.c.agreement_id.in_(part))
            .order_by(p.c.id)
        )
        for party in session.execute(query):
            parties[party.agreement_id].append((party.id, party.name, party.contact_email))
        columns = (a.c.id, a.c.title, a.c.diarienummer, a.c.municipality, a.c.officer)
        for r in session.execute(sa.select(*columns).where(a.c.id.in_(part))):
            found[r.id] = AgreementInfo(
                r.id, r.title, r.diarienummer, r.municipality, r.officer, tuple(parties[r.id])
            )
    return found


class _Directory:
    """The people the batch's agreements need, read once."""

    def __init__(self, session: Session, agreements: Iterable[AgreementInfo]) -> None:
        pe = t.people
        infos = list(agreements)
        officers = sorted({a.officer for a in infos})
        places = sorted({a.municipality for a in infos})
        self.by_name: dict[str, Any] = {}
        self.secretaries: dict[str, list[Any]] = defaultdict(list)
        self.managers: dict[str, list[Any]] = defaultdict(list)
        for part in chunks(officers):
            for r in session.execute(sa.select(pe).where(pe.c.name.in_(part))):
                self.by_name[r.name] = r
        managers = sorted({r.manager for r in self.by_name.values() if r.manager})
        for part in chunks(managers):
            for r in session.execute(sa.select(pe).where(pe.c.name.in_(part))):
                self.by_name[r.name] = r
        query = (
            sa.select(pe)
            .where(
                pe.c.role.in_((Role.SECRETARY, Role.MANAGER)),
                pe.c.municipality.in_(places),
                pe.c.active,
            )
            .order_by(pe.c.name)
        )
        for r in session.execute(query):
            group = self.secretaries if r.role == Role.SECRETARY else self.managers
            group[r.municipality].append(r)

    def resolve(
        self, role: str, info: AgreementInfo, organisation_id: int | None = None
    ) -> tuple[list[Recipient], str | None]:
        if role == ORGANISATION:
            # A notice about one party (its own claim) goes to that party only.
            found = [
                Recipient(role, name, email)
                for oid, name, email in info.organisations
                if email and organisation_id in (None, oid)
            ]
            missing = f"no organisation contact e-mail for {info.diarienummer}"
            return found, None if found else missing
        if role == OFFICER:
            return self._person(role, info.officer, f"officer of {info.diarienummer}")
        if role == MANAGER:
            officer = self.by_name.get(info.officer)
            if officer is None or not officer.manager:
                return [], f"no manager recorded for officer {info.officer} ({info.diarienummer})"
            manager = self.by_name.get(officer.manager)
            if manager is None or manager.active:
                return self._person(role, officer.manager, f"manager of {info.officer}")
            # The escalation must reach someone: the municipality's other managers.
            others = [
                self._recipient(role, p)
                for p in self.managers[info.municipality]
                if p.email and p.name != manager.name
            ]
            missing = (
                f"{manager.name} (manager of {info.officer}) was deactivated on "
                f"{manager.deactivated_on} and {info.municipality} has no other manager "
                "with an e-mail address"
            )
            return others, None if others else missing
        if role == SECRETARY:
            staff = self.secretaries[info.municipality]
            found = [self._recipient(role, p) for p in staff if p.email]
            missing = f"no secretary with an e-mail address in {info.municipality}"
            return found, None if found else missing
        return [], f"unknown recipient role '{role}'"

    def _person(self, role: str, name: str, what: str) -> tuple[list[Recipient], str | None]:
        person = self.by_name.get(name)
        if person is None:
            return [], f"{name} ({what}) is not among the people"
        if not person.active:
            return [], f"{name} ({what}) was deactivated on {person.deactivated_on}"
        if not person.email:
            return [], f"no e-mail address for {name} ({what})"
        return [self._recipient(role, person)], None

    @staticmethod
    def _recipient(role: str, person: Any) -> Recipient:
        return Recipient(role, person.name, person.email, bool(person.digest))
