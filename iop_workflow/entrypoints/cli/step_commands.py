"""`iop steps [TRIGGER]`: the input every step takes, its fields with Swedish labels."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from .support import JsonOpt, echo, emit_json, emit_table, handles_errors


def _names(schema: dict[str, Any]) -> str:
    """The fields, a required one marked as a form marks it (a reason a rule demands too:
    the step cannot fire without it)."""

    def needed(f: dict[str, Any]) -> bool:
        return bool(f["required"]) or (f["name"] == "reason" and schema["reason_required"])

    fields = schema["target_fields"] + schema["fields"]
    return ", ".join(f"{f['name']}{'*' if needed(f) else ''}" for f in fields)


@handles_errors
def steps(
    trigger: Annotated[
        str | None, typer.Argument(help="Only this step (e.g. approve_decision).")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """The input of every step (or of TRIGGER): each field's type, whether it is
    required, its limits or choices, and its Swedish label and help. No database."""
    from ...service.step_schema import step_schemas

    schemas = step_schemas(trigger)
    if as_json:
        emit_json(schemas)
        return
    if trigger is None:
        emit_table(
            schemas,
            [
                ("TRIGGER", "trigger"),
                ("ENTITY", "entity"),
                ("FIELDS (* required)", _names),
            ],
        )
        return
    (schema,) = schemas
    echo(f"{schema['trigger']} ({schema['entity']}): {schema['label']}")
    emit_table(
        schema["target_fields"] + schema["fields"],
        [
            ("FIELD", "name"),
            ("TYPE", "type"),
            ("REQUIRED", lambda r: "yes" if r["required"] else ""),
            ("LABEL", "label"),
            ("HELP", "help"),
        ],
    )
    if schema["reason_required"]:
        echo("A reason is required: the step is refused without one.")


def register(app: typer.Typer) -> None:
    app.command("steps")(steps)


__all__ = ["register"]
