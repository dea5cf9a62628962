"""`iop notify preview|send|list`: the notification outbox by hand.

Everything printed comes from the outbox and the rendered messages, which hold no
secret; error messages of the notification layer are redacted where they are made.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ...timefmt import local_iso, shown
from .support import (
    AsOf,
    JsonOpt,
    as_of_day,
    clock,
    echo,
    emit_json,
    emit_rows,
    handles_errors,
    ready_database,
    stdout_is_utf8,
)

notify_app = typer.Typer(
    no_args_is_help=True, help="Notifications by e-mail and Teams: preview, send, list."
)


@notify_app.command("preview")
@handles_errors
def preview(as_of: AsOf = None, as_json: JsonOpt = False) -> None:
    """What would be sent on a day, to whom, without sending or changing anything."""
    from ...notify import preview as preview_messages

    items = preview_messages(ready_database(), as_of=as_of_day(as_of))
    if as_json:
        emit_json([item.as_dict() for item in items])
        return
    if not items:
        typer.echo("(nothing to send)")
    for item in items:
        ids = ", ".join(str(i) for i in item.notifications)
        if item.channel == "none":
            echo(f"NOT ROUTABLE  notification {ids}: {item.subject}\n")
            continue
        digest = " (daily digest)" if item.digest else ""
        echo(f"{item.channel.upper()} to {item.to} ({item.recipient}){digest}")
        echo(f"notification {ids}")
        echo(f"Subject: {item.subject}\n")
        echo(item.body)


@notify_app.command("send")
@handles_errors
def send(as_json: JsonOpt = False) -> None:
    """Deliver the pending notifications that are due now (what the flows do at their end)."""
    from ...notify import deliver_pending

    report = deliver_pending(ready_database(), now=clock().now())
    if as_json:
        emit_json(report.as_dict())
        return
    if not report.configured:
        typer.echo("not configured: set IOP_APPRISE_CONFIG to an apprise YAML file")
        return
    typer.echo(
        f"{report.sent} sent, {report.retrying} to retry, {report.failed} failed, "
        f"{report.deferred} waiting for tomorrow's digest "
        f"({report.messages_sent} messages sent, {report.messages_failed} failed)"
    )
    for error in report.errors:
        typer.echo(f"  failed: {error}")
    for problem in report.problems:
        typer.echo(f"  no address: {problem}")


@notify_app.command("list")
@handles_errors
def list_(
    state: Annotated[str | None, typer.Option(help="pending, sent or failed.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """The outbox: each notification, its state, attempts and where it went."""
    from ...notify import list_notifications

    emit_rows(
        # Stored in UTC; shown and printed in Swedish time, the zone marked.
        [
            {**r, **{k: local_iso(r[k]) for k in ("next_attempt_at", "sent_at")}}
            for r in list_notifications(ready_database(), state)
        ],
        as_json,
        [
            ("ID", "id"),
            ("DIARIENUMMER", "diarienummer"),
            ("KIND", "kind"),
            ("DATE", "subject_date"),
            ("STATE", "state"),
            ("ATTEMPTS", "attempts"),
            ("NEXT", lambda r: shown(r["next_attempt_at"])),
            ("SENT", lambda r: shown(r["sent_at"])),
            ("ERROR", "last_error"),
        ],
    )


def register(app: typer.Typer) -> None:
    app.add_typer(notify_app, name="notify")


def main() -> None:
    """`python -m iop_workflow.entrypoints.cli.notify_commands notify ...`: the same
    commands without `iop`."""
    app = typer.Typer(no_args_is_help=True, add_completion=False)
    register(app)
    stdout_is_utf8()
    app()


if __name__ == "__main__":
    main()
