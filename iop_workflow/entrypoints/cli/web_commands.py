"""`iop web`, `iop users password NAME` and `iop tokens create|list|revoke`: the web
application and who may sign in to it or call its API."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from .support import (
    JsonOpt,
    clock,
    echo,
    emit_json,
    emit_table,
    fail,
    handles_errors,
    ready_database,
)

users_app = typer.Typer(
    no_args_is_help=True, help="Sign-in for the web application (auth_mode local)."
)
tokens_app = typer.Typer(
    no_args_is_help=True,
    help="API bearer tokens: each acts as its person; shown once, stored hashed, revocable.",
)


def _web(
    host: Annotated[str, typer.Option(help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default IOP_WEB_PORT, 8000)")] = None,
) -> None:
    """Serve the web application and the API (the page every reminder links to)."""
    import uvicorn

    from ...bootstrap import app
    from ..web.app import create_app

    application = app()
    ready_database()
    chosen = port or application.settings.web_port
    echo(f"serving the web application on http://{host}:{chosen}/ (API: /api/v1/docs)")
    uvicorn.run(create_app(application), host=host, port=chosen, log_level="warning")


@users_app.command("password")
@handles_errors
def set_password(
    name: Annotated[str, typer.Argument(help="The person, as named in the register")],
) -> None:
    """Set NAME's password, read from standard input (one line; at least 12 characters)."""
    from ...service.identity import set_password as store

    if sys.stdin.isatty():
        import getpass

        password = getpass.getpass(f"New password for {name}: ")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        fail("password: give the password on standard input", 2)
    store(ready_database(), name, password, now=clock().now())
    echo(f"password set for {name}")


@tokens_app.command("create")
@handles_errors
def create_token(
    name: Annotated[str, typer.Argument(help="The person the token acts as")],
    label: Annotated[str, typer.Option(help="What the token is for, e.g. diariet")] = "api",
    as_json: JsonOpt = False,
) -> None:
    """A new token acting as NAME. It is shown once: store it where the caller keeps secrets."""
    from ...service.identity import create_token as make

    issued = make(ready_database(), name, label=label, now=clock().now())
    if as_json:
        emit_json(
            {"id": issued.id, "person": issued.person, "label": issued.label, "token": issued.token}
        )
        return
    echo(f"token {issued.id} for {issued.person} ({issued.label}); shown only now:")
    echo(issued.token)


@tokens_app.command("list")
@handles_errors
def list_tokens(as_json: JsonOpt = False) -> None:
    """Every token (never the token itself): whose, what for, when made, used, revoked."""
    from ...service.identity import list_tokens as listed

    rows = listed(ready_database())
    if as_json:
        emit_json(rows)
        return
    emit_table(
        rows,
        [
            ("ID", lambda r: str(r["id"])),
            ("PERSON", lambda r: r["person"]),
            ("LABEL", lambda r: r["label"]),
            ("CREATED", lambda r: r["created_at"]),
            ("LAST USED", lambda r: r["last_used_at"] or ""),
            ("REVOKED", lambda r: r["revoked_at"] or ""),
        ],
    )


@tokens_app.command("revoke")
@handles_errors
def revoke_token(token_id: Annotated[int, typer.Argument(help="The token's id")]) -> None:
    """Revoke a token: the next call with it is refused (401)."""
    from ...service.identity import revoke_token as revoke

    revoke(ready_database(), token_id, now=clock().now())
    echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    app.command("web")(handles_errors(_web))
    app.add_typer(users_app, name="users")
    app.add_typer(tokens_app, name="tokens")
