"""`iop import FILE`: store a parsed import file in one transaction, or nothing at all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..config import today_in_stockholm
from ..domain.context import StepContext, StepData
from ..domain.errors import InvalidInput
from ..domain.model import Agreement, AuditRecord, Organisation, Person
from ..domain.roles import IMPORT_ORIGIN, SYSTEM_ACTOR, Origin
from ..domain.schedule import sync_schedule
from ..domain.states import PayoutState
from ..importing import ImportBundle, load_yaml
from ..importing.convert import diarienummer_key
from ..importing.locate import record_label
from ..importing.phases import HAS_BEEN_ACTIVE, check_scheduled
from ..importing.yamlio import read_text_file
from ..policies import load_policy
from .steps import audit_records

# States in which an agreement has a payout plan and follow-ups: those reached by
# `activate` (importing/phases.py).
SCHEDULED = HAS_BEEN_ACTIVE


@dataclass(frozen=True)
class ImportResult:
    organisations: int  # new ones
    people: int
    agreements: int
    updated_organisations: int = 0  # already stored, changed to what the file says


def import_file(
    db: Database, path: str, *, now: datetime, origin: Origin = IMPORT_ORIGIN
) -> ImportResult:
    text = read_text_file(path, what="FILE")  # at most yamlio.MAX_BYTES, UTF-8
    bundle = load_yaml(text, today=today_in_stockholm(now))
    return import_bundle(db, bundle, now=now, source=Path(path).name, origin=origin)


def import_bundle(
    db: Database,
    bundle: ImportBundle,
    *,
    now: datetime,
    source: str = "import",
    origin: Origin = IMPORT_ORIGIN,
) -> ImportResult:
    """Store `bundle` in one transaction; its audit records come through `origin` (the
    import channel; the CLI adds who ran it where).

    `bundle` is parsed for the day of `now` (`load_yaml(..., today=...)`): the steps
    leading to each agreement's state were replayed on that day. Those whose guards
    read the planned follow-ups and payouts are replayed here once they are planned.
    """
    today = today_in_stockholm(now)
    with db.write() as session:
        repo = Repository(session)
        updated = _update_known(repo, bundle, now, today, source, origin)
        _refuse_known(repo, bundle)
        stored = {
            nr: org for nr in bundle.unresolved_orgnrs if (org := repo.organisation_by_orgnr(nr))
        }
        bundle.resolve_organisations(stored)
        for organisation in bundle.organisations:
            repo.add(organisation)
        repo.flush()
        by_orgnr = {o.organisationsnummer: o for o in bundle.organisations} | stored | updated
        for person, orgnr in bundle.people:
            if orgnr is not None:
                person.organisation_id = _orgnr_id(repo, by_orgnr, orgnr)
            repo.add(person)
        repo.flush()
        bundle.check_people(lambda name: _lookup(repo, name))
        for agreement in bundle.agreements:
            for party in agreement.parties:
                party.organisation_id = party.organisation.id
            repo.add(agreement)
        repo.flush()
        for index, agreement in enumerate(bundle.agreements):
            released = bundle.released_through.get(agreement.diarienummer)
            label = record_label("agreements", index, agreement.diarienummer)
            _schedule(repo, agreement, today, now, source, released, origin, label)
        return ImportResult(
            len(bundle.organisations), len(bundle.people), len(bundle.agreements), len(updated)
        )


# The organisation fields a file states; `iop import` of a known organisation sets them.
_FILE_FIELDS = (
    "name",
    "contact_name",
    "contact_email",
    "contact_phone",
    "forening_registered",
    "forening_register_ref",
    "forening_registered_on",
)


def _update_known(
    repo: Repository,
    bundle: ImportBundle,
    now: datetime,
    today: date,
    source: str,
    origin: Origin,
) -> dict[str, Organisation]:
    """A known organisation in the file is updated to what the file says (one audit
    record listing old → new), and the file's agreements and people use the stored one.

    Refused, naming the field: a file that would take a registered organisation out of
    the föreningsregister (that is `iop org update ORGNR --not-registered`, with its
    reason). A reference or day the file leaves out keeps the stored one."""
    updated: dict[str, Organisation] = {}
    for i, org in enumerate(bundle.organisations):
        stored = repo.organisation_by_orgnr(org.organisationsnummer)
        if stored is None:
            continue
        nr, label = (
            org.organisationsnummer,
            record_label("organisations", i, org.organisationsnummer),
        )
        if stored.forening_registered and not org.forening_registered:
            raise InvalidInput(
                f"{nr} is registered in the föreningsregister"
                f" ({stored.forening_register_ref or 'no reference'}) and the file says it is"
                f" not; deregister it with `iop org update {nr} --not-registered`",
                record=label,
                field="forening_register",
            )
        if org.forening_registered:
            org.forening_register_ref = org.forening_register_ref or stored.forening_register_ref
            org.forening_registered_on = org.forening_registered_on or stored.forening_registered_on
        changes = {
            name: {"from": _iso(getattr(stored, name)), "to": _iso(getattr(org, name))}
            for name in _FILE_FIELDS
            if getattr(stored, name) != getattr(org, name)
        }
        before = "registered" if stored.forening_registered else "not_registered"
        for name in changes:
            setattr(stored, name, getattr(org, name))
        if changes:
            repo.add_audit(
                AuditRecord(
                    at=now,
                    actor="import",
                    role="system",
                    agreement_id=None,
                    entity="organisation",
                    entity_key=nr,
                    trigger="import",
                    from_state=before,
                    to_state="registered" if stored.forening_registered else "not_registered",
                    reason=f"updated from {source}",
                    data={"file": source, "changes": changes, "as_of": today.isoformat()},
                    channel=origin.channel,
                    os_user=origin.os_user,
                    host=origin.host,
                    effective_date=today,
                )
            )
        updated[nr] = stored
        for agreement in bundle.agreements:
            for party in agreement.parties:
                if party.organisation is org:
                    party.organisation = stored
    bundle.organisations[:] = [
        o for o in bundle.organisations if o.organisationsnummer not in updated
    ]
    return updated


def _iso(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def _refuse_known(repo: Repository, bundle: ImportBundle) -> None:
    for i, org in enumerate(bundle.organisations):
        if repo.organisation_by_orgnr(org.organisationsnummer):
            raise InvalidInput(
                f"{org.organisationsnummer} is already in the database",
                record=record_label("organisations", i, org.organisationsnummer),
                field="organisationsnummer",
            )
    for i, (person, _) in enumerate(bundle.people):
        if repo.person(person.name):
            raise InvalidInput(
                f"{person.name} is already in the database",
                record=record_label("people", i, person.name),
                field="name",
            )
    # One read of every diarienummer, compared as the file's own duplicates are.
    known = {
        diarienummer_key(d): d for d in repo.session.scalars(sa.select(t.agreements.c.diarienummer))
    }
    for i, agreement in enumerate(bundle.agreements):
        if (same := known.get(diarienummer_key(agreement.diarienummer))) is not None:
            raise InvalidInput(
                f"{agreement.diarienummer} is already in the database"
                + ("" if same == agreement.diarienummer else f" (as '{same}')"),
                record=record_label("agreements", i, agreement.diarienummer),
                field="diarienummer",
            )


def _orgnr_id(repo: Repository, by_orgnr: dict[str, Organisation], orgnr: str) -> int | None:
    found = by_orgnr.get(orgnr) or repo.organisation_by_orgnr(orgnr)
    return None if found is None else found.id


def _lookup(repo: Repository, name: str) -> tuple[Person, str | None] | None:
    person = repo.person(name)
    if person is None:
        return None
    org = repo.organisation(person.organisation_id) if person.organisation_id else None
    return person, None if org is None else org.organisationsnummer


def _schedule(
    repo: Repository,
    agreement: Agreement,
    today: date,
    now: datetime,
    source: str,
    released_through: date | None,
    origin: Origin,
    label: str,
) -> None:
    """Give an imported running agreement its follow-ups and payouts; audit the import."""
    policy = load_policy(agreement.municipality)
    ctx = StepContext(
        agreement,
        policy,
        SYSTEM_ACTOR,
        today,
        "import",
        StepData({}, "import"),
        agreement,
    )
    if agreement.state in SCHEDULED:
        sync_schedule(ctx)
        for payout in agreement.payouts:
            if released_through and payout.due_on <= released_through:
                # Paid before the agreement entered this system: history, not a step.
                payout.state = PayoutState.RELEASED
                payout.released_on, payout.released_by = payout.due_on, "import"
    repo.flush()
    if agreement.state in SCHEDULED:
        check_scheduled(agreement, policy, label, today)  # after the flush: payouts have ids
    record = AuditRecord(
        at=now,
        actor="import",
        role="system",
        agreement_id=agreement.id,
        entity="agreement",
        entity_key=agreement.diarienummer,
        trigger="import",
        from_state="",
        to_state=agreement.state.value,
        reason=f"imported from {source}",
        data={"file": source},
        channel=origin.channel,
        os_user=origin.os_user,
        host=origin.host,
        effective_date=today,
    )
    repo.add_audit(record)
    for extra in audit_records(agreement, SYSTEM_ACTOR, ctx.changes, now, day=today, origin=origin):
        repo.add_audit(extra)
