"""What one step knows: the agreement, the policy, the actor, the day and its input."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum
from typing import Any, TypeVar

from . import limits
from .errors import InvalidInput
from .model import Agreement
from .money import parse_sek
from .policy import Policy
from .roles import Actor

E = TypeVar("E", bound=StrEnum)


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


class StepData:
    """The step's input (`--set key=value`, a data file). Every read names its field.

    Keys that no part of the step reads are refused afterwards, so a typo never
    passes silently. Text that no database can store (a NUL, a lone surrogate) is
    refused at once, in any key or value; text longer than its column when read.
    """

    def __init__(self, raw: Mapping[str, Any] | None, trigger: str) -> None:
        self.raw = dict(raw or {})
        self.trigger = trigger
        self.used: set[str] = set()
        for key, value in self.raw.items():
            self._refuse_unstorable(str(key), key, value)

    def _refuse_unstorable(self, field: str, *parts: Any) -> None:
        for part in parts:
            if isinstance(part, str):
                problem = limits.text_problem(part, None)
                if problem is not None:
                    raise self._bad(field, problem)
            elif isinstance(part, Mapping):
                for key, value in part.items():
                    self._refuse_unstorable(f"{field}.{key}", key, value)
            elif isinstance(part, list):
                self._refuse_unstorable(field, *part)

    def _get(self, key: str, required: bool) -> Any:
        self.used.add(key)
        value = self.raw.get(key)
        if value is None or value == "":
            if required:
                raise InvalidInput("is required", record=f"step '{self.trigger}'", field=key)
            return None
        return value

    def _bad(self, key: str, message: str) -> InvalidInput:
        return InvalidInput(message, record=f"step '{self.trigger}'", field=key)

    def has(self, key: str) -> bool:
        return self.raw.get(key) not in (None, "")

    def text(self, key: str, required: bool = False, limit: int = limits.LONG_TEXT) -> str | None:
        """The text of `key`, stripped; refused when longer than `limit` characters
        (the length of the column it is stored in, domain/limits.py)."""
        value = self._get(key, required)
        if value is None:
            return None
        text = str(value).strip()
        problem = limits.text_problem(text, limit)
        if problem is not None:
            raise self._bad(key, problem)
        return text

    def date(self, key: str, required: bool = False) -> date | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, date):
            day = value
        else:
            try:
                day = date.fromisoformat(str(value).strip())
            except ValueError:
                raise self._bad(key, f"'{value}' is not a date (YYYY-MM-DD)") from None
        problem = limits.day_problem(day)
        if problem is not None:
            raise self._bad(key, problem)
        return day

    def integer(self, key: str, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        if isinstance(value, bool):
            raise self._bad(key, f"'{value}' is not a whole number")
        try:
            return int(str(value).strip())
        except ValueError:
            raise self._bad(key, f"'{value}' is not a whole number") from None

    def money(self, key: str, required: bool = False) -> int | None:
        value = self._get(key, required)
        if value is None:
            return None
        return parse_sek(value, record=f"step '{self.trigger}'", field=key)

    def choice(self, key: str, kind: type[E], required: bool = False) -> E | None:
        value = self._get(key, required)
        if value is None:
            return None
        try:
            return kind(str(value).strip())
        except ValueError:
            allowed = ", ".join(m.value for m in kind)
            raise self._bad(key, f"'{value}' is not one of: {allowed}") from None

    def prefixed(self, prefix: str) -> dict[str, Any]:
        """`support.2027=300000` style keys (or a nested mapping under `support`)."""
        found: dict[str, Any] = {}
        nested = self.raw.get(prefix)
        if isinstance(nested, Mapping):
            self.used.add(prefix)
            found.update({str(k): v for k, v in nested.items()})
        elif nested is not None:
            raise self._bad(prefix, "must be a mapping")
        for key, value in self.raw.items():
            if key.startswith(prefix + "."):
                self.used.add(key)
                found[key[len(prefix) + 1 :]] = value
        return found

    def refuse_unused(self) -> None:
        unused = sorted(set(self.raw) - self.used)
        if unused:
            raise self._bad(unused[0], "is not an input of this step")


@dataclass
class StepContext:
    agreement: Agreement
    policy: Policy
    actor: Actor
    today: date
    trigger: str
    data: StepData
    target: Any  # the entity whose state this step changes
    values: dict[str, Any] = field(default_factory=dict)  # parsed input, read by guards
    changes: list[StateChange] = field(default_factory=list)
