"""Fire one machine step on one entity and record it as a `StateChange`."""

from __future__ import annotations

from dataclasses import replace
from enum import StrEnum
from typing import Any

from .context import StateChange, StepContext
from .errors import InvalidStep
from .machines import MACHINES, SYNC_ONLY_TRIGGERS, triggers_from
from .model import FollowUp, Payout, RepaymentClaim


def entity_key(entity: str, target: Any) -> str:
    if isinstance(target, FollowUp):
        return str(target.year)
    if isinstance(target, (Payout, RepaymentClaim)) and target.id is not None:
        return str(target.id)
    if isinstance(target, Payout):
        return f"{target.covers_from.isoformat()}:{target.organisation_id}"
    if isinstance(target, RepaymentClaim):
        return f"{target.kind.value}:{target.organisation_id}"
    return str(getattr(target, "diarienummer", ""))


def entity_label(entity: str, target: Any) -> str:
    return f"{entity.replace('_', '-')} {entity_key(entity, target)}"


def check_allowed(entity: str, target: Any, trigger: str) -> None:
    state: StrEnum = target.state
    allowed = triggers_from(entity, state)
    if trigger not in allowed:
        # The schedule's own steps are no advice to a person: leave them out of the hint.
        shown = [t for t in allowed if t not in SYNC_ONLY_TRIGGERS]
        raise InvalidStep(entity_label(entity, target), trigger, state.value, shown)


def fire_machine(
    ctx: StepContext,
    entity: str,
    target: Any,
    trigger: str,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> StateChange:
    """Run `trigger` on `target`: state check, guards, state change, one StateChange."""
    check_allowed(entity, target, trigger)
    step_ctx = (
        ctx
        if target is ctx.target and trigger == ctx.trigger
        else replace(ctx, target=target, trigger=trigger, values={"reason": reason})
    )
    before: StrEnum = target.state
    MACHINES[entity].events[trigger].trigger(target, ctx=step_ctx)
    after: StrEnum = target.state
    change = StateChange(
        entity=entity,
        entity_key=entity_key(entity, target),
        trigger=trigger,
        from_state=before.value,
        to_state=after.value,
        reason=reason,
        data=data or {},
    )
    ctx.changes.append(change)
    return change
