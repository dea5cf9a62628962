"""Fire one step on one agreement: load, check the actor, fire, audit, commit."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm.attributes import flag_modified

from ..adapters.db import Database, Repository
from ..clock import Clock
from ..domain.context import StateChange
from ..domain.model import Agreement, AuditRecord
from ..domain.notices import step_notices
from ..domain.roles import DEFAULT_ORIGIN, Actor, Origin
from ..domain.workflow import fire
from ..policies import load_policy
from .outbox import Notice
from .outbox import record as record_notices
from .system_day import refuse_future


@dataclass(frozen=True)
class StepResult:
    agreement_id: int
    diarienummer: str
    state: str
    changes: list[StateChange]


def audit_records(
    agreement: Agreement,
    actor: Actor,
    changes: list[StateChange],
    now: datetime,
    *,
    day: date,
    origin: Origin,
) -> list[AuditRecord]:
    """One record per change, acting on `day`, through `origin`."""
    return [
        AuditRecord(
            at=now,
            actor=actor.name,
            role=actor.role.value,
            agreement_id=agreement.id,
            entity=change.entity,
            entity_key=change.entity_key,
            trigger=change.trigger,
            from_state=change.from_state,
            to_state=change.to_state,
            reason=change.reason,
            data=dict(change.data),
            channel=origin.channel,
            os_user=origin.os_user,
            host=origin.host,
            effective_date=day,
        )
        for change in changes
    ]


def apply_step(
    repo: Repository,
    agreement: Agreement,
    trigger: str,
    *,
    actor: Actor,
    data: Mapping[str, Any] | None,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> list[StateChange]:
    """Fire inside the caller's transaction; write one audit record per change (through
    `origin`) and the notices the step causes (domain/notices.py), so all commit or
    none do. `today`, the step's effective date, may not be after the system's day."""
    refuse_future(repo.session, today, record=f"step '{trigger}'", clock=clock)
    changes = fire(
        agreement,
        trigger,
        actor=actor,
        today=today,
        policy=load_policy(agreement.municipality),
        data=data,
    )
    # Every step bumps the agreement's version, so two concurrent steps on one
    # agreement cannot both commit: the second fails the optimistic check.
    flag_modified(agreement, "state")
    repo.flush()
    for audit in audit_records(agreement, actor, changes, now, day=today, origin=origin):
        audit.data = {**audit.data, "as_of": today.isoformat()}
        repo.add_audit(audit)
    # Chained now (the head is locked from here to commit), before the notices: every
    # writer takes the head after its row locks and before its outbox rows.
    repo.flush()
    assert agreement.id is not None
    notices = [
        Notice(agreement.id, n.subject_date, n.stage, n.facts)
        for n in step_notices(agreement, changes, today)
    ]
    record_notices(repo.session, notices, as_of=today, now=now)
    return changes


def transition(
    db: Database,
    ref: str,
    trigger: str,
    *,
    actor_name: str,
    data: Mapping[str, Any] | None = None,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
    clock: Clock | None = None,
) -> StepResult:
    """Fire `trigger` on agreement `ref` as `actor_name`, coming through `origin` (only
    the flows' origin may act as the system)."""
    from .actors import resolve_actor

    with db.write() as session:
        repo = Repository(session)
        agreement = repo.agreement(ref)
        actor = resolve_actor(repo, actor_name, agreement, origin=origin)
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
