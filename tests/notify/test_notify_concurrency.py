"""Two deliveries at the same moment never send the same notification twice: each row is
claimed by a conditional UPDATE that only one of them can win (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from notify_support import DNR, OFFICER, ORGANISATION, REMINDER_DAY, Mailbox, at, email_config

from iop_workflow.adapters import tables as t
from iop_workflow.adapters.db import Database
from iop_workflow.config import Settings
from iop_workflow.domain.reminders import Stage
from iop_workflow.notify import DeliveryReport, deliver_pending, delivery, list_notifications
from iop_workflow.service.outbox import Notice, record
from iop_workflow.service.sweep import daily_sweep

WORKERS, EXTRA = 4, 60


def test_concurrent_deliveries_send_each_notification_exactly_once(
    any_db: Database,
    mailbox: Mailbox,
    configure: Callable[..., Settings],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    db = any_db
    monkeypatch.setattr(delivery, "BATCH", 5)  # many small claims: the workers interleave
    settings = configure(email_config(mailbox.port))
    daily_sweep(db, as_of=REMINDER_DAY, now=at(REMINDER_DAY))
    with db.write() as session:
        agreement = t.agreements.select().where(t.agreements.c.diarienummer == DNR)
        agreement_id = session.execute(agreement).first()
        assert agreement_id is not None
        notices = [
            Notice(agreement_id.id, REMINDER_DAY, Stage(REMINDER_DAY, "escalation", f"s{i}",
                                                       ("organisation",)), {"year": 2026})
            for i in range(EXTRA)
        ]  # fmt: skip
        record(session, notices, as_of=REMINDER_DAY, now=at(REMINDER_DAY))
    start = threading.Barrier(WORKERS)

    def deliver(_: int) -> DeliveryReport:
        start.wait()
        return deliver_pending(db, now=at(REMINDER_DAY), settings=settings)

    with ThreadPoolExecutor(WORKERS) as pool:
        reports = list(pool.map(deliver, range(WORKERS)))

    rows = list_notifications(db)
    total = len(rows)
    assert total == EXTRA + 2
    assert sum(r.claimed for r in reports) == total
    assert sum(r.sent for r in reports) == total
    assert sum(1 for r in reports if r.claimed) >= 2  # they did compete for the rows
    assert {(r["state"], r["attempts"]) for r in rows} == {("sent", 1)}
    # One e-mail per notification and recipient: the renewal notice also to the officer.
    per_recipient = Counter(rcpt for m in mailbox.received for rcpt in m.rcpt_tos)
    assert per_recipient == {ORGANISATION: EXTRA + 2, OFFICER: 1}
    assert len(mailbox.received) == EXTRA + 3
