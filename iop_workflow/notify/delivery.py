"""Send the due outbox rows through apprise: each target once, failures retried later.

Batch by batch: claim due rows, route and render them, send each message to its one
target (one apprise object per target, so each result is known), record each result
at once, then settle every row: sent, retried after a backoff, failed after
`notify_max_attempts`, or waiting for tomorrow's digest. Nothing here raises for a target
that fails: the caller (a flow, `iop notify send`) always completes and gets a report.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import datetime, time, timedelta
from typing import Any

import apprise

from ..adapters import tables as t
from ..adapters.db import Database
from ..config import STOCKHOLM, Settings, get_settings, today_in_stockholm
from . import store
from .capture import captured, reasons
from .errors import NotificationConfigError
from .plan import EMAIL, NONE, Message, plan
from .redact import redacted_logger
from .routing import route, rows
from .targets import Targets, load_targets

log = logging.getLogger("iop_workflow.notify")
BATCH = 100  # rows per claim: the lease must outlast sending one batch


@dataclass
class DeliveryReport:
    configured: bool
    claimed: int = 0
    sent: int = 0  # rows now delivered to every target
    retrying: int = 0  # rows that will be tried again after a backoff
    failed: int = 0  # rows that used up their attempts (shown in the portfolio report)
    deferred: int = 0  # rows waiting for tomorrow's digest
    messages_sent: int = 0
    messages_failed: int = 0
    errors: list[str] = field(default_factory=list)  # redacted
    problems: list[str] = field(default_factory=list)  # recipients without an address

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def deliver_pending(
    db: Database, *, now: datetime, settings: Settings | None = None
) -> DeliveryReport:
    """Deliver every pending notification that is due at `now`."""
    settings = settings or get_settings()
    targets = load_targets(settings)
    if targets is None:
        # Without a configuration the rows wait: attempts are not used up on a setup gap.
        log.warning("notifications not sent: no apprise configuration (IOP_APPRISE_CONFIG)")
        return DeliveryReport(configured=False)
    report = DeliveryReport(configured=True)
    lease = timedelta(seconds=settings.notify_lease_seconds)
    while ids := store.claim(db, now=now, lease=lease, limit=BATCH):
        report.claimed += len(ids)
        _deliver_batch(db, ids, targets, settings, now, report)
    log.info(
        "notifications: %d sent, %d retrying, %d failed, %d for tomorrow's digest",
        report.sent,
        report.retrying,
        report.failed,
        report.deferred,
    )
    return report


def _deliver_batch(
    db: Database,
    ids: list[int],
    targets: Targets,
    settings: Settings,
    now: datetime,
    report: DeliveryReport,
) -> None:
    today = today_in_stockholm(now)
    with db.read() as session:
        batch = rows(session, t.notifications.c.id.in_(ids))
        the_plan = plan(
            route(session, batch),
            channels=targets.channels,
            base_url=settings.base_url,
            today=today,
            done=store.delivered(session, ids),
            digests_sent=store.digests_sent(session, today),
        )
    attempts = {row.id: row.attempts for row in batch}
    errors: dict[int, list[str]] = defaultdict(list)
    tried: set[int] = set()
    for problem in the_plan.problems:
        report.problems.append(f"notification {problem.notification_id}: {problem.text}")
        errors[problem.notification_id].append(problem.text)
        _record(db, [problem.notification_id], attempts, NONE, "", problem.text, None, now)
    with redacted_logger("apprise", targets.redact):
        for message in the_plan.messages:
            error = _send(targets, message)
            tried.update(message.notification_ids)
            ids_ = message.notification_ids
            _record(db, ids_, attempts, message.channel, message.target, error, message, now)
            if error is None:
                report.messages_sent += 1
                continue
            report.messages_failed += 1
            text = f"{message.channel} {message.target}: {error}"
            report.errors.append(text)
            log.warning("notification %s not delivered: %s", list(ids_), text)
            for nid in ids_:
                errors[nid].append(text)
    tomorrow = datetime.combine(today + timedelta(days=1), time(), STOCKHOLM)
    for row in batch:
        attempt = row.attempts + 1
        outcome = store.finish(
            db,
            row.id,
            attempts=row.attempts,
            errors=errors.get(row.id, []),
            deferred_until=tomorrow if row.id in the_plan.deferred else None,
            tried=row.id in tried,
            max_attempts=settings.notify_max_attempts,
            backoff=store.backoff(
                settings.notify_backoff_seconds, settings.notify_backoff_max_seconds, attempt
            ),
            now=now,
        )
        setattr(report, outcome, getattr(report, outcome) + 1)  # outcomes name the counters


def _record(
    db: Database,
    ids: tuple[int, ...] | list[int],
    attempts: dict[int, int],
    channel: str,
    target: str,
    error: str | None,
    message: Message | None,
    now: datetime,
) -> None:
    store.record(
        db,
        ids=ids,
        attempts=attempts,
        channel=channel,
        target=target,
        ok=error is None,
        error=error,
        digest_on=None if message is None else message.digest_on,
        now=now,
    )


def _send(targets: Targets, message: Message) -> str | None:
    """None when the target accepted the message, else why not (redacted)."""
    try:
        if message.channel == EMAIL:
            server, body_format = targets.mailer(message.target), apprise.NotifyFormat.TEXT
        else:
            server = next(c.server for c in targets.channels if c.key == message.target)
            body_format = apprise.NotifyFormat.MARKDOWN
        with captured() as said:
            ok = server.notify(title=message.subject, body=message.body, body_format=body_format)
    except NotificationConfigError as error:
        return targets.redact(str(error))
    except Exception as error:  # a plugin bug must not stop the other messages
        return targets.redact(f"{type(error).__name__}: {error}")
    if ok:
        return None
    return targets.redact(reasons(said)) or "the target did not accept the message"
