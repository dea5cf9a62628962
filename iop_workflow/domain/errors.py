"""Errors raised by the domain and the service layer.

Hierarchy (the CLI maps each branch to an exit code)::

    IopError
     ├── RuleViolation            exit 3: a step the rules refuse
     │    ├── InvalidStep         the trigger is not allowed from the current state
     │    ├── GuardRefused        a guard of the step does not hold
     │    └── NotPermitted        the actor's role may not fire the step
     ├── NotFound (LookupError)   exit 4: no such agreement, organisation, person, ...
     ├── InvalidInput (ValueError) exit 2: bad input data (names the record and field)
     └── StaleUpdate              exit 3: someone else changed the record first
"""

from __future__ import annotations


class IopError(Exception):
    """Root of every error this product raises on purpose."""


class RuleViolation(IopError):
    """A step that the rules of the agreement refuse."""


class InvalidStep(RuleViolation):
    def __init__(self, entity: str, trigger: str, state: str, allowed: list[str]) -> None:
        self.entity, self.trigger, self.state, self.allowed = entity, trigger, state, allowed
        allowed_text = ", ".join(allowed) if allowed else "none"
        super().__init__(
            f"{entity}: step '{trigger}' is not allowed in state '{state}'; "
            f"allowed now: {allowed_text}"
        )


class GuardRefused(RuleViolation):
    def __init__(self, trigger: str, reason: str, guard: str | None = None) -> None:
        # `guard`: the name of the guard that refused (set by guards.guard), so a caller
        # can say which rule it was without reading the message.
        self.trigger, self.reason, self.guard = trigger, reason, guard
        super().__init__(f"step '{trigger}' refused: {reason}")


class NotPermitted(RuleViolation):
    def __init__(self, actor: str, role: str, trigger: str, allowed_roles: list[str]) -> None:
        self.actor, self.role, self.trigger = actor, role, trigger
        super().__init__(
            f"{actor} ({role}) may not fire '{trigger}'; allowed roles: {', '.join(allowed_roles)}"
        )


class NotFound(IopError, LookupError):
    pass


class InvalidInput(IopError, ValueError):
    """Bad input. The message names the record and the field."""

    def __init__(self, message: str, *, record: str | None = None, field: str | None = None):
        self.record, self.field, self.detail = record, field, message
        where = " ".join(p for p in (record, f"field '{field}'" if field else None) if p)
        super().__init__(f"{where}: {message}" if where else message)


class StaleUpdate(IopError):
    def __init__(self, what: str) -> None:
        super().__init__(
            f"{what} was changed by someone else since it was read; reload and try again"
        )
