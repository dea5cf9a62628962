"""The `iop` command line. Command names, exit codes and JSON keys are a contract.

Exit codes: 0 done; 1 unexpected; 2 usage or bad input; 3 refused by a rule
(invalid step, guard, role, stale update); 4 not found.

Database: IOP_DATABASE_URL, else the SQLite file iop.db in var/ of the
project checkout, or when installed in $XDG_DATA_HOME/iop-workflow
(~/.local/share/iop-workflow); IOP_DATA_DIR moves that folder. The current
directory plays no part. `iop db info` shows the database in use.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ...config import get_settings
from ...domain.roles import SYSTEM_ACTOR
from ...money_text import sek
from ...timefmt import local_iso, shown
from .flow_commands import register as register_flow_commands
from .notify_commands import register as register_notify_commands
from .payment_commands import register as register_payment_commands
from .register_commands import register as register_register_commands
from .step_commands import register as register_step_commands
from .support import (
    EXIT_OK,
    EXIT_REFUSED,
    ActOn,
    Column,
    JsonOpt,
    Row,
    as_of_day,
    cli_origin,
    clock,
    database,
    echo,
    emit_json,
    emit_rows,
    emit_table,
    fail,
    handles_errors,
    printable,
    ready_database,
    stdout_is_utf8,
    step_data,
)
from .web_commands import register as register_web_commands

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
db_app = typer.Typer(
    no_args_is_help=True,
    help="The product's database: IOP_DATABASE_URL, else iop.db in var/ of the project "
    "checkout (installed: the user data folder ~/.local/share/iop-workflow; IOP_DATA_DIR "
    "moves it), whatever the current directory.",
)
app.add_typer(db_app, name="db")


@db_app.command("upgrade")
@handles_errors
def db_upgrade() -> None:
    """Create or migrate the schema to the newest version (Alembic head)."""
    db = database()
    db.upgrade()
    typer.echo(f"database at head: {db.engine.url.render_as_string(hide_password=True)}")


@db_app.command("info")
@handles_errors
def db_info(as_json: JsonOpt = False) -> None:
    """Which database is in use and why, its schema revision and how many agreements."""
    from ...service.database_info import database_info

    info = database_info(get_settings())
    if as_json:
        emit_json(info)
        return
    revision = info["revision"]
    if not info["exists"]:
        state = "no database file yet (`iop db upgrade` creates it)"
    elif revision["up_to_date"]:
        state = "at head"
    else:
        state = "behind head: run `iop db upgrade`"
    agreements = info["agreements"]
    typer.echo(f"url         {info['url']}")
    typer.echo(f"from        {info['reason']}")
    if info["file"]:
        typer.echo(f"file        {info['file']}")
    current = revision["current"] or "(none)"
    typer.echo(f"revision    {current} (head {revision['head']}): {state}")
    typer.echo(f"agreements  {'(no schema)' if agreements is None else agreements}")


@app.command("import")
@handles_errors
def import_(file: Annotated[str, typer.Argument(help="YAML file (docs/import-format.md)")]) -> None:
    """Import organisations, people and agreements from YAML: all or nothing."""
    from ...service.importer import import_file

    result = import_file(ready_database(), file, now=clock().now(), origin=cli_origin("import"))
    known = result.updated_organisations
    updated = f" (updated {known} known)" if known else ""
    echo(
        f"imported {result.organisations} organisations{updated}, {result.people} people, "
        f"{result.agreements} agreements from {file}"
    )


@app.command("agreements")
@handles_errors
def agreements(
    state: Annotated[str | None, typer.Option(help="Only this state.")] = None,
    municipality: Annotated[str | None, typer.Option(help="Only this preset, e.g. mjolby.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """List agreements."""
    from ...service.views import list_agreements

    emit_rows(
        list_agreements(ready_database(), state, municipality),
        as_json,
        [
            ("ID", "id"),
            ("DIARIENUMMER", "diarienummer"),
            ("MUNICIPALITY", "municipality"),
            ("STATE", "state"),
            ("PERIOD", lambda r: f"{r['period']['start']} – {r['period']['end']}"),
            ("ORGANISATION", lambda r: (r["organisation"] or {}).get("name")),
        ],
    )


@app.command("show")
@handles_errors
def show(ref: str, as_json: JsonOpt = False) -> None:
    """One agreement in full (REF is the diarienummer, or the id: #12, or 12)."""
    from ...service.views import show as show_view

    view = show_view(ready_database(), ref)
    if as_json:
        emit_json(view)
        return
    org = view["organisation"] or {}
    echo(f"{view['diarienummer']}  {view['title']}")
    echo(f"  state        {view['state']} (period {view['period_no']})")
    echo(f"  period       {view['period']['start']} – {view['period']['end']}")
    echo(f"  municipality {view['municipality']} / {view['committee']}")
    echo(f"  organisation {org.get('name')} ({org.get('organisationsnummer')})")
    echo(f"  officer      {view['officer']}")
    if view["dialogue"]:
        echo(f"  dialogue     {_meeting(view['dialogue'])}")
    for year, amount in view["economic_plan"]["support_ore"].items():
        echo(f"  support {year} {sek(amount)}")
    plan = view["payout_plan"]
    echo(f"  payout plan  {plan['text'] if plan else PRESET_PLAN}")
    for d in view["decisions"]:
        adjusted = f", minutes adjusted {d['minutes_adjusted']}" if d["minutes_adjusted"] else ""
        echo(
            f"  decision {d['kind']} (period {d['period_no']}): {d['outcome']}, "
            f"{_line(d['body'])} {d['meeting_date']} {_line(d['paragraph'])}{adjusted}"
        )
    for m in view["amendments"]:
        changes = [f"new end {m['new_end']}"] if m["new_end"] else []
        changes += [f"support {y} {sek(ore)}" for y, ore in m["support_changes_ore"].items()]
        if m["new_payout_plan"]:
            changes.append(f"payout plan {m['new_payout_plan']['text']}")
        what = f" ({'; '.join(changes)})" if changes else ""
        echo(
            f"  tilläggsavtal {m['decided_on']} {_line(m['paragraph'])}: "
            f"{_line(m['description'])}{what}"
        )
    for f in view["follow_ups"]:
        meeting = f", reviewed {_meeting(f['meeting'])}" if f["meeting"] else ""
        echo(f"  follow-up {f['year']}: {f['state']} (report due {f['report_due']}){meeting}")
    for p in view["payouts"]:
        reason = f" — {p['blocked_reason']}" if p["blocked_reason"] else ""
        echo(f"  payout {p['id']} due {p['due']} {sek(p['amount_ore'])}: {p['state']}{reason}")
    for c in view["claims"]:
        echo(f"  claim {c['id']} {sek(c['amount_ore'])} due {c['due']}: {c['state']}")


PRESET_PLAN = "the preset's payout dates"


def _meeting(meeting: dict[str, str | None]) -> str:
    """The forum's meeting on one line: "in Seniorrådet 2027-03-02, minutes SR 2027/3"."""
    parts = [f"in {_line(meeting['forum'])}" if meeting["forum"] else "", meeting["meeting_on"]]
    held = " ".join(p for p in parts if p)
    minutes = f"minutes {_line(meeting['minutes_ref'])}" if meeting["minutes_ref"] else ""
    return ", ".join(p for p in (held, minutes) if p)


def _line(text: str) -> str:
    """Stored text on one line of `iop show`: a newline in it is written as `\\u000a`."""
    return printable(text, in_cell=True)


_REASON: Column = ("REASON", "reason")


def _who(key: str) -> Column:
    def who(row: Row) -> str:
        roles = [r for r in row[key] if r != "system"]
        return ", ".join(roles) or "system only"

    return ("WHO", who)


@app.command("triggers")
@handles_errors
def triggers(
    ref: str,
    actor: Annotated[
        str | None,
        typer.Option("--actor", help="Only what this person may fire now, and what not and why."),
    ] = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """The steps allowed now, on what, who may fire them and what they need; the steps
    blocked now, with the refusal `iop transition` would give."""
    from ...service.step_options import step_options

    if actor == SYSTEM_ACTOR.name:
        fail("--actor: 'system' is the scheduled flows' own name; act as a person", EXIT_REFUSED)
    day = as_of_day(as_of)
    view = step_options(ready_database(), ref, actor_name=actor, today=day, now=clock().now())
    if as_json:
        emit_json(view)
        return
    a, person = view["agreement"], view["actor"]
    on: Column = ("ON", lambda r: r["target"] or "agreement")
    needs: Column = ("NEEDS", lambda r: ", ".join(r["needs"]))
    if person is None:
        echo(f"{a['diarienummer']} is {a['state']}; steps allowed now ({day}):")
        emit_table(view["allowed"], [("TRIGGER", "trigger"), on, _who("allowed_roles"), needs])
        echo("blocked now, whoever fires them:")
        emit_table(view["blocked"], [("TRIGGER", "trigger"), on, _who("roles"), _REASON])
    elif person["refused"]:
        echo(
            f"{a['diarienummer']} is {a['state']}; {person['name']} may fire nothing "
            f"on it: {person['refused']}"
        )
        return
    else:
        echo(
            f"{a['diarienummer']} is {a['state']}; {person['name']} ({person['role']}) "
            f"may fire now ({day}):"
        )
        emit_table(view["allowed"], [("TRIGGER", "trigger"), on, needs])
        echo("blocked now:")
        emit_table(view["blocked"], [("TRIGGER", "trigger"), on, _REASON])
    if view["unchecked"]:
        echo("not judged (input that could not be checked):")
        emit_table(view["unchecked"], [("TRIGGER", "trigger"), on, needs, _REASON])


@app.command("transition")
@handles_errors
def transition(
    ref: str,
    trigger: str,
    actor: Annotated[str, typer.Option("--actor", help="Name of the person firing the step.")],
    sets: Annotated[list[str] | None, typer.Option("--set", help="Step input key=value.")] = None,
    file: Annotated[str | None, typer.Option("--file", help="YAML mapping of step inputs.")] = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Fire one step (TRIGGER) on an agreement, as ACTOR."""
    from ...service.steps import transition as fire_step

    # Acting as 'system' is refused by the service (service/actors.py): not the flows.
    day = as_of_day(as_of)
    data = step_data(sets or [], file)
    result = fire_step(
        ready_database(),
        ref,
        trigger,
        actor_name=actor,
        data=data,
        today=day,
        now=clock().now(),
        origin=cli_origin(),
    )
    changes = [
        {
            "entity": c.entity,
            "key": c.entity_key,
            "trigger": c.trigger,
            "from": c.from_state,
            "to": c.to_state,
        }
        for c in result.changes
    ]
    if as_json:
        emit_json(
            {
                "id": result.agreement_id,
                "diarienummer": result.diarienummer,
                "state": result.state,
                "changes": changes,
            }
        )
        return
    for c in changes:
        echo(f"{c['entity']} {c['key']}: {c['from']} → {c['to']} ({c['trigger']})")


@app.command("timeline")
@handles_errors
def timeline(ref: str, as_of: ActOn = None, as_json: JsonOpt = False) -> None:
    """Every dated obligation of the agreement: kind, due, responsible, status, blocks."""
    from ...service.views import agreement_timeline

    emit_rows(
        agreement_timeline(ready_database(), ref, as_of_day(as_of)),
        as_json,
        [
            ("DUE", "due"),
            ("KIND", "kind"),
            ("RESPONSIBLE", "responsible"),
            ("STATUS", "status"),
            ("BLOCKS", lambda r: ", ".join(r["blocks"])),
            ("NOTE", "note"),
        ],
    )


VERIFY = "verify"


def _via(row: Row) -> str:
    """The channel, and who ran it where when recorded: "cli (anna@kansli-07)"."""
    who = "@".join(p for p in (row["os_user"], row["host"]) if p)
    return f"{row['channel'] or ''}{f' ({who})' if who else ''}"


@app.command("audit")
@handles_errors
def audit(
    ref: Annotated[
        str,
        typer.Argument(
            metavar="REF|verify",
            help="The agreement (id or diarienummer), or `verify`: check the whole trail.",
        ),
    ],
    as_json: JsonOpt = False,
) -> None:
    """The append-only audit trail of one agreement. `iop audit verify` checks the hash
    chain of every record instead: exit 0 when intact, 3 naming the first broken record.
    (An agreement whose diarienummer is 'verify' is shown by its id.)"""
    if ref == VERIFY:
        _audit_verify(as_json)
        return
    from ...service.views import agreement_audit

    emit_rows(
        # Stored in UTC; shown and printed in Swedish time, the zone marked.
        [{**r, "at": local_iso(r["at"])} for r in agreement_audit(ready_database(), ref)],
        as_json,
        [
            ("AT", lambda r: shown(r["at"])),
            ("DAY", "effective_date"),
            ("ACTOR", lambda r: f"{r['actor']} ({r['role']})"),
            ("VIA", _via),
            ("ON", lambda r: f"{r['entity']} {r['entity_key']}"),
            ("TRIGGER", "trigger"),
            ("FROM", "from"),
            ("TO", "to"),
            ("REASON", "reason"),
            ("MEETING", _audit_meeting),
        ],
    )


def _audit_meeting(row: Row) -> str:
    """The forum's meeting a step was taken in, as its audit record's data holds it."""
    data = row["data"] or {}
    meeting = {key: data.get(key) for key in ("forum", "meeting_on", "minutes_ref")}
    return _meeting(meeting) if any(meeting.values()) else ""


def _audit_verify(as_json: bool) -> None:
    """`iop audit verify` (its errors are mapped by `audit`'s `@handles_errors`)."""
    from ...service.audit import verify_audit

    verdict = verify_audit(ready_database())
    if as_json:
        emit_json(verdict.as_dict())
    elif verdict.intact:
        echo(f"audit trail intact: {verdict.records} records, head {verdict.head[:16]}")
    else:
        echo(f"audit trail {verdict.summary()}")
    raise typer.Exit(EXIT_OK if verdict.intact else EXIT_REFUSED)


@app.command("policy")
@handles_errors
def policy(name: str, as_json: JsonOpt = False) -> None:
    """A municipality's rules, each marked seed (its guideline) or default."""
    from ...service.policy_view import policy_view

    view = policy_view(name)
    if as_json:
        emit_json(view)
        return
    typer.echo(f"{view['municipality']} — {view['committee']}")
    for rule in view["rules"]:
        typer.echo(f"  {rule['rule']:<40} {rule['value']!s:<32} [{rule['source']}]")
    for c in view["criteria"]:
        mark = "required" if c["required"] else "should"
        typer.echo(f"  criterion {c['key']} ({mark})")


@app.command("demo")
@handles_errors
def demo() -> None:
    """Walk a bundled example agreement through its lifecycle on a fresh database."""
    from ...service.demo import run_demo

    run_demo(echo=typer.echo)


register_flow_commands(app)
register_notify_commands(app)
register_payment_commands(app)
register_register_commands(app)
register_step_commands(app)
register_web_commands(app)


def main() -> None:
    stdout_is_utf8()
    app()
