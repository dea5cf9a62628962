"""`iop sweep`, `iop payouts`, `iop report`, `iop simulate`: the scheduled work, by hand."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import typer

from ...money_text import sek
from .support import (
    AsOf,
    JsonOpt,
    as_of_day,
    clock,
    emit_json,
    emit_rows,
    handles_errors,
    parse_day,
    printable,
    ready_database,
)

payouts_app = typer.Typer(help="Payouts: list them with their gate, or run the payout flow.")


def _run_flow(name: str, as_of: str | None) -> Any:
    """Run one flow once, on a Prefect server (PREFECT_API_URL) or a temporary one.

    The temporary server is a child of this process that dies with it, even when this
    process is killed (`orchestration.processes`), and is stopped when the run ends."""
    from ...orchestration.processes import prefect_api_or_temporary_server
    from ...orchestration.runtime import prefect_defaults
    from ...service.system_day import refuse_future_run

    day = as_of_day(as_of)
    # Said before any Prefect server starts: the run itself would refuse the day too.
    refuse_future_run(ready_database(), day, record=name)
    prefect_defaults()
    from prefect.settings import PREFECT_API_URL

    if not PREFECT_API_URL.value():
        typer.echo(
            "PREFECT_API_URL is not set: running on a temporary Prefect server; this run and "
            "its artifacts are gone when the command ends (`make run` prints the URL to export).",
            err=True,
        )
    with prefect_api_or_temporary_server():
        if name == "daily-sweep":
            from flows.daily_sweep import daily_sweep

            return daily_sweep(as_of=day)
        if name == "payout-run":
            from flows.payout_run import payout_run

            return payout_run(as_of=day)
        from flows.portfolio_report import portfolio_report

        return portfolio_report(as_of=day)


@handles_errors
def sweep(as_of: AsOf = None) -> None:
    """Run the daily sweep flow once for a day."""
    emit_json(_run_flow("daily-sweep", as_of))


@handles_errors
def report(as_of: AsOf = None) -> None:
    """Run the portfolio report flow once (artifacts in the Prefect dashboard)."""
    keys = _run_flow("portfolio-report", as_of)
    typer.echo("artifacts: " + ", ".join(keys))


@payouts_app.callback(invoke_without_command=True)
@handles_errors
def payouts(
    ctx: typer.Context,
    state: Annotated[str | None, typer.Option(help="Only payouts in this state.")] = None,
    agreement: Annotated[
        str | None,
        typer.Option(
            "--agreement",
            metavar="REF",
            help="Only this agreement's payouts (the diarienummer, or the id as #12).",
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """List payouts with their gate and, when it is closed, the reason."""
    if ctx.invoked_subcommand is not None:
        return
    from ...service.payouts import list_payouts

    emit_rows(
        list_payouts(ready_database(), state, agreement=agreement),
        as_json,
        [
            ("ID", "id"),
            ("DIARIENUMMER", "diarienummer"),
            ("DUE", "due"),
            ("AMOUNT", lambda r: sek(r["amount_ore"])),
            ("STATE", "state"),
            ("GATE", "gate"),
            ("REASON", "reason"),
        ],
    )


@payouts_app.command("run")
@handles_errors
def payouts_run(as_of: AsOf = None) -> None:
    """Run the payout flow once for a day: release or block every due payout."""
    emit_json(_run_flow("payout-run", as_of))


@handles_errors
def simulate(
    start: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    end: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    as_json: JsonOpt = False,
) -> None:
    """Walk day by day through the scheduled work on a copy of the database."""
    from ...service.simulate import LogLine
    from ...service.simulate import simulate as run

    first, last = parse_day(start, "--from"), parse_day(end, "--to")
    lines: list[dict[str, Any]] = []

    def echo(line: LogLine) -> None:
        if as_json:
            lines.append(
                {
                    "day": line.day.isoformat(),
                    "diarienummer": line.diarienummer,
                    "what": line.what,
                }
            )
        else:
            typer.echo(printable(f"{line.day}  {line.diarienummer:<15} {line.what}"))

    total = run(ready_database(), first, last, now=clock().now(), echo=echo)
    if as_json:
        emit_json(lines)
    else:
        typer.echo(
            f"{total} events from {first} to {last} (simulated on a copy; "
            "the database is unchanged)"
        )


def register(app: typer.Typer) -> None:
    app.command("sweep")(sweep)
    app.command("report")(report)
    app.command("simulate")(simulate)
    app.add_typer(payouts_app, name="payouts")


__all__ = ["date", "register"]
