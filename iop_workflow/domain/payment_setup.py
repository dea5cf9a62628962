"""What a municipality's ekonomi department configures for payments, from the policy
file's `payments` section: the debtor of the payment files and the accounts of the
ledger vouchers (Kommun-Bas account numbers by default; every municipality has its own
kontoplan and must check them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .errors import InvalidInput
from .orgnr import normalise_orgnr
from .payment_details import parse_bankgiro

_ACCOUNT = re.compile(r"^\d{4}$")
_SERIES = re.compile(r"^[A-Za-z0-9]{1,7}$")


@dataclass(frozen=True)
class LedgerAccount:
    number: str  # four digits
    name: str


@dataclass(frozen=True)
class PaymentSetup:
    debtor_name: str
    debtor_orgnr: str  # NNNNNN-NNNN
    debtor_bankgiro: str  # digits
    series: str  # the voucher series (verifikationsserie)
    grant_expense: LedgerAccount  # debit: the grant paid
    payable: LedgerAccount  # credit: what the bank pays out (bank or leverantörsskuld)
    claim_receivable: LedgerAccount  # debit when a repayment claim is raised
    bank: LedgerAccount  # debit when a repayment is received
    cost_centre: str
    cost_centre_name: str
    source: str  # "seed" | "default"

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], *, record: str) -> PaymentSetup:
        def text(name: str) -> str:
            value = data.get(name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidInput(
                    "must be a non-empty text", record=record, field=f"payments.{name}"
                )
            return value.strip()

        def account(name: str) -> LedgerAccount:
            entry = data.get(name)
            where = f"payments.{name}"
            if not isinstance(entry, Mapping):
                raise InvalidInput("must map number and name", record=record, field=where)
            number = str(entry.get("number", ""))
            if not _ACCOUNT.match(number):
                raise InvalidInput("number must be four digits", record=record, field=where)
            return LedgerAccount(number, str(entry.get("name", "")).strip() or number)

        series = text("series")
        if not _SERIES.match(series):
            raise InvalidInput(
                "must be 1 to 7 letters or digits (the claims add a letter)",
                record=record,
                field="payments.series",
            )
        try:
            orgnr = normalise_orgnr(text("debtor_orgnr"))
        except InvalidInput as exc:
            raise InvalidInput(str(exc), record=record, field="payments.debtor_orgnr") from None
        return cls(
            debtor_name=text("debtor_name"),
            debtor_orgnr=orgnr,
            debtor_bankgiro=parse_bankgiro(
                text("debtor_bankgiro"), "payments.debtor_bankgiro"
            ).number,
            series=series,
            grant_expense=account("grant_expense"),
            payable=account("payable"),
            claim_receivable=account("claim_receivable"),
            bank=account("bank"),
            cost_centre=text("cost_centre"),
            cost_centre_name=text("cost_centre_name"),
            source=text("source"),
        )
