"""Audit records as Prefect events: each state change, from the CLI or a flow.

The audit log is the outbox: a cursor remembers the last published record, and each
event's id is derived from its audit record (id, instant, what changed), so publishing
the same record again (a crash between emit and cursor update) cannot create a second
event. The record id alone would not do: another product database on the same Prefect
server (a fresh `var/iop.db`, a staging database) numbers its records from 1 again, and
the server silently drops events whose id it has already seen.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database

PUBLISHER = "prefect-events"
NAMESPACE = uuid.UUID("6f0f4a52-5d1c-4c3e-9a55-1a0e8c1b9f00")
BATCH = 5000


@dataclass(frozen=True)
class AgreementEvent:
    id: uuid.UUID
    event: str
    resource: dict[str, str]
    related: list[dict[str, str]]
    payload: dict[str, Any]


def event_name(entity: str, trigger: str, from_state: str, to_state: str) -> str:
    """`iop.payout.blocked`, `iop.follow-up.overdue`, `iop.agreement.active`, ...

    Steps that keep the state (a signature, a received document) are named by the step.
    """
    what = to_state if from_state != to_state else trigger
    return f"iop.{entity.replace('_', '-')}.{what.replace('_', '-')}"


def _event(row: Any) -> AgreementEvent:
    resource = {
        "prefect.resource.id": f"iop.agreement.{row.agreement_id}",
        "prefect.resource.name": row.diarienummer,
        "iop.diarienummer": row.diarienummer,
        "iop.municipality": row.municipality,
    }
    related = []
    if row.entity != "agreement":
        related.append(
            {
                "prefect.resource.id": f"iop.{row.entity.replace('_', '-')}.{row.agreement_id}."
                f"{row.entity_key}",
                "prefect.resource.role": row.entity.replace("_", "-"),
            }
        )
    payload = {
        "trigger": row.trigger,
        "from": row.from_state,
        "to": row.to_state,
        "actor": row.actor,
        "role": row.role,
        "reason": row.reason,
        "entity": row.entity,
        "key": row.entity_key,
        "audit_id": row.id,
    }
    return AgreementEvent(
        id=uuid.uuid5(
            NAMESPACE,
            f"audit-{row.id}-{row.at.isoformat()}-{row.diarienummer}-{row.entity}-"
            f"{row.entity_key}-{row.trigger}",
        ),
        event=event_name(row.entity, row.trigger, row.from_state, row.to_state),
        resource=resource,
        related=related,
        payload=payload,
    )


def _cursor(session: Session) -> int:
    c = t.event_cursor
    value = session.execute(sa.select(c.c.last_audit_id).where(c.c.name == PUBLISHER))
    return value.scalar_one_or_none() or 0


def unpublished(db: Database, limit: int = BATCH) -> tuple[list[AgreementEvent], int]:
    """The next events to publish, and the audit id to move the cursor to afterwards."""
    log, a = t.audit_log, t.agreements
    with db.read() as session:
        after = _cursor(session)
        rows = session.execute(
            sa.select(log, a.c.diarienummer, a.c.municipality)
            .join(a, a.c.id == log.c.agreement_id)
            .where(log.c.id > after)
            .order_by(log.c.id)
            .limit(limit)
        ).all()
    last = rows[-1].id if rows else after
    return [_event(row) for row in rows], last


def mark_published(db: Database, last_audit_id: int) -> None:
    c = t.event_cursor
    with db.write() as session:
        current = _cursor(session)
        if last_audit_id <= current:
            return
        if session.execute(sa.select(c.c.name).where(c.c.name == PUBLISHER)).first():
            session.execute(
                sa.update(c).where(c.c.name == PUBLISHER).values(last_audit_id=last_audit_id)
            )
        else:
            session.execute(sa.insert(c).values(name=PUBLISHER, last_audit_id=last_audit_id))
