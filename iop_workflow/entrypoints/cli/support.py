"""What every CLI command shares: options, the database, the clock, errors → exit codes,
output. The database and the clock come from the composition root (`bootstrap.app`)."""

from __future__ import annotations

import functools
import getpass
import json
import os
import re
import socket
import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer

from ...config import debug_enabled
from ...domain import limits
from ...domain.errors import InvalidInput, IopError, NotFound, RuleViolation, StaleUpdate
from ...domain.roles import Origin

if TYPE_CHECKING:
    from ...adapters.db import Database
    from ...clock import Clock

EXIT_OK, EXIT_UNEXPECTED, EXIT_USAGE, EXIT_REFUSED, EXIT_NOT_FOUND = 0, 1, 2, 3, 4

# Options several commands take; their names and help texts are part of the contract.
AS_OF = "--as-of"
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (a stable contract).")]
AsOf = Annotated[
    str | None,
    typer.Option(AS_OF, help="The business day (YYYY-MM-DD); default today in Sweden."),
]
ActOn = Annotated[
    str | None,
    typer.Option(AS_OF, help="The day to act on (YYYY-MM-DD); default today in Sweden."),
]

Row = dict[str, Any]
# A table column: its header and the row's key, or what to show of the row.
Column = tuple[str, str | Callable[[Row], Any]]


# What a terminal would obey rather than show: C0 controls (ESC starts a command, CR
# returns to overwrite the line), DEL, C1 controls (U+009B is an 8-bit ESC [), the
# bidirectional overrides that reorder what is shown, and lone surrogates (which no
# encoder takes). Newlines stay, and in a table cell they go too.
_UNPRINTABLE = "\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff"
_ESCAPE = re.compile(f"[{_UNPRINTABLE}]")
_ESCAPE_IN_CELL = re.compile(f"[{_UNPRINTABLE}\n]")


def printable(text: str, *, in_cell: bool = False) -> str:
    """`text` with every character a terminal would act on written as `\\uXXXX` (as JSON
    writes it: inside a JSON string the escape stands for the same character)."""
    pattern = _ESCAPE_IN_CELL if in_cell else _ESCAPE
    return pattern.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def echo(text: str = "", *, err: bool = False) -> None:
    """`typer.echo` for a line that holds stored or given text: never raw controls."""
    typer.echo(printable(text), err=err)


def fail(message: str, code: int) -> NoReturn:
    echo(f"error: {message}", err=True)
    raise typer.Exit(code)


P = ParamSpec("P")
R = TypeVar("R")


def handles_errors(command: Callable[P, R]) -> Callable[P, R]:
    """The command with our errors mapped to the documented exit codes; never a traceback
    for a user mistake. Typer still sees the command's own signature and help."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except typer.Exit:
            raise
        except BrokenPipeError:
            # The reader went away (`| head`): stop quietly, as other tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(EXIT_OK) from None
        except InvalidInput as exc:
            fail(str(exc), EXIT_USAGE)
        except NotFound as exc:
            fail(str(exc), EXIT_NOT_FOUND)
        except (RuleViolation, StaleUpdate) as exc:
            fail(f"refused: {exc}", EXIT_REFUSED)
        except IopError as exc:
            fail(str(exc), EXIT_UNEXPECTED)
        except Exception as exc:  # the last line of defence: say what, keep the trace
            if debug_enabled():
                raise
            fail(
                f"unexpected {type(exc).__name__}: {exc} (set IOP_DEBUG=1 for details)",
                EXIT_UNEXPECTED,
            )

    return run


def database() -> Database:
    """The product database (`bootstrap.app`)."""
    from ...bootstrap import app

    return app().database


def clock() -> Clock:
    """The clock: the moment (`clock().now()`) and the system's day (`clock().today()`)."""
    from ...bootstrap import app

    return app().clock


def ready_database() -> Database:
    """The database, refusing clearly when its schema was never created."""
    from sqlalchemy import inspect

    db = database()
    if not inspect(db.engine).has_table("agreements"):
        fail(
            f"the database {db.engine.url.render_as_string(hide_password=True)} has no tables; "
            "run `iop db upgrade` first",
            EXIT_USAGE,
        )
    return db


def parse_day(value: str | None, option: str) -> date:
    """The day of a date option; refused outside the supported range (domain/limits.py)."""
    if value is None:
        return clock().today()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        fail(f"{option}: '{value}' is not a date (YYYY-MM-DD)", EXIT_USAGE)
    problem = limits.day_problem(day)
    if problem is not None:
        fail(f"{option}: {problem}", EXIT_USAGE)
    return day


def as_of_day(value: str | None) -> date:
    """The day of an `AsOf` or `ActOn` option."""
    return parse_day(value, AS_OF)


def step_data(pairs: Sequence[str], file: str | None) -> dict[str, Any]:
    data: dict[str, Any] = {}
    if file:
        # The import's reader: the same limits, the same refusal of duplicate keys.
        from ...importing.schema import bare_message
        from ...importing.yamlio import read_text_file, read_yaml

        try:
            text = read_text_file(file, what="--file")
        except InvalidInput as exc:
            fail(f"--file: {bare_message(exc)}", EXIT_USAGE)
        try:
            loaded = read_yaml(text)
        except InvalidInput as exc:
            fail(f"--file: {file}: {bare_message(exc)}", EXIT_USAGE)
        if loaded is not None and not isinstance(loaded, dict):
            fail(f"--file: {file} must hold a mapping of step inputs", EXIT_USAGE)
        data.update({str(k): v for k, v in (loaded or {}).items()})
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            fail(f"--set: '{pair}' is not key=value", EXIT_USAGE)
        data[key.strip()] = value
    return data


def emit_json(value: Any) -> None:
    # json.dumps escapes the C0 controls only; `printable` writes the rest as JSON escapes.
    echo(json.dumps(value, ensure_ascii=False, indent=2, default=str))


def emit_table(rows: Sequence[Row], columns: Sequence[Column]) -> None:
    if not rows:
        typer.echo("(none)")
        return
    cells = [[_cell(row, get) for _, get in columns] for row in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, (h, _) in enumerate(columns)]
    typer.echo("  ".join(h.ljust(w) for (h, _), w in zip(columns, widths, strict=True)).rstrip())
    for cell in cells:
        typer.echo("  ".join(c.ljust(w) for c, w in zip(cell, widths, strict=True)).rstrip())


def _cell(row: Row, get: str | Callable[[Row], Any]) -> str:
    value = row[get] if isinstance(get, str) else get(row)
    return "" if value is None else printable(str(value), in_cell=True)


def emit_rows(rows: Sequence[Row], as_json: bool, columns: Sequence[Column]) -> None:
    """What a listing command prints: the rows as JSON (`JsonOpt`), or as a table."""
    if as_json:
        emit_json(rows)
    else:
        emit_table(rows, columns)


def stdout_is_utf8() -> None:
    # Swedish names must survive a pipe even under a C locale.
    if hasattr(sys.stdout, "reconfigure"):
        sys.stdout.reconfigure(encoding="utf-8")
        sys.stderr.reconfigure(encoding="utf-8")  # type: ignore[union-attr]


def cli_origin(channel: str = "cli") -> Origin:
    """What the audit records of this run say about it: the channel, the operating-system
    user and the host."""
    try:
        user: str | None = getpass.getuser()
    except (OSError, KeyError):  # no login name in the environment, no passwd entry
        user = None
    return Origin(channel, user or None, socket.gethostname() or None)
