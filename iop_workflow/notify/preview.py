"""`iop notify preview` and `iop notify list`: what would be sent, and what was.

The preview runs the day's sweep and payout run inside a transaction that is rolled
back, so it shows the reminders the scheduled flows would record on that day together
with the rows already waiting, routed and rendered exactly as delivery would, and
changes nothing.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa

from ..adapters import tables as t
from ..adapters.db import Database
from ..config import Settings, get_settings
from ..domain.errors import InvalidInput
from ..domain.states import NotificationState
from ..service.payouts import run_payouts
from ..service.sweep import sweep
from . import store
from .plan import NONE, Plan, plan
from .routing import route, rows
from .targets import load_targets


@dataclass(frozen=True)
class PreviewItem:
    channel: str  # email, teams, or none: a recipient that resolved to no address
    to: str  # the address, or the Teams channel's tags
    recipient: str
    subject: str
    body: str
    notifications: tuple[int, ...]
    digest: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _DryRun(Exception):
    """Carries the preview out of the transaction, which it rolls back."""

    def __init__(self, result: Plan) -> None:
        super().__init__("dry run")
        self.result = result


def preview(
    db: Database, *, as_of: date, settings: Settings | None = None, now: datetime | None = None
) -> list[PreviewItem]:
    """What delivery would send for `as_of`; without a config, e-mail only."""
    settings = settings or get_settings()
    targets = load_targets(settings)
    now = now or datetime.now(tz=UTC)
    try:
        with db.write() as session:
            sweep(session, as_of=as_of, now=now)
            run_payouts(session, as_of=as_of, now=now)
            batch = rows(session, t.notifications.c.state == NotificationState.PENDING)
            ids = [row.id for row in batch]
            raise _DryRun(
                plan(
                    route(session, batch),
                    channels=[] if targets is None else targets.channels,
                    base_url=settings.base_url,
                    today=as_of,
                    done=store.delivered(session, ids),
                    digests_sent=store.digests_sent(session, as_of),
                )
            )
    except _DryRun as dry:
        result = dry.result
    items = [
        PreviewItem(
            m.channel,
            m.target,
            m.recipient,
            m.subject,
            m.body,
            m.notification_ids,
            bool(m.digest_on),
        )
        for m in result.messages
    ]
    items += [PreviewItem(NONE, "", "", p.text, "", (p.notification_id,)) for p in result.problems]
    return items


def list_notifications(db: Database, state: str | None = None) -> list[dict[str, Any]]:
    """The outbox, newest first, with where each row went (`iop notify list`)."""
    n, a = t.notifications, t.agreements
    if state is not None and state not in {s.value for s in NotificationState}:
        known = ", ".join(s.value for s in NotificationState)
        raise InvalidInput(f"'{state}' is not a notification state ({known})", field="--state")
    query = (
        sa.select(n, a.c.diarienummer)
        .join(a, a.c.id == n.c.agreement_id)
        .order_by(n.c.created_at.desc(), n.c.id.desc())
    )
    if state is not None:
        query = query.where(n.c.state == NotificationState(state))
    with db.read() as session:
        found = list(session.execute(query))
        delivered: dict[int, list[str]] = defaultdict(list)
        for nid, channel, target in store.delivered(session, [r.id for r in found]):
            delivered[nid].append(f"{channel}:{target}")
    return [
        {
            "id": r.id,
            "diarienummer": r.diarienummer,
            "kind": r.kind,
            "stage": r.stage,
            "subject_date": r.subject_date.isoformat(),
            "recipients": list(r.recipients),
            "state": str(r.state),
            "attempts": r.attempts,
            "next_attempt_at": r.next_attempt_at.isoformat() if r.next_attempt_at else None,
            "sent_at": r.sent_at.isoformat() if r.sent_at else None,
            "delivered_to": sorted(delivered[r.id]),
            "last_error": r.last_error,
        }
        for r in found
    ]
