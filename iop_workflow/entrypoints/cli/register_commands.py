"""`iop org show|update` and `iop people list|show|add|update|deactivate`: the
association register and the people after the import (service/register.py and
service/people_register.py).

Every change names its `--actor` (active municipal staff), is audited with what changed
(old → new), and is refused whole, naming the field, when any input is bad (exit 2).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from ...timefmt import local_iso, shown
from .support import (
    ActOn,
    JsonOpt,
    as_of_day,
    cli_origin,
    clock,
    echo,
    emit_json,
    emit_rows,
    emit_table,
    handles_errors,
    parse_day,
    ready_database,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from ...service.people_register import PersonChange
    from ...service.register import Changed

org_app = typer.Typer(
    no_args_is_help=True,
    help="Organisations (föreningar) after the import: show one, update its contact, name "
    "or föreningsregister registration.",
)
people_app = typer.Typer(
    no_args_is_help=True,
    help="The people who act and receive notices: list, show, add, update, represent, deactivate.",
)

Actor = Annotated[
    str, typer.Option("--actor", help="Who makes the change (active officer, manager, secretary).")
]
Reason = Annotated[str | None, typer.Option("--reason", help="Why, for the audit trail.")]
CLEARS = "an empty value removes it"


def _print_changed(result: Changed, as_json: bool) -> None:
    if as_json:
        emit_json(
            {
                "entity": result.entity,
                "key": result.key,
                "changes": result.changes,
                "notes": result.notes,
            }
        )
        return
    if not result.changes:
        echo(f"{result.entity} {result.key}: nothing changed (already so)")
    for name, values in result.changes.items():
        echo(f"{result.entity} {result.key}: {name} {values['from']!r} → {values['to']!r}")
    for note in result.notes:
        echo(f"note: {note}")


def _history(rows: list[dict[str, Any]]) -> None:
    echo("history:")
    emit_table(
        [{**r, "at": local_iso(r["at"])} for r in rows],
        [
            ("AT", lambda r: shown(r["at"])),
            ("DAY", "effective_date"),
            ("ACTOR", lambda r: f"{r['actor']} ({r['role']})"),
            ("TRIGGER", "trigger"),
            ("FROM", "from"),
            ("TO", "to"),
            ("CHANGES", lambda r: _changes_text((r["data"] or {}).get("changes") or {})),
            ("REASON", "reason"),
        ],
    )


def _changes_text(changes: dict[str, dict[str, Any]]) -> str:
    return "; ".join(f"{k} {v['from']} → {v['to']}" for k, v in changes.items())


# --- organisations ---------------------------------------------------------------------


@org_app.command("show")
@handles_errors
def org_show(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR", help="The organisationsnummer.")],
    as_json: JsonOpt = False,
) -> None:
    """One organisation: contact, föreningsregister, agreements, representatives, and
    the history of its changes."""
    from ...service.register import show_organisation

    view = show_organisation(ready_database(), orgnr)
    if as_json:
        emit_json(view)
        return
    contact, reg = view["contact"], view["forening_register"]
    echo(f"{view['organisationsnummer']}  {view['name']}")
    phone = f", {contact['phone']}" if contact["phone"] else ""
    echo(f"  contact      {contact['name']} <{contact['email']}>{phone}")
    if reg["registered"]:
        on = f" since {reg['registered_on']}" if reg["registered_on"] else ""
        echo(f"  föreningsregister  registered ({reg['ref'] or 'no reference'}){on}")
    else:
        echo("  föreningsregister  not registered")
    for a in view["agreements"]:
        echo(f"  agreement    {a['diarienummer']} ({a['municipality']}): {a['state']}")
    for name in view["representatives"]:
        echo(f"  represented by {name}")
    _history(view["history"])


@org_app.command("update")
@handles_errors
def org_update(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR", help="The organisationsnummer.")],
    actor: Actor,
    name: Annotated[str | None, typer.Option("--name", help="The organisation's name.")] = None,
    contact_name: Annotated[str | None, typer.Option("--contact-name")] = None,
    contact_email: Annotated[str | None, typer.Option("--contact-email")] = None,
    contact_phone: Annotated[
        str | None, typer.Option("--contact-phone", help=f"The phone number; {CLEARS}.")
    ] = None,
    registered: Annotated[
        bool | None,
        typer.Option(
            "--registered/--not-registered",
            help="In the municipality's föreningsregister (registering needs --register-ref).",
        ),
    ] = None,
    register_ref: Annotated[
        str | None, typer.Option("--register-ref", help="The föreningsregister's reference.")
    ] = None,
    registered_on: Annotated[
        str | None,
        typer.Option(
            "--registered-on", help="Day of the register entry (YYYY-MM-DD); default --as-of."
        ),
    ] = None,
    reason: Reason = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Change an organisation's name, contact or föreningsregister registration."""
    from ...service.register import OrganisationChange, update_organisation

    change = OrganisationChange(
        name=name,
        contact_name=contact_name,
        contact_email=contact_email,
        contact_phone=contact_phone,
        registered=registered,
        register_ref=register_ref,
        registered_on=None
        if registered_on is None
        else parse_day(registered_on, "--registered-on"),
    )
    result = update_organisation(
        ready_database(),
        orgnr,
        change,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        reason=reason,
        origin=cli_origin(),
    )
    _print_changed(result, as_json)


