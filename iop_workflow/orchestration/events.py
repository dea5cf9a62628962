"""Publish the audit log as Prefect events (see service/events.py)."""

from __future__ import annotations

from prefect.events import emit_event

from ..adapters.db import Database
from ..service.events import mark_published, unpublished


def publish_events(db: Database) -> int:
    """Emit every state change not yet published; returns how many were emitted."""
    total = 0
    while True:
        events, last = unpublished(db)
        if not events:
            return total
        for event in events:
            emit_event(
                event=event.event,
                resource=event.resource,
                related=event.related,
                payload=event.payload,
                id=event.id,
            )
        mark_published(db, last)
        total += len(events)
