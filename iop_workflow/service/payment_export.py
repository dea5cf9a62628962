"""The files money leaves with: the bank's payment file (ISO 20022 pain.001.001.03) and
the ledger's vouchers (SIE 4, type 4I).

A batch is exported to the bank once: the first export of an attested batch moves it
to `exported` and stores the moment, in the same transaction as its audit records;
every later export of it writes the same bytes again (the message id and the creation
time come from the batch, never from the clock), so a file lost on the way can be
written anew without paying twice. The file is validated against the official XSD
before the batch is marked (adapters/pain001_file.py).

The ledger file of a batch holds one voucher: the grant expense per agreement on the
municipality's cost centre, against the account the bank pays from. Repayment claims
have their own vouchers (`claims_ledger`): the claim raised (receivable against the
grant expense) and the claim paid (bank against the receivable).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from ..adapters import tables as t
from ..adapters.db import Database, Repository
from ..adapters.pain001_file import Debtor, Transfer, credit_transfer
from ..adapters.sie_file import Account, Row, Voucher, sie_4i
from ..domain.errors import InvalidInput, RuleViolation
from ..domain.payment_batch import message_id, move_problem
from ..domain.payment_details import PaymentDetails
from ..domain.payment_setup import PaymentSetup
from ..domain.roles import DEFAULT_ORIGIN, Origin
from ..domain.states import BatchState, ClaimState, PaymentStage
from ..timefmt import in_stockholm
from . import payment_audit as pa
from .payment_batches import batch_row, payment_setup
from .register import editor

FORMATS = ("pain001", "sie")
PROGRAM, PROGRAM_VERSION = "iop-workflow", "0.1.0"


@dataclass(frozen=True)
class Exported:
    batch_id: int
    format: str
    content: bytes
    message_id: str
    first_export: bool  # False: the same file written again
    item_count: int
    total_ore: int

    @property
    def suggested_name(self) -> str:
        suffix = "xml" if self.format == "pain001" else "se"
        return f"{self.message_id}.{suffix}"


def _items(session: Session, batch_id: int) -> list[Any]:
    bi, p, a = t.batch_items, t.payouts, t.agreements
    return list(
        session.execute(
            sa.select(bi, p.c.agreement_id, a.c.diarienummer)
            .join(p, p.c.id == bi.c.payout_id)
            .join(a, a.c.id == p.c.agreement_id)
            .where(bi.c.batch_id == batch_id, bi.c.withdrawn_at.is_(None))
            .order_by(bi.c.id)
        )
    )


def _pain001(batch: Any, items: list[Any], setup: PaymentSetup, created_at: datetime) -> bytes:
    transfers = [
        Transfer(
            end_to_end_id=i.end_to_end_id,
            amount_ore=i.amount_ore,
            creditor_name=i.creditor_name,
            creditor=PaymentDetails(
                i.creditor_kind, i.creditor_number, clearing=i.creditor_clearing
            ),
            remittance=i.remittance,
        )
        for i in items
    ]
    debtor = Debtor(setup.debtor_name, setup.debtor_orgnr, setup.debtor_bankgiro)
    try:
        return credit_transfer(
            message_id(batch.municipality, batch.id),
            in_stockholm(created_at).replace(microsecond=0),
            batch.execution_date,
            debtor,
            transfers,
        )
    except ValueError as exc:  # the XSD or a check refused it: nothing is marked
        raise RuleViolation(f"payment batch {batch.id} cannot be written: {exc}") from None


def _accounts(setup: PaymentSetup) -> list[Account]:
    chosen = (setup.grant_expense, setup.payable, setup.claim_receivable, setup.bank)
    named: dict[str, str] = {}
    for account in chosen:
        named.setdefault(account.number, account.name)
    return [Account(number, name) for number, name in named.items()]


def _sie(setup: PaymentSetup, generated: date, vouchers: list[Voucher]) -> bytes:
    try:
        return sie_4i(
            program=PROGRAM,
            version=PROGRAM_VERSION,
            generated=generated,
            company=setup.debtor_name,
            orgnr=setup.debtor_orgnr,
            accounts=_accounts(setup),
            cost_centres={setup.cost_centre: setup.cost_centre_name},
            vouchers=vouchers,
        )
    except ValueError as exc:
        raise RuleViolation(f"the ledger file cannot be written: {exc}") from None


def batch_voucher(batch: Any, items: list[Any], setup: PaymentSetup) -> Voucher:
    """The batch as one voucher: each payout's grant expense on the cost centre, and the
    whole batch against the account the bank pays from, on the day it is paid out."""
    rows = [
        Row(
            setup.grant_expense.number,
            i.amount_ore,
            setup.cost_centre,
            f"{i.diarienummer} {i.creditor_name}"[:80],
        )
        for i in items
    ]
    total = sum(i.amount_ore for i in items)
    rows.append(Row(setup.payable.number, -total, None, f"Utbetalningsbunt {batch.id}"))
    return Voucher(
        setup.series,
        batch.id,
        batch.execution_date,
        f"IOP-bidrag, utbetalningsbunt {batch.id}",
        tuple(rows),
    )


def export_batch(
    db: Database,
    batch_id: int,
    *,
    fmt: str,
    actor_name: str,
    today: date,
    now: datetime,
    origin: Origin = DEFAULT_ORIGIN,
) -> Exported:
    """The batch's payment file (`pain001`) or its voucher (`sie`). The first pain.001
    export of an attested batch marks it exported, once; a later one gives the same
    bytes. The ledger file is for a batch that has been sent to the bank."""
    if fmt not in FORMATS:
        raise InvalidInput(f"'{fmt}' is not one of {', '.join(FORMATS)}", field="format")
    with db.write() as session:
        repo = Repository(session)
        batch = batch_row(session, batch_id)
        who = editor(repo, actor_name, {batch.municipality})
        setup = payment_setup(batch.municipality)
        items = _items(session, batch.id)
        state = BatchState(batch.state)
        if fmt == "sie":
            if state not in (BatchState.EXPORTED, BatchState.PAID):
                raise RuleViolation(
                    f"payment batch {batch.id} is {state.value}; its voucher is written once "
                    "its payment file has been exported"
                )
            generated = in_stockholm(batch.exported_at).date()
            content = _sie(setup, generated, [batch_voucher(batch, items, setup)])
            return _result(batch, fmt, content, False, items)
        problem = move_problem("export", state)
        if problem is not None:
            raise RuleViolation(problem)
        first = state is BatchState.ATTESTED
        created = now if first else batch.exported_at
        content = _pain001(batch, items, setup, created)
        if first:
            _mark_exported(session, who, batch, items, today=today, now=now, origin=origin)
        return _result(batch, fmt, content, first, items)


def _result(batch: Any, fmt: str, content: bytes, first: bool, items: list[Any]) -> Exported:
    return Exported(
        batch.id,
        fmt,
        content,
        message_id(batch.municipality, batch.id),
        first,
        len(items),
        sum(i.amount_ore for i in items),
    )


def _mark_exported(
    session: Session,
    who: Any,
    batch: Any,
    items: list[Any],
    *,
    today: date,
    now: datetime,
    origin: Origin,
) -> None:
    b = t.payment_batches
    moved = pa.rowcount(
        session.execute(
            sa.update(b)
            .where(b.c.id == batch.id, b.c.version == batch.version, b.c.state == batch.state)
            .values(
                state=BatchState.EXPORTED,
                exported_by=who.name,
                exported_at=now,
                version=b.c.version + 1,
            )
        )
    )
    if moved != 1:
        raise RuleViolation(f"payment batch {batch.id} was changed meanwhile; look again")
    mid = message_id(batch.municipality, batch.id)
    entries = [
        pa.Entry(
            pa.BATCH,
            str(batch.id),
            "export_batch",
            BatchState.ATTESTED.value,
            BatchState.EXPORTED.value,
            data={"message_id": mid, "items": len(items), "total_ore": batch.total_ore},
        )
    ] + [
        pa.Entry(
            pa.PAYOUT,
            str(i.payout_id),
            "export_payment",
            PaymentStage.IN_BATCH.value,
            PaymentStage.EXPORTED.value,
            agreement_id=i.agreement_id,
            data={"batch": batch.id, "end_to_end_id": i.end_to_end_id},
        )
        for i in items
    ]
    pa.write(session, who, entries, day=today, now=now, origin=origin)


# --- repayment claims in the ledger --------------------------------------------------------


def claim_vouchers(
    session: Session, municipality: str, setup: PaymentSetup, first: date, last: date
) -> list[Voucher]:
    """The vouchers of the claims raised, and of the claims paid, from `first` to `last`:
    a claim raised is a receivable that reduces the grant expense; a claim paid moves the
    receivable to the bank. Numbered by the claim, in a series of its own for each."""
    c, a, o = t.repayment_claims, t.agreements, t.organisations
    rows = session.execute(
        sa.select(c, a.c.diarienummer, o.c.name.label("organisation"))
        .join(a, a.c.id == c.c.agreement_id)
        .join(o, o.c.id == c.c.organisation_id)
        .where(a.c.municipality == municipality)
        .order_by(c.c.id)
    ).all()
    vouchers: list[Voucher] = []
    for r in rows:
        text = f"{r.diarienummer} {r.organisation}"[:80]
        if first <= r.raised_on <= last:
            vouchers.append(
                Voucher(
                    f"{setup.series}F",
                    r.id,
                    r.raised_on,
                    f"Återkrav IOP-bidrag {r.diarienummer}"[:80],
                    (
                        Row(setup.claim_receivable.number, r.amount_ore, None, text),
                        Row(setup.grant_expense.number, -r.amount_ore, setup.cost_centre, text),
                    ),
                )
            )
        paid = r.state == ClaimState.PAID and r.settled_on is not None
        if paid and first <= r.settled_on <= last:
            vouchers.append(
                Voucher(
                    f"{setup.series}I",
                    r.id,
                    r.settled_on,
                    f"Inbetalt återkrav {r.diarienummer}"[:80],
                    (
                        Row(setup.bank.number, r.amount_ore, None, text),
                        Row(setup.claim_receivable.number, -r.amount_ore, None, text),
                    ),
                )
            )
    return sorted(vouchers, key=lambda v: (v.day, v.series, v.number))


def claims_ledger(
    db: Database,
    *,
    municipality: str,
    first: date,
    last: date,
    actor_name: str,
) -> tuple[bytes, int]:
    """The SIE 4I file of the claim vouchers of `municipality` from `first` to `last`
    (both included), with how many vouchers it holds; generated on `last`."""
    if last < first:
        raise InvalidInput(f"{last} is before {first}", field="to")
    setup = payment_setup(municipality)
    with db.read() as session:
        editor(Repository(session), actor_name, {municipality})
        vouchers = claim_vouchers(session, municipality, setup, first, last)
        return _sie(setup, last, vouchers), len(vouchers)
