"""`iop payments ...`: payment details, attest rights, batches, the payment and ledger
files, and paid (service/payee_details.py, payment_batches.py, payment_export.py).

Every step names its `--actor`; a step a rule refuses (attest by the one who prepared
the batch, above the attester's limit, a batch in the wrong state) exits 3 and changes
nothing. docs/payments.md describes the whole flow.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

from ...money_text import sek
from .support import (
    EXIT_REFUSED,
    ActOn,
    JsonOpt,
    as_of_day,
    cli_origin,
    clock,
    echo,
    emit_json,
    emit_rows,
    emit_table,
    fail,
    handles_errors,
    parse_day,
    ready_database,
)

payments_app = typer.Typer(
    no_args_is_help=True,
    help="Money leaving: payment details, attest rights, batches, pain.001 and SIE files, paid.",
)
details_app = typer.Typer(
    no_args_is_help=True,
    help="An organisation's bankgiro, plusgiro or bank account: proposed, then confirmed "
    "by another person.",
)

Actor = Annotated[str, typer.Option("--actor", help="Who takes the step.")]
Reason = Annotated[str | None, typer.Option("--reason", help="Why, for the audit trail.")]
BatchId = Annotated[int, typer.Argument(metavar="BATCH", help="The batch's number.")]
Municipality = Annotated[
    str | None, typer.Option("--municipality", help="The preset key (mjolby, kramfors).")
]


def _write_file(out: str, content: bytes) -> None:
    """Write `content` to `out` whole or not at all (a temporary file renamed into place)."""
    target = Path(out)
    folder = target.parent if str(target.parent) else Path(".")
    if not folder.is_dir():
        fail(f"--out: the folder {folder} does not exist", 2)
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{target.name}.")
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(content)
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


# --- payment details ---------------------------------------------------------------------


@details_app.command("show")
@handles_errors
def details_show(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR")], as_json: JsonOpt = False
) -> None:
    """The confirmed details, the proposal waiting, every earlier version and the history."""
    from ...service.payee_details import show_details

    view = show_details(ready_database(), orgnr)
    if as_json:
        emit_json(view)
        return
    echo(f"{view['organisationsnummer']}  {view['name']}")
    confirmed = view["confirmed"]
    echo(f"  confirmed  {confirmed['details'] if confirmed else 'none: payouts are held'}")
    echo("versions:")
    emit_table(
        view["versions"],
        [
            ("DETAILS", "details"),
            ("STATE", "state"),
            ("PROPOSED BY", "proposed_by"),
            ("DECIDED BY", "decided_by"),
            ("REASON", "reason"),
        ],
    )


@details_app.command("propose")
@handles_errors
def details_propose(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR")],
    actor: Actor,
    kind: Annotated[str, typer.Option("--kind", help="bankgiro, plusgiro or bank_account.")],
    number: Annotated[str, typer.Option("--number", help="The giro or account number.")],
    clearing: Annotated[
        str | None, typer.Option("--clearing", help="A bank account's clearing number.")
    ] = None,
    as_of: ActOn = None,
) -> None:
    """Propose new payment details; they take effect once another person confirms them."""
    from ...service.payee_details import propose_details

    change = propose_details(
        ready_database(),
        orgnr,
        kind=kind,
        number=number,
        clearing=clearing,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    echo(f"{change.orgnr}: {change.details} proposed; another person must confirm it")
    if change.note:
        echo(f"note: {change.note}")


@details_app.command("confirm")
@handles_errors
def details_confirm(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR")],
    actor: Actor,
    reason: Reason = None,
    as_of: ActOn = None,
) -> None:
    """Confirm the proposed details (never the person who proposed them)."""
    _decide(orgnr, actor, True, reason, as_of)


@details_app.command("reject")
@handles_errors
def details_reject(
    orgnr: Annotated[str, typer.Argument(metavar="ORGNR")],
    actor: Actor,
    reason: Reason = None,
    as_of: ActOn = None,
) -> None:
    """Reject the proposed details, saying why; the confirmed ones stay."""
    _decide(orgnr, actor, False, reason, as_of)


def _decide(orgnr: str, actor: str, confirm: bool, reason: str | None, as_of: str | None) -> None:
    from ...service.payee_details import decide_details

    change = decide_details(
        ready_database(),
        orgnr,
        confirm=confirm,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        reason=reason,
        origin=cli_origin(),
    )
    echo(f"{change.orgnr}: {change.details} {change.state}")


# --- attest rights -----------------------------------------------------------------------


@payments_app.command("attest-right")
@handles_errors
def attest_right(
    name: Annotated[str, typer.Argument(metavar="NAME", help="Who gets the right.")],
    actor: Actor,
    municipality: Annotated[str, typer.Option("--municipality", help="The preset key.")],
    limit: Annotated[
        str, typer.Option("--limit", help="The largest batch total they attest (SEK); 0 revokes.")
    ],
    as_of: ActOn = None,
) -> None:
    """Give NAME the right to attest MUNICIPALITY's batches up to --limit (a manager)."""
    from ...domain.money import parse_sek
    from ...service.payee_details import grant_attest_right

    result = grant_attest_right(
        ready_database(),
        name,
        municipality=municipality,
        limit_ore=parse_sek(limit, field="--limit"),
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    if result["limit_ore"]:
        echo(
            f"{result['person']} attests {municipality}'s batches up to {sek(result['limit_ore'])}"
        )
    else:
        echo(f"{result['person']} no longer attests {municipality}'s batches")


# --- batches ---------------------------------------------------------------------------------


@payments_app.command("batch")
@handles_errors
def batch(
    actor: Actor,
    municipality: Municipality = None,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Collect the released payouts that are in no batch yet into a new batch, to be
    attested by another person. Payouts to organisations without confirmed payment
    details are held and listed."""
    from ...service.payment_batches import prepare_batch

    result = prepare_batch(
        ready_database(),
        as_of=as_of_day(as_of),
        actor_name=actor,
        now=clock().now(),
        municipality=municipality,
        origin=cli_origin(),
    )
    held = [h.__dict__ for h in result.held]
    if as_json:
        emit_json(
            {
                "municipality": result.municipality,
                "batch": result.batch_id,
                "items": result.item_count,
                "total_ore": result.total_ore,
                "held": held,
            }
        )
        return
    if result.batch_id is None:
        echo(f"{result.municipality}: no released payout waits for a batch")
    else:
        echo(
            f"batch {result.batch_id} ({result.municipality}): {result.item_count} payouts, "
            f"{sek(result.total_ore)}; it needs attest by someone else"
        )
    if held:
        echo(f"held ({len(held)}), not in any batch:")
        emit_table(
            held,
            [
                ("PAYOUT", "payout_id"),
                ("AGREEMENT", "diarienummer"),
                ("ORGANISATION", "organisation"),
                ("AMOUNT", lambda r: sek(r["amount_ore"])),
                ("REASON", "reason"),
            ],
        )


def _batch_columns() -> list[tuple[str, Any]]:
    return [
        ("BATCH", "id"),
        ("MUNICIPALITY", "municipality"),
        ("STATE", "state"),
        ("PAY ON", "execution_date"),
        ("PAYOUTS", "items"),
        ("TOTAL", lambda r: sek(r["total_ore"])),
        ("PREPARED BY", "prepared_by"),
        ("ATTESTED BY", "attested_by"),
    ]


@payments_app.command("batches")
@handles_errors
def batches(municipality: Municipality = None, as_json: JsonOpt = False) -> None:
    """Every batch, newest first."""
    from ...service.payment_batches import list_batches

    emit_rows(list_batches(ready_database(), municipality=municipality), as_json, _batch_columns())


@payments_app.command("show")
@handles_errors
def show(batch_id: BatchId, as_json: JsonOpt = False) -> None:
    """One batch and its payouts: to whom, where to, how much, paid or not."""
    from ...service.payment_batches import show_batch

    view = show_batch(ready_database(), batch_id)
    if as_json:
        emit_json(view)
        return
    emit_table([view], _batch_columns())
    if view["rejected_by"]:
        echo(f"rejected by {view['rejected_by']}: {view['rejected_reason']}")
    emit_table(
        view["payouts"],
        [
            ("PAYOUT", "payout"),
            ("AGREEMENT", "diarienummer"),
            ("CREDITOR", "creditor"),
            ("TO", "to"),
            ("AMOUNT", lambda r: sek(r["amount_ore"])),
            ("END-TO-END ID", "end_to_end_id"),
            ("PAID", lambda r: "withdrawn" if r["withdrawn"] else r["paid_on"] or ""),
        ],
    )


@payments_app.command("attest")
@handles_errors
def attest(batch_id: BatchId, actor: Actor, as_of: ActOn = None) -> None:
    """Attest a prepared batch: someone with the attest right for its municipality, who
    did not prepare it, for a total within their limit."""
    from ...service.payment_batches import attest_batch

    result = attest_batch(
        ready_database(),
        batch_id,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    echo(f"batch {result['batch']} attested ({sek(result['total_ore'])}) by {actor}")


@payments_app.command("reject")
@handles_errors
def reject(batch_id: BatchId, actor: Actor, reason: Reason = None, as_of: ActOn = None) -> None:
    """Send a batch back before it is exported; its payouts can go in a later batch."""
    from ...service.payment_batches import reject_batch

    result = reject_batch(
        ready_database(),
        batch_id,
        actor_name=actor,
        reason=reason or "",
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    echo(f"batch {result['batch']} rejected; {result['freed']} payouts are free again")


@payments_app.command("export")
@handles_errors
def export(
    batch_id: BatchId,
    actor: Actor,
    out: Annotated[str, typer.Option("--out", help="The file to write.")],
    fmt: Annotated[
        str, typer.Option("--format", help="pain001 (the bank) or sie (the ledger, SIE 4I).")
    ] = "pain001",
    as_of: ActOn = None,
) -> None:
    """Write the batch's payment file (validated against the ISO 20022 XSD) or its
    voucher file. The first pain.001 export marks the batch exported; exporting again
    writes the same bytes."""
    from ...service.payment_export import export_batch

    result = export_batch(
        ready_database(),
        batch_id,
        fmt=fmt,
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    _write_file(out, result.content)
    again = "" if result.first_export or fmt == "sie" else " (exported before: the same file)"
    echo(
        f"batch {batch_id}: {fmt} file {out}, message {result.message_id}, "
        f"{result.item_count} payouts, {sek(result.total_ore)}{again}"
    )


@payments_app.command("ledger")
@handles_errors
def ledger(
    actor: Actor,
    municipality: Annotated[str, typer.Option("--municipality", help="The preset key.")],
    first: Annotated[str, typer.Option("--from", help="First day (YYYY-MM-DD).")],
    last: Annotated[str, typer.Option("--to", help="Last day (YYYY-MM-DD).")],
    out: Annotated[str, typer.Option("--out", help="The SIE file to write.")],
) -> None:
    """The SIE 4I vouchers of the repayment claims raised and paid from --from to --to."""
    from ...service.payment_export import claims_ledger

    content, count = claims_ledger(
        ready_database(),
        municipality=municipality,
        first=parse_day(first, "--from"),
        last=parse_day(last, "--to"),
        actor_name=actor,
    )
    _write_file(out, content)
    echo(f"{municipality}: {count} vouchers in {out}")


# --- paid ------------------------------------------------------------------------------------


@payments_app.command("paid")
@handles_errors
def paid(
    batch_id: BatchId,
    actor: Actor,
    on: Annotated[str | None, typer.Option("--on", help="The day the bank paid.")] = None,
    as_of: ActOn = None,
) -> None:
    """Record an exported batch paid, on the day the bank's statement says."""
    from ...service.payment_batches import record_batch_paid

    today = as_of_day(as_of)
    result = record_batch_paid(
        ready_database(),
        batch_id,
        paid_on=today if on is None else parse_day(on, "--on"),
        actor_name=actor,
        today=today,
        now=clock().now(),
        origin=cli_origin(),
    )
    echo(f"batch {batch_id}: {len(result.paid)} payouts recorded paid")


@payments_app.command("camt")
@handles_errors
def camt(
    file: Annotated[str, typer.Argument(metavar="FILE", help="The bank's camt.054 file.")],
    actor: Actor,
    as_of: ActOn = None,
    as_json: JsonOpt = False,
) -> None:
    """Read the bank's debit notification (camt.054): each booked debit whose end-to-end
    id and amount match an exported payout marks it paid. What does not match is listed,
    changes nothing, and makes the command exit 3."""
    from ...service.payment_batches import read_camt

    path = Path(file)
    if not path.is_file():
        fail(f"FILE: {file} is not a file", 2)
    if path.stat().st_size > 20_000_000:
        fail(f"FILE: {file} is larger than 20,000,000 bytes", 2)
    result = read_camt(
        ready_database(),
        path.read_bytes(),
        actor_name=actor,
        today=as_of_day(as_of),
        now=clock().now(),
        origin=cli_origin(),
    )
    if as_json:
        emit_json(result.__dict__)
    else:
        echo(
            f"{len(result.paid)} payouts recorded paid; "
            f"batches paid: {result.batches_paid or 'none'}"
        )
        if result.unmatched:
            echo(f"not matched ({len(result.unmatched)}), nothing changed for these:")
            emit_table(
                result.unmatched,
                [
                    ("END-TO-END ID", "end_to_end_id"),
                    ("AMOUNT", lambda r: sek(r["amount_ore"])),
                    ("PROBLEM", "problem"),
                ],
            )
    if result.unmatched:
        raise typer.Exit(EXIT_REFUSED)


def register(app: typer.Typer) -> None:
    payments_app.add_typer(details_app, name="details")
    app.add_typer(payments_app, name="payments")


__all__ = ["register"]
