"""A signed-in person reads an agreement or fires a step on it (the web and the API).

The same step code as `iop transition` (`steps.apply_step`), with three checks before
it: the person may see the agreement (else it "does not exist"), the person is not
read-only, and the page they acted on is not stale (the agreement's version is still
the one they saw).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..clock import Clock
from ..domain.errors import StaleUpdate
from ..domain.roles import Origin, roles_for
from ..domain.states import PayoutState
from ..domain.workflow import available_steps
from .access import Viewer, refuse_read_only, seen_agreement
from .actors import resolve_actor
from .org_reports import submitted_files
from .payment_batches import payment_stages
from .steps import StepResult, apply_step
from .views import audit_view, detail, timeline
from .worklist import gate_reasons

NOTIFICATIONS_SHOWN = 50


def act(
    db: Database,
    viewer: Viewer,
    ref: str | int,
    trigger: str,
    *,
    data: Mapping[str, Any] | None,
    expected_version: int | None,
    today: date,
    now: datetime,
    origin: Origin,
    clock: Clock | None = None,
) -> StepResult:
    """Fire `trigger` on `ref` as `viewer`. `expected_version`: the version the person's
    page showed (None: act on whatever is current, as the CLI does)."""
    with db.write() as session:
        repo = Repository(session)
        agreement = seen_agreement(repo, viewer, ref)
        refuse_read_only(viewer)
        if expected_version is not None and agreement.version != expected_version:
            raise StaleUpdate(f"agreement {agreement.diarienummer}")
        actor = resolve_actor(repo, viewer.name, agreement, origin=origin)
        changes = apply_step(
            repo,
            agreement,
            trigger,
            actor=actor,
            data=data,
            today=today,
            now=now,
            origin=origin,
            clock=clock,
        )
        assert agreement.id is not None
        return StepResult(agreement.id, agreement.diarienummer, agreement.state.value, changes)


def agreement_page(db: Database, viewer: Viewer, ref: str | int, today: date) -> dict[str, Any]:
    """Everything the agreement page shows, in one read: the record (`views.detail`), its
    timeline, audit trail, and the steps this person's role may take now."""
    with db.read() as session:
        repo = Repository(session)
        agreement = seen_agreement(repo, viewer, ref)
        assert agreement.id is not None
        steps = [
            {"trigger": s.trigger, "entity": s.entity, "target": s.target}
            for s in available_steps(agreement)
            if not viewer.read_only and viewer.role in roles_for(s.trigger)
        ]
        shown = detail(agreement)
        held = [p["id"] for p in shown["payouts"] if p["state"] == PayoutState.BLOCKED]
        reasons = gate_reasons(session, held, agreement.diarienummer)
        released = [p["id"] for p in shown["payouts"] if p["state"] == PayoutState.RELEASED]
        money = payment_stages(session, released)
        for payout in shown["payouts"]:
            # As the gate decides it now, not the English reason stored when blocked.
            payout["gate"] = reasons.get(payout["id"])
            payout["payment"] = money.get(payout["id"])
        return {
            **shown,
            "timeline": timeline(agreement, today),
            "audit": audit_view(repo.audit(agreement.id)),
            "my_steps": steps,
            "notifications": notifications_of(session, agreement.id),
            "report_files": submitted_files(session, agreement.id),
        }


def notifications_of(session: Session, agreement_id: int) -> list[dict[str, Any]]:
    """The notices of the agreement, newest first, each with its deliveries (to whom,
    through which channel, delivered or not)."""
    n, d = t.notifications, t.notification_deliveries
    notices = list(
        session.execute(
            sa.select(n)
            .where(n.c.agreement_id == agreement_id)
            .order_by(n.c.created_at.desc(), n.c.id.desc())
            .limit(NOTIFICATIONS_SHOWN)
        )
    )
    deliveries: dict[int, list[dict[str, Any]]] = {}
    if notices:
        for row in session.execute(
            sa.select(d).where(d.c.notification_id.in_([x.id for x in notices])).order_by(d.c.id)
        ):
            deliveries.setdefault(row.notification_id, []).append(
                {
                    "channel": row.channel,
                    "target": row.target,
                    "ok": row.ok,
                    "error": row.error,
                    "at": row.at.isoformat(),
                    "attempt": row.attempt,
                }
            )
    return [
        {
            "id": x.id,
            "kind": x.kind,
            "stage": x.stage,
            "subject_date": x.subject_date.isoformat(),
            "recipients": list(x.recipients),
            "state": str(getattr(x.state, "value", x.state)),
            "sent_at": x.sent_at.isoformat() if x.sent_at else None,
            "last_error": x.last_error,
            "deliveries": deliveries.get(x.id, []),
        }
        for x in notices
    ]


def seen(db: Database, viewer: Viewer, ref: str | int) -> dict[str, Any]:
    """`views.detail` of an agreement `viewer` may see."""
    with db.read() as session:
        return detail(seen_agreement(Repository(session), viewer, ref))
