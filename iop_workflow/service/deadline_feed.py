"""A person's calendar feed (.ics) of the deadlines they are responsible for, behind a
secret address they can revoke (a new address revokes the old one).

Whose deadlines: an officer's are the `officer` deadlines of the agreements they
handle; a manager's also those of their officers' agreements; a nämnd secretary's the
`committee` deadlines of their municipality; an organisation representative's the
`organisation` deadlines of their organisation's agreements (`domain.deadlines`
names who is responsible for each). Deadlines from a year back to three years ahead.

Each deadline is one all-day event whose UID is the agreement, the kind and the subject,
so a calendar updates it in place. A deadline that no longer applies (a follow-up
cancelled when the agreement was terminated) is sent with STATUS:CANCELLED, so the
calendar removes it, instead of silently vanishing from the feed.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from icalendar import Calendar, Event

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..domain.errors import NotFound
from ..domain.model import Agreement, Person
from ..domain.states import Role
from ..domain.wording import agreement_link
from .access import viewer_of, visible_agreements
from .identity import sha256
from .views import timeline

BACK, AHEAD = timedelta(days=365), timedelta(days=3 * 365)
GONE = "no calendar feed at this address"
SUMMARIES = {
    "payout": "Utbetalning",
    "follow_up_opens": "Uppföljningen {subject} öppnar",
    "report_due": "Årsrapport {subject} ska lämnas",
    "renewal_window_opens": "Dialog om förnyelse börjar",
    "renewal_window_closes": "Dialog om förnyelse slutar",
    "renewal_decision_deadline": "Sista dag för beslut om förnyelse",
    "agreement_ends": "Avtalet löper ut",
}
RESPONSIBILITY = {
    Role.OFFICER: "officer",
    Role.MANAGER: "officer",
    Role.SECRETARY: "committee",
    Role.ORG_REP: "organisation",
}


def _person(repo: Repository, name: str) -> Person:
    person = repo.person(name)
    if person is None or person.id is None:
        raise NotFound(f"no person named '{name}'")
    return person


def create_feed(db: Database, person_name: str, *, now: datetime) -> str:
    """A new secret address for `person_name`'s feed; their earlier ones stop working."""
    secret = secrets.token_urlsafe(32)
    with db.write() as session:
        person = _person(Repository(session), person_name)
        _revoke(session, person.id, now)
        session.execute(
            sa.insert(t.calendar_feeds).values(
                person_id=person.id, secret_hash=sha256(secret), created_at=now
            )
        )
    return secret


def revoke_feeds(db: Database, person_name: str, *, now: datetime) -> int:
    with db.write() as session:
        return _revoke(session, _person(Repository(session), person_name).id, now)


def _revoke(session: Any, person_id: int | None, now: datetime) -> int:
    cf = t.calendar_feeds
    done = session.execute(
        sa.update(cf)
        .where(cf.c.person_id == person_id, cf.c.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return int(getattr(done, "rowcount", 0) or 0)


def feed_for_secret(db: Database, secret: str, *, today: date, base_url: str = "") -> bytes:
    """The feed behind `secret`; an unknown and a revoked address answer alike. Each
    event links to the agreement's page under `base_url`, as the reminders do."""
    cf = t.calendar_feeds
    if len(secret) > 200:
        raise NotFound(GONE)
    with db.read() as session:
        repo = Repository(session)
        person_id = session.scalar(
            sa.select(cf.c.person_id).where(
                cf.c.secret_hash == sha256(secret), cf.c.revoked_at.is_(None)
            )
        )
        person = session.get(Person, person_id) if person_id is not None else None
        if person is None or not person.active:
            raise NotFound(GONE)
        agreements = _agreements(repo, person)
        calendar = Calendar()
        calendar.add("prodid", "-//iop-workflow//IOP-kalender//SV")
        calendar.add("version", "2.0")
        calendar.add("method", "PUBLISH")
        calendar.add("x-wr-calname", f"IOP-frister – {person.name}")
        wanted = RESPONSIBILITY.get(person.role)
        for agreement in agreements:
            for row in timeline(agreement, today):
                due = date.fromisoformat(row["due"])
                mine = wanted is not None and wanted in str(row["responsible"]).split(" and ")
                if mine and today - BACK <= due <= today + AHEAD:
                    calendar.add_component(_event(agreement, row, due, today, base_url))
        return bytes(calendar.to_ical())


def _agreements(repo: Repository, person: Person) -> list[Agreement]:
    viewer = viewer_of(repo, person)
    a = t.agreements
    if person.role is Role.ORG_REP:
        where: sa.ColumnElement[bool] = visible_agreements(viewer)
    elif person.role is Role.SECRETARY:
        where = a.c.municipality == person.municipality
    elif person.role in (Role.OFFICER, Role.MANAGER):
        where = a.c.officer.in_([person.name, *viewer.manages])
    else:
        return []
    ids = list(repo.session.scalars(sa.select(a.c.id).where(where).order_by(a.c.id)))
    return [repo.agreement(i) for i in ids]


def _event(
    agreement: Agreement, row: dict[str, Any], due: date, today: date, base_url: str
) -> Event:
    event = Event()
    subject = str(row["subject"])
    event.add("uid", f"{agreement.id}-{row['kind']}-{subject}@iop-workflow")
    event.add("dtstamp", datetime(today.year, today.month, today.day))
    event.add("dtstart", due)
    event.add("dtend", due + timedelta(days=1))
    what = SUMMARIES.get(str(row["kind"]), str(row["kind"])).format(subject=subject)
    event.add("summary", f"{what} – {agreement.diarienummer}")
    assert agreement.id is not None
    page = agreement_link(base_url, agreement.id)
    event.add("description", f"{agreement.title}\n{page}")
    event.add("url", page)
    event.add("status", "CANCELLED" if row["status"] == "cancelled" else "CONFIRMED")
    event.add("sequence", 1 if row["status"] == "cancelled" else 0)
    event.add("transp", "TRANSPARENT")
    return event
