"""Bank answers: an ISO 20022 bank-to-customer debit notification, camt.054.

After the bank has executed the transfers of a pain.001 file it sends a camt.054
debit notification for the municipality's account: one entry (Ntry) per booking,
each with one transaction (NtryDtls/TxDtls) per executed transfer, carrying the
EndToEndId we put in the pain.001 file. That id is what marks a payout paid.

Swedish banks (Bankgirot, SEB, Swedbank, Handelsbanken, Nordea) send
camt.054.001.02; camt.054.001.08 is the newer version some of them offer too.
Both are read. Only debit entries (CdtDbtInd DBIT) count; credits on the same
account (repayments, interest) are left to other readers.

`debit_notification` writes a camt.054.001.02 file the way a bank would, so tests
and the demo can play the bank. Its element order follows the schema's sequences
and it has no generated ids or timestamps: the same inputs give the same bytes.

Amounts are öre (int), never a float, and only SEK is accepted. A transaction the
bank reports without our EndToEndId comes back with `end_to_end_id=""`: the caller
lists it as unmatched rather than guessing which payout it was.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

import defusedxml.ElementTree as SafeET  # type: ignore[import-untyped]
from defusedxml import DefusedXmlException

from ..domain.payment_details import parse_bankgiro
from .pain001_file import kronor_text, sub_element

NAMESPACE_V02 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"
NAMESPACE_V08 = "urn:iso:std:iso:20022:tech:xsd:camt.054.001.08"
NAMESPACES = (NAMESPACE_V02, NAMESPACE_V08)
CURRENCY = "SEK"
# The ISO placeholder a bank writes when the payer gave no EndToEndId.
NOT_PROVIDED = "NOTPROVIDED"
MAX_ID = 35  # Max35Text: MsgId, Ntfctn/Id, EndToEndId
# EntryStatus2Code in camt.054.001.02.
STATUSES = ("BOOK", "PDNG", "INFO")
# Bank transaction code of an outgoing domestic credit transfer: Payments /
# Issued Credit Transfers / Domestic Credit Transfer (ISO external code list).
_DOMAIN, _FAMILY, _SUB_FAMILY = "PMNT", "ICDT", "DMCT"
# xs:decimal's lexical space; Decimal alone would also take "1E3", "NaN", "Infinity".
_DECIMAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


@dataclass(frozen=True)
class Debit:
    """One executed transfer. `end_to_end_id` is "" when the bank gave none of ours."""

    end_to_end_id: str
    amount_ore: int
    booked_on: date | None
    status: str


def _fail(reason: str) -> ValueError:
    return ValueError(f"camt.054: {reason}")


def _parse(xml: bytes) -> ET.Element:
    try:
        root: ET.Element = SafeET.fromstring(
            xml, forbid_dtd=True, forbid_entities=True, forbid_external=True
        )
    except DefusedXmlException as exc:
        # A DTD has no place in a bank file and is how entity-expansion attacks arrive.
        raise _fail(f"refused, the file has a DTD or entity declaration ({exc})") from exc
    except ET.ParseError as exc:
        raise _fail(f"not well-formed XML: {exc}") from exc
    return root


def _namespace(root: ET.Element) -> str:
    if not root.tag.startswith("{"):
        raise _fail(f"the root element {root.tag!r} has no namespace; expected one of {NAMESPACES}")
    namespace, _, local = root.tag[1:].partition("}")
    if namespace not in NAMESPACES:
        raise _fail(f"namespace {namespace!r} is not camt.054.001.02 or camt.054.001.08")
    if local != "Document":
        raise _fail(f"the root element is {local!r}, not Document")
    return namespace


def _ore(amount: ET.Element, where: str) -> int:
    currency = amount.get("Ccy")
    if currency != CURRENCY:
        raise _fail(f"{where}: currency {currency!r}, only {CURRENCY} is accepted")
    text = (amount.text or "").strip()
    if not _DECIMAL.fullmatch(text):
        raise _fail(f"{where}: {text!r} is not an amount")
    ore = Decimal(text) * 100
    if ore != ore.to_integral_value():
        raise _fail(f"{where}: {text!r} has more than two decimals")
    if ore < 0:
        raise _fail(f"{where}: {text!r} is negative")
    return int(ore)


def _booked_on(entry: ET.Element, ns: dict[str, str], where: str) -> date | None:
    day = entry.findtext("c:BookgDt/c:Dt", None, ns)
    moment = entry.findtext("c:BookgDt/c:DtTm", None, ns)
    try:
        if day is not None:
            return date.fromisoformat(day.strip())
        if moment is not None:
            # The day as the bank wrote it, in its own offset, not converted to ours.
            return datetime.fromisoformat(moment.strip()).date()
    except ValueError as exc:
        raise _fail(f"{where}: BookgDt {day or moment!r} is not a date") from exc
    return None


def _status(entry: ET.Element, ns: dict[str, str]) -> str:
    status = entry.find("c:Sts", ns)
    if status is None:
        return "BOOK"
    # .02 has the code as the text of Sts; .08 wraps it in Sts/Cd (or Sts/Prtry).
    text = status.findtext("c:Cd", None, ns) or status.findtext("c:Prtry", None, ns) or status.text
    return (text or "").strip() or "BOOK"


def _end_to_end_id(transaction: ET.Element, ns: dict[str, str]) -> str:
    text = (transaction.findtext("c:Refs/c:EndToEndId", None, ns) or "").strip()
    return "" if text == NOT_PROVIDED else text


def read_debit_notification(xml: bytes) -> list[Debit]:
    """Every executed transfer of the debit entries, in file order.

    Raises ValueError ("camt.054: ...") for a file that is not well-formed, has a
    DTD or entity declaration, is in another namespace (named in the message),
    has an amount in another currency than SEK (named), an amount with more than
    two decimals, or a transaction whose amount cannot be told.

    A debit entry without transaction details gives one Debit for the entry's
    amount with `end_to_end_id=""`, so that it is listed as unmatched, not lost.
    """
    root = _parse(xml)
    namespace = _namespace(root)
    ns = {"c": namespace}
    message = root.find("c:BkToCstmrDbtCdtNtfctn", ns)
    if message is None:
        raise _fail("no BkToCstmrDbtCdtNtfctn under Document")

    debits: list[Debit] = []
    for n, notification in enumerate(message.iterfind("c:Ntfctn", ns), start=1):
        for e, entry in enumerate(notification.iterfind("c:Ntry", ns), start=1):
            where = f"Ntfctn[{n}]/Ntry[{e}]"
            if (entry.findtext("c:CdtDbtInd", None, ns) or "").strip() != "DBIT":
                continue
            entry_amount = entry.find("c:Amt", ns)
            if entry_amount is None:
                raise _fail(f"{where}: no Amt")
            entry_ore = _ore(entry_amount, f"{where}/Amt")
            booked_on = _booked_on(entry, ns, where)
            status = _status(entry, ns)
            transactions = entry.findall("c:NtryDtls/c:TxDtls", ns)
            if not transactions:
                debits.append(Debit("", entry_ore, booked_on, status))
                continue
            for t, transaction in enumerate(transactions, start=1):
                debits.append(
                    Debit(
                        end_to_end_id=_end_to_end_id(transaction, ns),
                        amount_ore=_transaction_ore(
                            transaction, ns, namespace, entry_ore, len(transactions), where, t
                        ),
                        booked_on=booked_on,
                        status=status,
                    )
                )
    return debits


def _transaction_ore(
    transaction: ET.Element,
    ns: dict[str, str],
    namespace: str,
    entry_ore: int,
    count: int,
    where: str,
    index: int,
) -> int:
    here = f"{where}/NtryDtls/TxDtls[{index}]"
    amount = transaction.find("c:AmtDtls/c:TxAmt/c:Amt", ns)
    if amount is not None:
        return _ore(amount, f"{here}/AmtDtls/TxAmt/Amt")
    if namespace == NAMESPACE_V08:
        amount = transaction.find("c:Amt", ns)
        if amount is not None:
            return _ore(amount, f"{here}/Amt")
    # The entry's amount is this transaction's only when nothing else shares it.
    if count == 1:
        return entry_ore
    raise _fail(f"{here}: no transaction amount, and the entry holds {count} transactions")


def _check_id(value: str, what: str) -> None:
    if not value.strip():
        raise ValueError(f"{what} is empty")
    if len(value) > MAX_ID:
        raise ValueError(f"{what} {value!r} is {len(value)} characters; at most {MAX_ID} fit")


def _check(message_id: str, debits: Sequence[Debit]) -> None:
    _check_id(message_id, "message_id")
    for i, debit in enumerate(debits, start=1):
        where = f"debit {i} ({debit.end_to_end_id!r})"
        if debit.end_to_end_id:
            _check_id(debit.end_to_end_id, f"{where}: end_to_end_id")
        if isinstance(debit.amount_ore, bool) or not isinstance(debit.amount_ore, int):
            raise ValueError(f"{where}: amount_ore must be an int (öre)")
        if debit.amount_ore <= 0:
            raise ValueError(f"{where}: amount_ore must be positive, not {debit.amount_ore}")
        if debit.status not in STATUSES:
            raise ValueError(f"{where}: status {debit.status!r} is not one of {STATUSES}")


def debit_notification(
    message_id: str,
    created_at: datetime,
    account_bankgiro: str,
    debits: Sequence[Debit],
) -> bytes:
    """A camt.054.001.02 debit notification (UTF-8, with an XML declaration), as a bank sends.

    One notification for the bankgiro `account_bankgiro`, one debit entry per
    Debit. A Debit with `end_to_end_id=""` is written as NOTPROVIDED, as banks do.

    Raises ValueError for an empty or over-long (35) message_id or end_to_end_id,
    an amount that is not a positive int, a status outside BOOK/PDNG/INFO, or a
    bankgiro number that does not check.
    """
    _check(message_id, debits)
    account = parse_bankgiro(account_bankgiro, field="account bankgiro")
    created = created_at.isoformat(timespec="seconds")

    document = ET.Element("Document", {"xmlns": NAMESPACE_V02})
    message = sub_element(document, "BkToCstmrDbtCdtNtfctn")
    header = sub_element(message, "GrpHdr")
    sub_element(header, "MsgId", message_id)
    sub_element(header, "CreDtTm", created)

    notification = sub_element(message, "Ntfctn")
    # One notification per file, so the message id serves as its id too.
    sub_element(notification, "Id", message_id)
    sub_element(notification, "CreDtTm", created)
    other = sub_element(sub_element(sub_element(notification, "Acct"), "Id"), "Othr")
    sub_element(other, "Id", account.number)
    sub_element(sub_element(other, "SchmeNm"), "Prtry", "BGNR")

    for debit in debits:
        amount = kronor_text(debit.amount_ore)
        entry = sub_element(notification, "Ntry")
        sub_element(entry, "Amt", amount, Ccy=CURRENCY)
        sub_element(entry, "CdtDbtInd", "DBIT")
        sub_element(entry, "Sts", debit.status)
        if debit.booked_on is not None:
            sub_element(sub_element(entry, "BookgDt"), "Dt", debit.booked_on.isoformat())
        domain = sub_element(sub_element(entry, "BkTxCd"), "Domn")
        sub_element(domain, "Cd", _DOMAIN)
        family = sub_element(domain, "Fmly")
        sub_element(family, "Cd", _FAMILY)
        sub_element(family, "SubFmlyCd", _SUB_FAMILY)
        transaction = sub_element(sub_element(entry, "NtryDtls"), "TxDtls")
        sub_element(
            sub_element(transaction, "Refs"), "EndToEndId", debit.end_to_end_id or NOT_PROVIDED
        )
        sub_element(
            sub_element(sub_element(transaction, "AmtDtls"), "TxAmt"), "Amt", amount, Ccy=CURRENCY
        )

    ET.indent(document, space="  ")
    body = ET.tostring(document, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
