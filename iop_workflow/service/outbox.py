"""Record notifications as pending rows of the outbox (delivery is a separate step)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.bulk import insert_many
from ..domain.reminders import Stage

KEY = ("agreement_id", "kind", "subject_date", "stage")
PART = 10_000  # notification rows built and written at a time


@dataclass(frozen=True)
class Notice:
    agreement_id: int
    subject_date: date
    stage: Stage
    facts: dict[str, Any] = field(default_factory=dict)


def record(session: Session, notices: Sequence[Notice], *, as_of: date, now: datetime) -> int:
    """Store each notice once; return how many were new. Of notices with the same key in
    `notices`, the last is the one kept."""
    last = {_key(n): i for i, n in enumerate(notices)}
    stored = 0
    # In parts: a run of 100 000 notices never holds all its rows at once.
    for start in range(0, len(notices), PART):
        rows = [
            {
                "agreement_id": n.agreement_id,
                "kind": n.stage.kind,
                "subject_date": n.subject_date,
                "stage": n.stage.stage,
                "recipients": n.stage.recipients,
                "facts": {k: _plain(v) for k, v in n.facts.items()},
                "state": "pending",
                "created_on": as_of,
                "created_at": now,
                "attempts": 0,
            }
            for i, n in enumerate(notices[start : start + PART], start)
            if last[_key(n)] == i
        ]
        stored += insert_many(session, t.notifications, rows, skip=KEY)
    return stored


def _key(n: Notice) -> tuple[int, str, date, str]:
    return (n.agreement_id, n.stage.kind, n.subject_date, n.stage.stage)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