# --- people ----------------------------------------------------------------------------

Role = Annotated[
    str | None,
    typer.Option(
        "--role", help="officer, manager, secretary, organisation_representative or auditor."
    ),
]
Email = Annotated[str | None, typer.Option("--email", help=f"E-mail address; {CLEARS}.")]
Municipality = Annotated[
    str | None, typer.Option("--municipality", help="The preset key staff work for (mjolby).")
]
Organisation = Annotated[
    str | None,
    typer.Option("--organisation", help="ORGNR an organisation_representative speaks for."),
]
Manager = Annotated[
    str | None, typer.Option("--manager", help=f"An officer's manager (by name); {CLEARS}.")
]
Digest = Annotated[
    bool | None,
    typer.Option("--digest/--no-digest", help="One e-mail a day instead of one per notice."),
]


@people_app.command("list")
@handles_errors
def people_list(
    all_: Annotated[bool, typer.Option("--all", help="Deactivated people too.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """The people, active ones unless --all."""
    from ...service.people_register import list_people

    emit_rows(
        list_people(ready_database(), include_inactive=all_),
        as_json,
        [
            ("NAME", "name"),
            ("ROLE", "role"),
            ("MUNICIPALITY", "municipality"),
            ("ORGANISATION", "organisation"),
            ("EMAIL", "email"),
            ("MANAGER", "manager"),
            ("ACTIVE", lambda r: "yes" if r["active"] else f"no, since {r['deactivated_on']}"),
        ],
    )


@people_app.command("show")
@handles_errors
def people_show(name: str, as_json: JsonOpt = False) -> None:
    """One person and the history of the changes to them."""
    from ...service.people_register import show_person

    view = show_person(ready_database(), name)
    if as_json:
        emit_json(view)
        return
    status = "active" if view["active"] else f"deactivated on {view['deactivated_on']}"
    echo(f"{view['name']}  {view['role']} ({status})")
    for key in ("email", "municipality", "organisation", "manager"):
        if view[key]:
            echo(f"  {key:<12} {view[key]}")
    echo(f"  {'digest':<12} {'yes' if view['digest'] else 'no'}")
    _history(view["history"])


@people_app.command("add")
@handles_errors
def people_add(
    name: str,
    actor: Actor,
    role: Role = None,
    email: Email = None,
    municipality: Municipality = None,
    organisation: Organisation = None,
    manager: Manager = None,
    digest: Digest = None,
    reason: Reason = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a person (the fields and rules of the import's people)."""
    from ...service.people_register import PersonChange, add_person

    change = PersonChange(role, email, municipality, organisation, manager, digest)
    _change_person(add_person, name, change, actor, reason, as_of, as_json)


@people_app.command("update")
@handles_errors
def people_update(
    name: str,
    actor: Actor,
    role: Role = None,
    email: Email = None,
    municipality: Municipality = None,
    organisation: Organisation = None,
    manager: Manager = None,
    digest: Digest = None,
    reason: Reason = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Change a person's role, e-mail, municipality, organisation, manager or digest."""
    from ...service.people_register import PersonChange, update_person

    change = PersonChange(role, email, municipality, organisation, manager, digest)
    _change_person(update_person, name, change, actor, reason, as_of, as_json)


def _change_person(
    service: Callable[..., Changed],
    name: str,
    change: PersonChange,
    actor: str,
    reason: str | None,
    as_of: str | None,
    as_json: bool,
) -> None:
    """`iop people add|update`: the service function applied as the actor, on the day."""
    result = service(
        ready_database(),
        name,
        change,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        reason=reason,
        origin=cli_origin(),
    )
    _print_changed(result, as_json)


@people_app.command("deactivate")
@handles_errors
def people_deactivate(
    name: str,
    actor: Actor,
    reason: Reason = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """From --as-of on, NAME can no longer act and receives no notices; their name stays
    on every record they made."""
    from ...service.people_register import deactivate_person

    result = deactivate_person(
        ready_database(),
        name,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        reason=reason,
        origin=cli_origin(),
    )
    _print_changed(result, as_json)


@people_app.command("represent")
@handles_errors
def people_represent(
    name: str,
    actor: Actor,
    organisations: Annotated[
        list[str] | None,
        typer.Argument(help="Organisationsnummer of each further one; none: only their own."),
    ] = None,
    reason: Reason = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """The organisations representative NAME speaks for besides their own (the whole
    list: those left out are removed). They then see each one's agreements, apart."""
    from ...service.people_register import set_representations

    result = set_representations(
        ready_database(),
        name,
        list(organisations or []),
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        reason=reason,
        origin=cli_origin(),
    )
    _print_changed(result, as_json)


def register(app: typer.Typer) -> None:
    app.add_typer(org_app, name="org")
    app.add_typer(people_app, name="people")


__all__ = ["register"]
