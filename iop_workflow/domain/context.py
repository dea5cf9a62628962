"""What one step knows: the agreement, the policy, the actor, the day and its input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from .commands import Command, StepData
from .model import Agreement
from .policy import Policy
from .roles import Actor

C = TypeVar("C", bound=Command)


@dataclass(frozen=True)
class StateChange:
    """One fired step. Exactly one audit record is written for each."""

    entity: str
    entity_key: str
    trigger: str
    from_state: str
    to_state: str
    reason: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class StepContext:
    agreement: Agreement
    policy: Policy
    actor: Actor
    today: date
    trigger: str
    data: StepData
    target: Any  # the entity whose state this step changes
    # What `prepare` derives from the command and the agreement (the period the step
    # sets, the decision it records, the claims it raises), read by guards.
    values: dict[str, Any] = field(default_factory=dict)
    changes: list[StateChange] = field(default_factory=list)
    # The step's typed input (commands.py), read from `data` before `prepare`. A step it
    # cascades into (firing.py) keeps it, but takes no input of its own.
    command: Command = field(default_factory=Command)

    def command_as(self, kind: type[C]) -> C:
        """The command, as the one `kind` the step's hooks and guards are written for."""
        if not isinstance(self.command, kind):
            raise TypeError(
                f"step '{self.trigger}' has a {type(self.command).__name__}, not a {kind.__name__}"
            )
        return self.command


__all__ = ["Command", "StateChange", "StepContext", "StepData"]
