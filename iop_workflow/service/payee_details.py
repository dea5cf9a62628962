"""An organisation's payment details and the attest rights: the data a payment needs,
changed only by audited steps.

Payment details are proposed by one person (municipal staff of one of the
organisation's municipalities, or a representative of the organisation) and take effect
only when a member of staff who is not the proposer confirms them; the details they
replace stay, superseded, as history. A payout to an organisation without confirmed
details is held out of every batch (payment_batches.py).

Attest rights are granted by a manager of the municipality, with a limit per person.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..domain.errors import InvalidInput, NotFound, RuleViolation
from ..domain.model import Organisation, Person
from ..domain.payment_details import (
    PaymentDetails,
    parse_bank_account,
    parse_bankgiro,
    parse_plusgiro,
)
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import DetailsState, Role
from ..policies import load_policy
from . import payment_audit as pa
from .actors import refuse_inactive, represented
from .register import editor, given_reason, history, org_municipalities, orgnr_of
from .views import audit_view

KINDS = ("bankgiro", "plusgiro", "bank_account")


def parse_details(kind: str, number: str, clearing: str | None) -> PaymentDetails:
    """The details as given on the command line or in a form, checked."""
    if kind == "bankgiro":
        return parse_bankgiro(number, "number")
    if kind == "plusgiro":
        return parse_plusgiro(number, "number")
    if kind == "bank_account":
        if not clearing:
            raise InvalidInput("a bank account needs its clearing number", field="clearing")
        return parse_bank_account(clearing, number, "number")
    raise InvalidInput(f"'{kind}' is not one of {', '.join(KINDS)}", field="kind")


def stored(row: Any) -> PaymentDetails:
    return PaymentDetails(row.kind, row.number, clearing=row.clearing)


@dataclass(frozen=True)
class DetailsChange:
    orgnr: str
    state: str
    details: str  # as shown: "bankgiro 5050-1055"
    note: str = ""


def _organisation(repo: Repository, orgnr: str) -> Organisation:
    nr = orgnr_of(orgnr, "ORGNR")
    org = repo.organisation_by_orgnr(nr)
    if org is None:
        raise NotFound(f"no organisation {nr}")
    return org


def _proposer(repo: Repository, name: str, org: Organisation) -> Person:
    person = repo.person(name)
    if person is not None and person.role is Role.ORG_REP:
        refuse_inactive(person)
        if org.id not in represented(repo, person):
            raise RuleViolation(f"{name} does not represent {org.name}")
        return person
    return editor(repo, name, org_municipalities(repo, org.id))


def _current(session: Session, organisation_id: int, state: DetailsState) -> Any:
    d = t.payment_details
    return session.execute(
        sa.select(d).where(d.c.organisation_id == organisation_id, d.c.state == state)
    ).one_or_none()


def shown_details(details: PaymentDetails | None) -> str:
    if details is None:
        return "none"
    return f"{details.kind} {details.shown}"


def propose_details(
    db: Database,
    orgnr: str,
    *,
    kind: str,
    number: str,
    clearing: str | None,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> DetailsChange:
    details = parse_details(kind, number, clearing)
    with db.write() as session:
        repo = Repository(session)
        org = _organisation(repo, orgnr)
        who = _proposer(repo, actor_name, org)
        assert org.id is not None
        d = t.payment_details
        waiting = _current(session, org.id, DetailsState.PROPOSED)
        note = ""
        entries = []
        if waiting is not None:
            session.execute(
                sa.update(d)
                .where(d.c.id == waiting.id)
                .values(
                    state=DetailsState.REJECTED,
                    decided_by=who.name,
                    decided_at=now,
                    reason="replaced by a newer proposal",
                )
            )
            note = f"the waiting proposal ({shown_details(stored(waiting))}) was replaced"
            entries.append(
                pa.Entry(
                    pa.PAYMENT_DETAILS,
                    org.organisationsnummer,
                    "replace_payment_details_proposal",
                    DetailsState.PROPOSED.value,
                    DetailsState.REJECTED.value,
                    reason="replaced by a newer proposal",
                    data={"details": shown_details(stored(waiting))},
                )
            )
        confirmed = _current(session, org.id, DetailsState.CONFIRMED)
        session.execute(
            sa.insert(d).values(
                organisation_id=org.id,
                kind=details.kind,
                clearing=details.clearing,
                number=details.number,
                state=DetailsState.PROPOSED,
                proposed_by=who.name,
                proposed_at=now,
            )
        )
        before = None if confirmed is None else stored(confirmed)
        entries.append(
            pa.Entry(
                pa.PAYMENT_DETAILS,
                org.organisationsnummer,
                "propose_payment_details",
                "" if confirmed is None else DetailsState.CONFIRMED.value,
                DetailsState.PROPOSED.value,
                data={
                    "changes": {
                        "details": {"from": shown_details(before), "to": shown_details(details)}
                    }
                },
            )
        )
        pa.write(session, who, entries, day=today, now=now, origin=origin)
        return DetailsChange(org.organisationsnummer, "proposed", shown_details(details), note)


def decide_details(
    db: Database,
    orgnr: str,
    *,
    confirm: bool,
    actor_name: str,
    today: date,
    now: datetime,
    reason: str | None = None,
    origin: Origin = DEFAULT_ORIGIN,
) -> DetailsChange:
    """Confirm (or reject) the organisation's proposed details: a member of staff who is
    not the one who proposed them. Confirmed details replace the earlier ones."""
    why = given_reason(reason)
    if not confirm and not why:
        raise InvalidInput("say why the details are rejected", field="reason")
    with db.write() as session:
        repo = Repository(session)
        org = _organisation(repo, orgnr)
        who = editor(repo, actor_name, org_municipalities(repo, org.id))
        assert org.id is not None
        waiting = _current(session, org.id, DetailsState.PROPOSED)
        if waiting is None:
            raise RuleViolation(f"{org.name} has no proposed payment details to decide on")
        if waiting.proposed_by == who.name:
            raise RuleViolation(
                f"{who.name} proposed these details; another person must "
                + ("confirm" if confirm else "reject")
                + " them"
            )
        d = t.payment_details
        details = stored(waiting)
        entries = []
        if confirm:
            previous = _current(session, org.id, DetailsState.CONFIRMED)
            if previous is not None:
                session.execute(
                    sa.update(d).where(d.c.id == previous.id).values(state=DetailsState.SUPERSEDED)
                )
        new_state = DetailsState.CONFIRMED if confirm else DetailsState.REJECTED
        changed = pa.rowcount(
            session.execute(
                sa.update(d)
                .where(d.c.id == waiting.id, d.c.state == DetailsState.PROPOSED)
                .values(state=new_state, decided_by=who.name, decided_at=now, reason=why or None)
            )
        )
        if changed != 1:  # a concurrent decision got there first
            raise RuleViolation(f"the proposed details of {org.name} were decided meanwhile")
        entries.append(
            pa.Entry(
                pa.PAYMENT_DETAILS,
                org.organisationsnummer,
                "confirm_payment_details" if confirm else "reject_payment_details",
                DetailsState.PROPOSED.value,
                new_state.value,
                reason=why,
                data={"details": shown_details(details), "proposed_by": waiting.proposed_by},
            )
        )
        pa.write(session, who, entries, day=today, now=now, origin=origin)
        return DetailsChange(org.organisationsnummer, new_state.value, shown_details(details))


def show_details(db: Database, orgnr: str) -> dict[str, Any]:
    """The organisation's confirmed and proposed details and every version before, with
    the audit history of the changes (for officers and auditors)."""
    with db.read() as session:
        repo = Repository(session)
        org = _organisation(repo, orgnr)
        d = t.payment_details
        rows = session.execute(
            sa.select(d).where(d.c.organisation_id == org.id).order_by(d.c.id)
        ).all()
        versions = [
            {
                "details": shown_details(stored(r)),
                "kind": r.kind,
                "clearing": r.clearing,
                "number": r.number,
                "state": r.state,
                "proposed_by": r.proposed_by,
                "proposed_at": r.proposed_at.isoformat(),
                "decided_by": r.decided_by,
                "decided_at": None if r.decided_at is None else r.decided_at.isoformat(),
                "reason": r.reason,
            }
            for r in rows
        ]
        current = next((v for v in versions if v["state"] == DetailsState.CONFIRMED), None)
        return {
            "organisationsnummer": org.organisationsnummer,
            "name": org.name,
            "confirmed": current,
            "versions": versions,
            "history": audit_view(history(repo, pa.PAYMENT_DETAILS, org.organisationsnummer)),
        }


def confirmed_details(session: Session, organisation_id: int) -> PaymentDetails | None:
    row = _current(session, organisation_id, DetailsState.CONFIRMED)
    return None if row is None else stored(row)


# --- attest rights ------------------------------------------------------------------------


def grant_attest_right(
    db: Database,
    person_name: str,
    *,
    municipality: str,
    limit_ore: int,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> dict[str, Any]:
    """Give `person_name` (municipal staff) the right to attest batches of
    `municipality` up to `limit_ore`; a manager of the municipality grants it. Granting
    again changes the limit; a limit of 0 takes the right away."""
    load_policy(municipality)  # an unknown municipality is refused naming the known ones
    if limit_ore < 0:
        raise InvalidInput("must not be negative", field="limit")
    with db.write() as session:
        repo = Repository(session)
        granter = editor(repo, actor_name, {municipality})
        if granter.role is not Role.MANAGER:
            raise RuleViolation(
                f"{actor_name} is a {granter.role.value}; a manager grants attest rights"
            )
        holder = editor(repo, person_name, {municipality})
        if holder.name == granter.name:
            raise RuleViolation("nobody grants an attest right to themselves")
        a = t.attest_rights
        before = session.execute(
            sa.select(a.c.limit_ore).where(
                a.c.person_id == holder.id, a.c.municipality == municipality
            )
        ).scalar_one_or_none()
        session.execute(
            sa.delete(a).where(a.c.person_id == holder.id, a.c.municipality == municipality)
        )
        if limit_ore > 0:
            session.execute(
                sa.insert(a).values(
                    person_id=holder.id,
                    municipality=municipality,
                    limit_ore=limit_ore,
                    granted_by=granter.name,
                    granted_at=now,
                )
            )
        pa.write(
            session,
            granter,
            [
                pa.Entry(
                    pa.ATTEST_RIGHT,
                    f"{holder.name}@{municipality}",
                    "grant_attest_right" if limit_ore > 0 else "revoke_attest_right",
                    "" if before is None else "granted",
                    "granted" if limit_ore > 0 else "",
                    data={"changes": {"limit_ore": {"from": before, "to": limit_ore or None}}},
                )
            ],
            day=today,
            now=now,
            origin=origin,
        )
        return {"person": holder.name, "municipality": municipality, "limit_ore": limit_ore}


def attest_limit(session: Session, person: Person, municipality: str) -> int | None:
    a = t.attest_rights
    found: int | None = session.execute(
        sa.select(a.c.limit_ore).where(a.c.person_id == person.id, a.c.municipality == municipality)
    ).scalar_one_or_none()
    return found
