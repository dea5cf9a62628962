"""The audit records of the payment steps: a named person's step, written with the
set-wise writer (adapters/audit_chain.py) in the caller's transaction, one record per
batch, payout or register change."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.audit_chain import append as append_to_chain
from ..domain.model import Person
from ..domain.roles import Origin
from .setwise import chunks

PAYMENT_DETAILS, ATTEST_RIGHT, BATCH, PAYOUT = (
    "payment_details",
    "attest_right",
    "payment_batch",
    "payout",
)


@dataclass(frozen=True)
class Entry:
    entity: str
    key: str
    trigger: str
    from_state: str
    to_state: str
    agreement_id: int | None = None
    reason: str = ""
    data: dict[str, Any] = field(default_factory=dict)


def write(
    session: Session,
    who: Person,
    entries: Sequence[Entry],
    *,
    day: date,
    now: datetime,
    origin: Origin,
) -> None:
    rows = [
        {
            "at": now,
            "actor": who.name,
            "role": who.role.value,
            "agreement_id": e.agreement_id,
            "entity": e.entity,
            "entity_key": e.key,
            "trigger": e.trigger,
            "from_state": e.from_state,
            "to_state": e.to_state,
            "reason": e.reason,
            "data": {**e.data, "as_of": day.isoformat()},
            "channel": origin.channel,
            "os_user": origin.os_user,
            "host": origin.host,
            "effective_date": day,
        }
        for e in entries
    ]
    append_to_chain(session, rows)
    for part in chunks(rows):
        session.execute(sa.insert(t.audit_log), list(part))


def rowcount(result: sa.Result[Any]) -> int:
    """How many rows a conditional UPDATE changed (0: someone else got there first)."""
    return int(getattr(result, "rowcount", 0) or 0)
