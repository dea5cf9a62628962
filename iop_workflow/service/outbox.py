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


@dataclass(frozen=True)
class Notice:
    agreement_id: int
    subject_date: date
    stage: Stage
    facts: dict[str, Any] = field(default_factory=dict)


def record(session: Session, notices: Sequence[Notice], *, as_of: date, now: datetime) -> int:
    """Store each notice once; return how many were new."""
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
        for n in notices
    ]
    unique = {tuple(row[k] for k in KEY): row for row in rows}
    return insert_many(session, t.notifications, list(unique.values()), skip=KEY)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value
