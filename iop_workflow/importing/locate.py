"""Names for records and fields, and pydantic errors turned into `InvalidInput`.

A message must let an officer find the line to fix: the record by its index
and its own key (diarienummer, organisationsnummer or name), then the field
as a dotted path inside that record.
"""

from __future__ import annotations

import types
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from ..domain.errors import InvalidInput
from .schema import DocumentFile, show

# The key that identifies a record of each section, best first.
_RECORD_KEYS = {
    "agreements": ("diarienummer",),
    "organisations": ("organisationsnummer", "name"),
    "people": ("name",),
}

DOCUMENT = "document"


def record_label(section: str, index: int, key: object = None) -> str:
    text = " ".join(str(key).split()) if isinstance(key, (str, int)) else ""
    if not text or isinstance(key, bool):
        return f"{section}[{index}]"
    return f"{section}[{index}] ({text if len(text) <= 60 else text[:60] + '…'})"


def field_path(parts: Sequence[str | int], mapping_keys: Sequence[bool] = ()) -> str:
    """`a.b[0].c`; a part flagged in `mapping_keys` is a mapping key (`support.2027`)."""
    path = ""
    for position, part in enumerate(parts):
        is_key = position < len(mapping_keys) and mapping_keys[position]
        if isinstance(part, int) and not is_key:
            path += f"[{part}]"
        elif part == "[key]":  # pydantic's marker for a bad mapping key
            path += " (key)"
        else:
            path += f".{part}" if path else str(part)
    return path


def from_validation_error(error: ValidationError, data: object) -> InvalidInput:
    """The first problem of `error` as `InvalidInput`, located in `data`."""
    first = error.errors(include_url=False)[0]
    loc = list(first["loc"])
    record, rest = DOCUMENT, loc
    if len(loc) >= 2 and loc[0] in _RECORD_KEYS and isinstance(loc[1], int):
        section, index = str(loc[0]), loc[1]
        record = record_label(section, index, _record_key(data, section, index))
        rest = loc[2:]
    keys = _mapping_keys(loc)[len(loc) - len(rest) :]
    field = field_path(rest, keys) or None
    if record == DOCUMENT and field is None:
        return InvalidInput(_message(first, loc), record=DOCUMENT)
    return InvalidInput(_message(first, loc), record=record, field=field)


def _record_key(data: object, section: str, index: int) -> object:
    if not isinstance(data, Mapping):
        return None
    records = data.get(section)
    if not isinstance(records, list) or not 0 <= index < len(records):
        return None
    raw = records[index]
    if not isinstance(raw, Mapping):
        return None
    return next((raw[k] for k in _RECORD_KEYS[section] if raw.get(k) is not None), None)


def _message(error: ErrorDetails, loc: list[str | int]) -> str:
    kind = error["type"]
    given = error.get("input")
    if kind == "missing":
        return "is required"
    if kind == "extra_forbidden":
        model = _model_at(loc[:-1])
        allowed = f"; allowed keys: {', '.join(model.model_fields)}" if model else ""
        return f"unknown key{allowed}"
    if kind == "value_error":
        cause = (error.get("ctx") or {}).get("error")
        return str(cause) if cause is not None else error["msg"]
    if kind in ("enum", "literal_error"):
        expected = (error.get("ctx") or {}).get("expected", "")
        return f"{show(given)} is not allowed; expected {expected}"
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        return f"must be a mapping (got {show(given)})"
    if kind == "list_type":
        return f"must be a list (got {show(given)})"
    return f"{error['msg']} (got {show(given)})"


def _walk(loc: Sequence[str | int]) -> tuple[list[bool], Any]:
    """Follow `loc` through the schema: which parts are mapping keys, and the
    annotation reached at the end (None when `loc` leaves the schema)."""
    current: Any = DocumentFile
    keys: list[bool] = []
    for part in loc:
        current = _unwrap(current)
        keys.append(get_origin(current) is dict)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(part))
            current = field.annotation if field is not None else None
        elif get_origin(current) is list and isinstance(part, int):
            current = get_args(current)[0]
        elif get_origin(current) is dict:
            current = get_args(current)[1]
        else:
            current = None
    return keys, current


def _mapping_keys(loc: Sequence[str | int]) -> list[bool]:
    return _walk(loc)[0]


def _model_at(loc: Sequence[str | int]) -> type[BaseModel] | None:
    """The model that validates the mapping at `loc`, to list the keys it allows."""
    current = _unwrap(_walk(loc)[1])
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = get_origin(annotation)
        if origin is Annotated:
            annotation = get_args(annotation)[0]
        elif origin in (Union, types.UnionType):
            options = [a for a in get_args(annotation) if a is not type(None)]
            if len(options) != 1:
                return annotation
            annotation = options[0]
        else:
            return annotation
