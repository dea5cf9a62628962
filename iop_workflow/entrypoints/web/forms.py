"""Step forms built from the typed step commands (`service.step_schema`), and the posted
form turned back into the step's input, the same strings `iop transition --set` gives.

Keyed fields (`support.YYYY`, `statistics.NAME`) are one text area, a line per key:
`2027=300 000`.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from ...domain.errors import InvalidInput
from ...service.step_schema import step_schemas

KEYED = {"money_by_year": "support", "count_by_name": "statistics"}
INPUT_TYPES = {"date": "date", "integer": "number"}


@cache
def _schemas() -> dict[str, dict[str, Any]]:
    return {s["trigger"]: s for s in step_schemas()}


def label(trigger: str) -> str | None:
    """The step's Swedish label, None for a trigger no typed command has."""
    found = _schemas().get(trigger)
    return None if found is None else str(found["label"])


def schema(trigger: str) -> dict[str, Any]:
    found = _schemas().get(trigger)
    if found is None:
        raise InvalidInput(f"unknown step '{trigger}'", field="trigger")
    return found


def step_form(step: dict[str, Any]) -> dict[str, Any]:
    """What the template draws for one step the person may take: its label, the target
    it acts on and its fields (each with the input type to draw)."""
    found = schema(step["trigger"])
    fields = []
    for field in found["fields"]:
        kind = field["type"]
        fields.append(
            {
                **field,
                "input": "select"
                if kind == "choice"
                else "textarea"
                if kind in KEYED or field["name"] in ("reason", "description", "motivation")
                else INPUT_TYPES.get(kind, "text"),
                "required": field["required"]
                or (field["name"] == "reason" and found["reason_required"]),
            }
        )
    return {
        "trigger": step["trigger"],
        "label": found["label"],
        "target": step["target"],
        "fields": fields,
        "id": f"{step['trigger']}-{step['target'].replace('=', '-')}".strip("-"),
    }


def form_data(trigger: str, form: Any) -> dict[str, str]:
    """The step's input from a posted form: only the step's own fields, empty ones left
    out (so an optional field keeps what is stored)."""
    found = schema(trigger)
    data: dict[str, str] = {}
    target = form.get("target")
    if isinstance(target, str) and "=" in target:
        key, _, value = target.partition("=")
        data[key] = value
    for field in found["fields"]:
        raw = form.get(field["name"])
        if not isinstance(raw, str) or not raw.strip():
            continue
        prefix = KEYED.get(field["type"])
        if prefix is None:
            data[field["name"]] = raw.strip()
            continue
        for number, line in enumerate(raw.splitlines(), start=1):
            if not line.strip():
                continue
            key, sep, value = line.partition("=")
            if not sep or not key.strip():
                raise InvalidInput(
                    f"line {number} should read NAME=VALUE (e.g. 2027=300 000)",
                    field=field["name"],
                )
            data[f"{prefix}.{key.strip()}"] = value.strip()
    return data
