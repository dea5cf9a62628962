"""The rule "nothing is dated after the system's day", applied where the service acts.

The day a step or run acts on may lie in the past, never after the system's day
(iop_workflow/clock.py). On a sandbox database the clock is free unless the caller
hands in one of its own (a test fixing the system's day).
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import SANDBOX, Database
from ..clock import SANDBOX_CLOCK, SYSTEM_CLOCK, Clock


def is_sandbox(session: Session) -> bool:
    query = sa.select(t.installation.c.key).where(t.installation.c.key == SANDBOX)
    return session.execute(query).first() is not None


def clock_for(session: Session, clock: Clock | None = None) -> Clock:
    if clock is not None:
        return clock
    return SANDBOX_CLOCK if is_sandbox(session) else SYSTEM_CLOCK


def refuse_future(session: Session, day: date, *, record: str, clock: Clock | None = None) -> None:
    """Refuse acting on `day` when it is after the system's day."""
    clock_for(session, clock).refuse_future(day, record=record, field="as_of")


def refuse_future_run(db: Database, day: date, *, record: str, clock: Clock | None = None) -> None:
    """The check a run makes first, for a caller about to start one (the CLI)."""
    with db.read() as session:
        refuse_future(session, day, record=record, clock=clock)
