"""Routing by role, the daily digest, missing addresses, and the preview."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from notify_support import (
    DNR,
    MANAGER,
    OFFICER,
    ORGANISATION,
    REMINDER_DAY,
    SECRETARY,
    Mailbox,
    at,
    email_config,
)

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import STOCKHOLM, Settings
from iop_workflow.domain.reminders import Stage
from iop_workflow.notify import deliver_pending, list_notifications, preview
from iop_workflow.notify.routing import route, rows
from iop_workflow.service.outbox import Notice, record

ALL_ROLES = ("organisation", "officer", "manager", "secretary")


def _agreement_id(db: Database) -> int:
    with db.read() as session:
        query = sa.select(t.agreements.c.id).where(t.agreements.c.diarienummer == DNR)
        return int(session.execute(query).scalar_one())


def _notify(db: Database, kind: str, recipients: tuple[str, ...], on: date, **facts: Any) -> None:
    notice = Notice(_agreement_id(db), on, Stage(on, kind, "test", recipients), facts)
    with db.write() as session:
        record(session, [notice], as_of=on, now=at(on))


def _person(db: Database, name: str, **values: Any) -> None:
    with db.write() as session:
        session.execute(sa.update(t.people).where(t.people.c.name == name).values(**values))


def test_each_role_resolves_to_its_address(db: Database) -> None:
    _notify(db, "escalation", ALL_ROLES, REMINDER_DAY, year=2026, due="2027-03-31")

    with db.read() as session:
        [routed] = route(session, rows(session, sa.true()))

    found = {(r.role, r.address, r.name) for r in routed.recipients}
    assert found == {
        ("organisation", ORGANISATION, "Samtalsjouren Svartån"),
        ("officer", OFFICER, "Anna Berg"),
        ("manager", MANAGER, "Karin Lund"),
        ("secretary", SECRETARY, "Per Sandberg"),
    }
    assert routed.problems == []
    assert routed.agreement.diarienummer == DNR


def test_missing_addresses_are_reported_and_the_others_still_get_theirs(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    _person(db, "Karin Lund", email=None)
    _person(db, "Per Sandberg", municipality="kramfors")
    _notify(db, "escalation", (*ALL_ROLES, "auditor"), REMINDER_DAY, year=2026)

    report = deliver_pending(
        db, now=at(REMINDER_DAY), settings=configure(email_config(mailbox.port))
    )

    assert sorted(r for m in mailbox.received for r in m.rcpt_tos) == sorted(
        [ORGANISATION, OFFICER]
    )
    assert (report.sent, report.retrying, report.messages_sent) == (0, 1, 2)
    assert len(report.problems) == 3
    [row] = list_notifications(db)
    assert (row["state"], row["attempts"]) == ("pending", 1)
    assert "no e-mail address for Karin Lund (manager of Anna Berg)" in row["last_error"]
    assert "no secretary with an e-mail address in mjolby" in row["last_error"]
    assert "unknown recipient role 'auditor'" in row["last_error"]

    # Once the address is known, only the missing recipient is sent to.
    _person(db, "Karin Lund", email=MANAGER)
    _person(db, "Per Sandberg", municipality="mjolby")
    later = at(REMINDER_DAY) + timedelta(hours=1)
    deliver_pending(db, now=later, settings=configure(email_config(mailbox.port)))
    assert sorted(r for m in mailbox.received[2:] for r in m.rcpt_tos) == [MANAGER, SECRETARY]


def test_a_digest_reader_gets_one_message_a_day_listing_all_items(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    _person(db, "Anna Berg", digest=True)
    both = ("organisation", "officer")
    day = date(2027, 4, 15)
    _notify(db, "report_overdue", both, date(2027, 3, 31), year=2026, due="2027-03-31")
    _notify(db, "claim_overdue", both, date(2027, 4, 1), amount_ore=1_250_000, due="2027-04-01")
    _notify(db, "payout_blocked", both, date(2027, 4, 30), amount="150 000,00 kr")

    morning = deliver_pending(db, now=at(day, 5), settings=settings)

    [digest] = mailbox.to(OFFICER)
    assert digest.subject == "IOP-stödet: 3 ärenden 15 april 2027"
    assert digest.body.startswith("Hej Anna Berg!")
    for expected in (
        f"Försenad verksamhetsrapport för 2026 ({DNR})",
        f"Förfallet återbetalningskrav på 12 500,00 kr ({DNR})",
        "Utbetalning spärrad: 150 000,00 kr den 30 april 2027",
        "/agreements/",
    ):
        assert expected in digest.body
    assert len(mailbox.to(ORGANISATION)) == 3  # the organisation reads one message each
    assert morning.sent == 3

    # A fourth item the same day waits for tomorrow's digest.
    _notify(db, "agreement_ending", both, date(2027, 12, 31), end="2027-12-31")
    noon = deliver_pending(db, now=at(day, 11), settings=settings)
    assert (noon.deferred, len(mailbox.to(OFFICER)), len(mailbox.to(ORGANISATION))) == (1, 1, 4)
    waiting = [r for r in list_notifications(db) if r["state"] == "pending"]
    midnight = datetime(2027, 4, 16, tzinfo=STOCKHOLM)  # the start of the next Swedish day
    assert [w["next_attempt_at"] for w in waiting] == [midnight.astimezone(UTC).isoformat()]

    tomorrow = deliver_pending(db, now=at(day + timedelta(days=1), 6), settings=settings)
    assert tomorrow.sent == 1
    [_, second] = mailbox.to(OFFICER)
    assert second.subject == "IOP-stödet: 1 ärende 16 april 2027"
    assert "Överenskommelsen upphör 31 december 2027" in second.body
    assert len(mailbox.to(ORGANISATION)) == 4


def test_preview_shows_what_the_day_would_send_and_changes_nothing(db: Database) -> None:
    _person(db, "Anna Berg", digest=True)

    def counts() -> tuple[int, int]:
        with db.read() as session:
            return tuple(  # type: ignore[return-value]
                session.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in (t.notifications, t.audit_log)
            )

    before = counts()
    items = preview(db, as_of=REMINDER_DAY, settings=Settings(base_url="https://x.example"))

    assert counts() == before
    shown = sorted((i.channel, i.to, i.digest, i.subject) for i in items)
    assert shown == [
        ("email", OFFICER, True, "IOP-stödet: 1 ärende 1 mars 2027"),
        ("email", ORGANISATION, False, f"Dags för dialog om förnyelse ({DNR})"),
        (
            "email",
            ORGANISATION,
            False,
            f"Påminnelse: verksamhetsrapporten för 2026 ska lämnas senast 31 mars 2027 ({DNR})",
        ),
    ]
    assert all("https://x.example/agreements/" in i.body for i in items)
