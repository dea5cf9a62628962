"""E-mail end to end: sweep → outbox → apprise → a real SMTP server, parsed on arrival."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import sqlalchemy as sa
from notify_support import (
    BASE_URL,
    DNR,
    OFFICER,
    ORGANISATION,
    REMINDER_DAY,
    Mailbox,
    at,
    email_config,
    free_port,
)

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.notify import deliver_pending, list_notifications
from iop_workflow.service.report import portfolio
from iop_workflow.service.sweep import daily_sweep


def _agreement_id(db: Database) -> int:
    with db.read() as session:
        query = sa.select(t.agreements.c.id).where(t.agreements.c.diarienummer == DNR)
        return int(session.execute(query).scalar_one())


def _states(db: Database) -> list[tuple[str, int]]:
    return [(row["state"], row["attempts"]) for row in list_notifications(db)]


def test_a_report_due_soon_arrives_by_email_in_swedish_with_diarienummer_and_link(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    report = deliver_pending(db, now=at(REMINDER_DAY), settings=settings)

    # The day also opens the renewal window (officer and organisation): three messages.
    assert (report.sent, report.messages_sent, report.messages_failed) == (2, 3, 0)
    [due] = [m for m in mailbox.received if "verksamhetsrapporten" in m.subject]
    assert due.rcpt_tos == [ORGANISATION]
    assert due.mail_from == "iop@example.com"
    message = due.message
    assert message["To"] == ORGANISATION
    assert message["From"].addresses[0].display_name == "IOP Mjölby"
    assert message.get_content_type() == "text/plain"
    assert message.get_content_charset() == "utf-8"
    assert due.subject == (
        f"Påminnelse: verksamhetsrapporten för 2026 ska lämnas senast 31 mars 2027 ({DNR})"
    )
    body = due.body
    assert f"Diarienummer: {DNR}" in body
    assert "Överenskommelse: Stödsamtal och rådgivning för våldsutsatta" in body
    assert "Organisation: Samtalsjouren Svartån" in body
    assert "Sista dag för rapporten: 31 mars 2027" in body
    assert "Lämna in verksamhetsberättelse, resultat- och balansräkning" in body
    assert f"{BASE_URL}/agreements/{_agreement_id(db)}" in body
    assert "Mjölby kommun" in body and "handläggaren Anna Berg" in body
    assert sorted(r for m in mailbox.received for r in m.rcpt_tos) == sorted(
        [ORGANISATION, ORGANISATION, OFFICER]
    )
    assert _states(db) == [("sent", 1), ("sent", 1)]


def test_smtp_down_keeps_rows_pending_and_the_next_run_delivers_each_once(
    db: Database, configure: Callable[..., Settings]
) -> None:
    port = free_port()  # nothing listens here yet
    settings = configure(email_config(port), notify_backoff_seconds=300)
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))
    first = at(REMINDER_DAY)

    down = deliver_pending(db, now=first, settings=settings)

    assert (down.sent, down.retrying, down.messages_failed) == (0, 2, 3)
    assert all("Connection error" in error for error in down.errors)
    rows = list_notifications(db)
    assert [(r["state"], r["attempts"]) for r in rows] == [("pending", 1), ("pending", 1)]
    assert {r["next_attempt_at"] for r in rows} == {(first + timedelta(seconds=300)).isoformat()}
    assert all("Connection error" in (r["last_error"] or "") for r in rows)
    # Before the backoff is over nothing is tried again.
    assert deliver_pending(db, now=first + timedelta(seconds=60), settings=settings).claimed == 0

    box = Mailbox(port).start()
    try:
        back = deliver_pending(db, now=first + timedelta(seconds=301), settings=settings)
        again = deliver_pending(db, now=first + timedelta(hours=2), settings=settings)
    finally:
        box.stop()

    assert (back.sent, back.messages_sent) == (2, 3)
    assert sorted(r for m in box.received for r in m.rcpt_tos) == sorted(
        [ORGANISATION, ORGANISATION, OFFICER]
    )
    assert (again.claimed, again.messages_sent) == (0, 0)
    assert _states(db) == [("sent", 2), ("sent", 2)]


def test_after_the_last_attempt_a_row_is_failed_and_in_the_portfolio_report(
    db: Database, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(free_port()), notify_max_attempts=2)
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    deliver_pending(db, now=at(REMINDER_DAY), settings=settings)
    last = deliver_pending(db, now=at(REMINDER_DAY, hour=12), settings=settings)

    assert (last.failed, last.retrying) == (2, 0)
    assert _states(db) == [("failed", 2), ("failed", 2)]
    listed = portfolio(db, REMINDER_DAY).scopes["mjolby"].failed_notifications
    assert sorted(f["kind"] for f in listed) == ["renewal_window_open", "report_due_soon"]
    # A failed row is not tried again.
    assert deliver_pending(db, now=at(REMINDER_DAY, hour=23), settings=settings).claimed == 0


def test_three_sweeps_on_one_day_send_each_reminder_once(
    db: Database, mailbox: Mailbox, configure: Callable[..., Settings]
) -> None:
    settings = configure(email_config(mailbox.port))
    for hour in (6, 9, 15):
        daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY, hour))
        deliver_pending(db, now=at(REMINDER_DAY, hour), settings=settings)

    subjects = sorted((m.rcpt_tos[0], m.subject) for m in mailbox.received)
    assert len(subjects) == len(set(subjects)) == 3
    with db.read() as session:
        count = session.execute(sa.select(sa.func.count()).select_from(t.notifications))
        assert count.scalar_one() == 2


def test_without_a_configuration_nothing_is_sent_and_no_attempt_is_used(
    db: Database, mailbox: Mailbox
) -> None:
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))

    report = deliver_pending(db, now=at(REMINDER_DAY), settings=Settings())

    assert not report.configured and report.claimed == 0
    assert _states(db) == [("pending", 0), ("pending", 0)]
    assert mailbox.received == []
