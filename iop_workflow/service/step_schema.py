"""The input every step takes, for clients that build a form for it (`iop steps`).

Read from the typed commands (domain/commands.py) and the machines: what the CLI's
`--set key=value`, a data file and a form all give to `iop transition`. No database.
"""

from __future__ import annotations

from typing import Any

from ..domain import guards
from ..domain.commands import COMMANDS, TARGETS, command_model, command_schema, fields_of
from ..domain.machines import DEFINITIONS, SYNC_ONLY_TRIGGERS
from ..domain.roles import roles_for

# Steps one of whose guards refuses them without a reason (exit 3, not bad input).
_NEED_REASON: frozenset[str] = frozenset(
    str(row["trigger"])
    for _, _, table in DEFINITIONS.values()
    for row in table
    if guards.reason_given in row["conditions"]
)


def _triggers() -> list[tuple[str, str]]:
    """(trigger, entity) of every machine, in the machines' order, each once."""
    found = {
        str(row["trigger"]): entity
        for entity, (_, _, table) in DEFINITIONS.items()
        for row in table
    }
    return list(found.items())


def step_schemas(trigger: str | None = None) -> list[dict[str, Any]]:
    """Every step of every machine (or only `trigger`): its entity, who may fire it and
    the fields it takes, the entity's own key first (`year`, `payout`, `claim`).

    An unknown `trigger` is `InvalidInput` naming the steps there are.
    """
    steps = _triggers()
    if trigger is not None:
        command_model(trigger)  # refuses an unknown trigger, naming the known ones
        steps = [(t, entity) for t, entity in steps if t == trigger]
    found = []
    for name, entity in steps:
        schema = command_schema(name)
        target = TARGETS.get(entity)
        found.append(
            {
                "trigger": name,
                "entity": entity,
                "label": schema["label"],
                "command": schema["command"],
                "roles": sorted(r.value for r in roles_for(name)),
                "sync_only": name in SYNC_ONLY_TRIGGERS,
                "reason_required": name in _NEED_REASON,
                "target_fields": fields_of(target) if target is not None else [],
                "fields": schema["fields"],
            }
        )
    return found


__all__ = ["COMMANDS", "step_schemas"]
