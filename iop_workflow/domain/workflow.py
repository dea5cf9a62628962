"""The one entry point for changing an agreement: `fire(...)`.

It checks the step against the state machine, parses the step's input into its
typed command (commands.py), runs the guards, changes state, applies the step's
effects and returns every state change (the step itself first, then what it
cascaded into, such as cancelled payouts).
The caller (the service layer) persists the changes and one audit record each.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, NoReturn

from .commands import TARGETS, command_for, command_model, read_command
from .context import StateChange, StepContext, StepData
from .errors import InvalidInput, NotFound, NotPermitted
from .firing import check_allowed, fire_machine
from .machines import ENTITY_OF, guards_of, triggers_from
from .model import Agreement
from .policy import Policy
from .roles import SYSTEM_ACTOR, Actor, may_fire, roles_for
from .states import DONE_FOLLOW_UP, OPEN_CLAIM, OPEN_PAYOUT, Role
from .steps import STEPS


@dataclass(frozen=True)
class AvailableStep:
    trigger: str
    entity: str
    target: str  # "" for the agreement, "year=2027", "payout=12", "claim=3"
    roles: tuple[str, ...]


def resolve_target(agreement: Agreement, entity: str, data: StepData) -> Any:
    if entity == "agreement":
        return agreement
    (key,) = TARGETS[entity].model_fields
    wanted = getattr(read_command(TARGETS[entity], data), key)
    if entity == "follow_up":
        found = agreement.follow_up(wanted)
        if found is None:
            raise NotFound(f"agreement {agreement.diarienummer} has no follow-up for {wanted}")
        return found
    items = agreement.payouts if entity == "payout" else agreement.claims
    for item in items:
        if item.id == wanted:
            return item
    raise NotFound(f"agreement {agreement.diarienummer} has no {key} {wanted}")


def fire(
    agreement: Agreement,
    trigger: str,
    *,
    actor: Actor,
    today: date,
    policy: Policy,
    data: Mapping[str, Any] | None = None,
    check_role: bool = True,
) -> list[StateChange]:
    """Fire `trigger` on `agreement` (or on one of its follow-ups, payouts, claims)."""
    entity = ENTITY_OF.get(trigger)
    if entity is None:
        refuse_unknown_trigger(trigger)
    if check_role and not may_fire(actor.role, trigger):
        raise NotPermitted(
            actor.name, actor.role.value, trigger, sorted(r.value for r in roles_for(trigger))
        )
    step_data = StepData(data, trigger)
    target = resolve_target(agreement, entity, step_data)
    check_allowed(entity, target, trigger)
    ctx = StepContext(agreement, policy, actor, today, trigger, step_data, target)
    _prepare(ctx)
    step_data.refuse_unused()
    fire_machine(
        ctx, entity, target, trigger, reason=ctx.command.reason or "", data=_audit_data(ctx)
    )
    STEPS[trigger].apply(ctx)
    return ctx.changes


def refuse_unknown_trigger(trigger: str) -> NoReturn:
    """An unknown trigger is bad input (exit 2), not a refusal: `InvalidInput` on the
    field TRIGGER naming every step there is, as `iop steps TRIGGER` says it. Raised
    before anything is changed."""
    try:
        command_model(trigger)
    except InvalidInput as error:
        error.field = "TRIGGER"
        raise
    raise AssertionError(f"step '{trigger}' has a command but no machine")


def _prepare(ctx: StepContext) -> None:
    """Parse the step's typed command from its input, then derive what its guards check."""
    ctx.command = read_command(command_for(ctx.trigger, ctx.agreement), ctx.data)
    STEPS[ctx.trigger].prepare(ctx)


def check_guards(
    agreement: Agreement,
    trigger: str,
    *,
    policy: Policy,
    today: date,
    actor: Actor = SYSTEM_ACTOR,
    data: Mapping[str, Any] | None = None,
    target: Any = None,
) -> None:
    """Run the guards `trigger` has in the machine, without the state check and without
    changing anything: raises `GuardRefused` (or `InvalidInput`) as the step would.

    The import uses it to replay the steps that lead to the state a file claims, so a
    state is reached by import only on the conditions a person's steps would have met.
    With no `data` the step's inputs default to what the agreement already holds.
    """
    entity = ENTITY_OF[trigger]
    step_data = StepData(data, trigger)
    chosen = agreement if target is None else target
    ctx = StepContext(agreement, policy, actor, today, trigger, step_data, chosen)
    _prepare(ctx)
    for condition in guards_of(entity, trigger, chosen.state):
        condition(_GuardEvent(ctx))


@dataclass(frozen=True)
class _GuardEvent:
    """What a guard receives from `transitions` (guards read only `kwargs["ctx"]`)."""

    ctx: StepContext

    @property
    def kwargs(self) -> dict[str, Any]:
        return {"ctx": self.ctx}


def _audit_data(ctx: StepContext) -> dict[str, Any]:
    """The step's input as given, and the forum's meeting it records (steps.py
    `prepare_meeting`), with the forum filled in from the preset when none was given:
    the trail says where and when without the preset at hand."""
    found = {key: _plain(value) for key, value in ctx.data.raw.items()}
    found.update({key: _plain(value) for key, value in ctx.values.get("meeting", {}).items()})
    return found


def _plain(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, (str, int, bool)) or value is None:
        return value
    return str(value)


def available_steps(agreement: Agreement) -> list[AvailableStep]:
    """Every step the machines allow now (guards aside), on the agreement and its parts."""

    def steps(entity: str, state: Any, target: str) -> list[AvailableStep]:
        return [
            AvailableStep(
                trigger=t,
                entity=entity,
                target=target,
                roles=tuple(sorted(r.value for r in roles_for(t) if r is not Role.SYSTEM)),
            )
            for t in triggers_from(entity, state)
        ]

    found = steps("agreement", agreement.state, "")
    for follow_up in agreement.follow_ups:
        if follow_up.state not in DONE_FOLLOW_UP:
            found += steps("follow_up", follow_up.state, f"year={follow_up.year}")
    for payout in agreement.payouts:
        if payout.state in OPEN_PAYOUT:
            found += steps("payout", payout.state, f"payout={payout.id}")
    for claim in agreement.claims:
        if claim.state in OPEN_CLAIM:
            found += steps("claim", claim.state, f"claim={claim.id}")
    return found


__all__ = ["AvailableStep", "InvalidInput", "available_steps", "check_guards", "fire"]
