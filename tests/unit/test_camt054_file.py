"""The camt.054 debit notification: read strictly and safely, written XSD-valid, deterministic."""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache
from pathlib import Path

import pytest
import xmlschema

from iop_workflow.adapters.camt054_file import (
    NAMESPACE_V02,
    NAMESPACE_V08,
    Debit,
    debit_notification,
    read_debit_notification,
)

# The official ISO 20022 schema, as published (SWIFTStandards Workstation output).
XSD = Path(__file__).resolve().parents[1] / "data" / "camt.054.001.02.xsd"
CREATED = datetime(2024, 5, 7, 6, 15, 0)
BANKGIRO = "5050-1055"
BOOKED = date(2024, 5, 6)

DEBITS = [
    Debit("OSN-2024-0087-5", 130_000_000, BOOKED, "BOOK"),  # 1 300 000 kr
    Debit("OSN-2024-0112-1", 1_234_567, BOOKED, "BOOK"),  # 12 345,67 kr
    Debit("OSN-2024-0140-2", 5, None, "PDNG"),  # 0,05 kr, not yet booked
]


@lru_cache(maxsize=1)
def schema() -> xmlschema.XMLSchema:
    return xmlschema.XMLSchema(str(XSD))


def document(entries: str, namespace: str = NAMESPACE_V02) -> bytes:
    """A bank's file around the given Ntry elements, written by hand, not by our writer."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{namespace}">
  <BkToCstmrDbtCdtNtfctn>
    <GrpHdr><MsgId>BANK-1</MsgId><CreDtTm>2024-05-07T06:15:00</CreDtTm></GrpHdr>
    <Ntfctn>
      <Id>BANK-1-1</Id>
      <CreDtTm>2024-05-07T06:15:00</CreDtTm>
      <Acct><Id><Othr><Id>50501055</Id><SchmeNm><Prtry>BGNR</Prtry></SchmeNm></Othr></Id></Acct>
      {entries}
    </Ntfctn>
  </BkToCstmrDbtCdtNtfctn>
</Document>
""".encode()


def entry(
    transactions: str,
    amount: str = "100.00",
    indicator: str = "DBIT",
    currency: str = "SEK",
    booked: str = "<Dt>2024-05-06</Dt>",
) -> str:
    return f"""<Ntry>
        <Amt Ccy="{currency}">{amount}</Amt>
        <CdtDbtInd>{indicator}</CdtDbtInd>
        <Sts>BOOK</Sts>
        <BookgDt>{booked}</BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>{transactions}</NtryDtls>
      </Ntry>"""


def tx(end_to_end_id: str | None, amount: str | None = None, currency: str = "SEK") -> str:
    refs = "" if end_to_end_id is None else f"<Refs><EndToEndId>{end_to_end_id}</EndToEndId></Refs>"
    amounts = ""
    if amount is not None:
        amounts = f'<AmtDtls><TxAmt><Amt Ccy="{currency}">{amount}</Amt></TxAmt></AmtDtls>'
    return f"<TxDtls>{refs}{amounts}</TxDtls>"


# --- writer and reader together -------------------------------------------------


def test_round_trip_gives_back_the_debits() -> None:
    xml = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, DEBITS)
    assert read_debit_notification(xml) == DEBITS


def test_amounts_are_written_as_kronor_with_two_decimals() -> None:
    xml = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, DEBITS)
    text = xml.decode()
    assert '<Amt Ccy="SEK">1300000.00</Amt>' in text
    assert '<Amt Ccy="SEK">12345.67</Amt>' in text
    assert '<Amt Ccy="SEK">0.05</Amt>' in text


def test_writer_is_byte_identical_for_the_same_input() -> None:
    first = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, DEBITS)
    second = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, list(DEBITS))
    assert first == second
    assert first.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns=')


def test_written_file_validates_against_the_official_xsd() -> None:
    xml = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, DEBITS)
    errors = list(schema().iter_errors(xml.decode()))
    assert errors == []


def test_written_file_names_the_bankgiro_account() -> None:
    xml = debit_notification("CAMT-2024-05-07", CREATED, BANKGIRO, DEBITS).decode()
    assert "<Id>50501055</Id>" in xml
    assert "<Prtry>BGNR</Prtry>" in xml


def test_a_debit_without_our_id_is_written_as_notprovided_and_read_back_as_empty() -> None:
    unmatched = Debit("", 10_000, BOOKED, "BOOK")
    xml = debit_notification("CAMT-1", CREATED, BANKGIRO, [unmatched])
    assert b"<EndToEndId>NOTPROVIDED</EndToEndId>" in xml
    assert list(schema().iter_errors(xml.decode())) == []
    assert read_debit_notification(xml) == [unmatched]


@pytest.mark.parametrize(
    ("debit", "message"),
    [
        (Debit("A", 0, BOOKED, "BOOK"), "must be positive"),
        (Debit("A", -100, BOOKED, "BOOK"), "must be positive"),
        (Debit("A", True, BOOKED, "BOOK"), "must be an int"),
        (Debit("A", 100, BOOKED, "DONE"), "status 'DONE'"),
        (Debit("A" * 36, 100, BOOKED, "BOOK"), "36 characters"),
    ],
)
def test_writer_refuses_what_the_schema_would_not_take(debit: Debit, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        debit_notification("CAMT-1", CREATED, BANKGIRO, [debit])


def test_writer_refuses_a_bankgiro_that_does_not_check() -> None:
    with pytest.raises(ValueError):
        debit_notification("CAMT-1", CREATED, "5050-1056", DEBITS)


# --- reader on bank files written by hand ----------------------------------------


def test_hand_written_fixture_is_a_valid_camt054_001_02() -> None:
    xml = document(entry(tx("OSN-1", "100.00")) + entry(tx("OSN-2", "5.00"), indicator="CRDT"))
    assert list(schema().iter_errors(xml.decode())) == []


def test_a_credit_entry_is_ignored() -> None:
    xml = document(
        entry(tx("OSN-2024-0087-5", "100.00"))
        + entry(tx("INBETALNING-9", "2500.00"), amount="2500.00", indicator="CRDT")
    )
    assert read_debit_notification(xml) == [Debit("OSN-2024-0087-5", 10_000, BOOKED, "BOOK")]


def test_one_entry_with_several_transactions_gives_one_debit_each() -> None:
    xml = document(entry(tx("OSN-1", "1300000.00") + tx("OSN-2", "12345.67"), amount="1312345.67"))
    assert [(d.end_to_end_id, d.amount_ore) for d in read_debit_notification(xml)] == [
        ("OSN-1", 130_000_000),
        ("OSN-2", 1_234_567),
    ]


@pytest.mark.parametrize("where", ["entry", "transaction"])
def test_a_currency_other_than_sek_is_refused_by_name(where: str) -> None:
    if where == "entry":
        xml = document(entry(tx("OSN-1", "100.00"), currency="EUR"))
    else:
        xml = document(entry(tx("OSN-1", "100.00", currency="NOK")))
    with pytest.raises(ValueError, match="EUR" if where == "entry" else "NOK") as info:
        read_debit_notification(xml)
    assert str(info.value).startswith("camt.054: ")


def test_an_amount_with_more_than_two_decimals_is_refused() -> None:
    xml = document(entry(tx("OSN-1", "100.005")))
    with pytest.raises(ValueError, match="more than two decimals"):
        read_debit_notification(xml)


@pytest.mark.parametrize("amount", ["1E3", "NaN", "ett hundra", ""])
def test_an_amount_that_is_not_a_decimal_is_refused(amount: str) -> None:
    xml = document(entry(tx("OSN-1", amount)))
    with pytest.raises(ValueError, match="is not an amount"):
        read_debit_notification(xml)


def test_billion_laughs_is_refused_not_expanded() -> None:
    laughs = b"""<?xml version="1.0"?>
<!DOCTYPE Document [
  <!ENTITY lol "lol">
  <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
  <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
  <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
  <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
  <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
  <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02">&lol9;</Document>
"""
    with pytest.raises(ValueError, match="^camt.054: refused, the file has a DTD"):
        read_debit_notification(laughs)


def test_a_dtd_without_entities_is_refused_too() -> None:
    xml = document(entry(tx("OSN-1", "100.00"))).replace(
        b"<Document", b"<!DOCTYPE Document SYSTEM 'http://example.invalid/x.dtd'>\n<Document", 1
    )
    with pytest.raises(ValueError, match="DTD"):
        read_debit_notification(xml)


def test_xml_that_is_not_well_formed_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="^camt.054: not well-formed XML"):
        read_debit_notification(b"<Document><Ntry></Document>")


def test_an_unknown_namespace_is_refused_by_name() -> None:
    other = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"
    with pytest.raises(ValueError, match=other):
        read_debit_notification(document(entry(tx("OSN-1", "100.00")), namespace=other))


def test_a_document_without_namespace_is_refused() -> None:
    with pytest.raises(ValueError, match="no namespace"):
        read_debit_notification(b"<Document><BkToCstmrDbtCdtNtfctn/></Document>")


def test_a_transaction_without_end_to_end_id_is_returned_unmatched() -> None:
    xml = document(entry(tx(None, "100.00") + tx("NOTPROVIDED", "50.00"), amount="150.00"))
    assert read_debit_notification(xml) == [
        Debit("", 10_000, BOOKED, "BOOK"),
        Debit("", 5_000, BOOKED, "BOOK"),
    ]


def test_a_single_transaction_without_amount_takes_the_entrys() -> None:
    xml = document(entry(tx("OSN-1"), amount="777.70"))
    assert read_debit_notification(xml) == [Debit("OSN-1", 77_770, BOOKED, "BOOK")]


def test_several_transactions_without_amount_are_refused_not_split() -> None:
    xml = document(entry(tx("OSN-1") + tx("OSN-2"), amount="200.00"))
    with pytest.raises(ValueError, match="no transaction amount"):
        read_debit_notification(xml)


def test_a_debit_entry_without_details_is_one_unmatched_debit() -> None:
    bare = entry("").replace("<NtryDtls></NtryDtls>", "")
    assert read_debit_notification(document(bare)) == [Debit("", 10_000, BOOKED, "BOOK")]


def test_booking_date_given_as_date_time_gives_its_date_part() -> None:
    xml = document(entry(tx("OSN-1", "1.00"), booked="<DtTm>2024-05-06T23:30:00+02:00</DtTm>"))
    assert read_debit_notification(xml)[0].booked_on == date(2024, 5, 6)


def test_missing_status_means_booked() -> None:
    xml = document(entry(tx("OSN-1", "1.00")).replace("<Sts>BOOK</Sts>", ""))
    assert read_debit_notification(xml)[0].status == "BOOK"


def test_version_08_with_status_code_and_transaction_amount() -> None:
    entry_08 = """<Ntry>
        <Amt Ccy="SEK">300.00</Amt>
        <CdtDbtInd>DBIT</CdtDbtInd>
        <Sts><Cd>PDNG</Cd></Sts>
        <BookgDt><Dt>2024-05-06</Dt></BookgDt>
        <BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn></BkTxCd>
        <NtryDtls>
          <TxDtls><Refs><EndToEndId>OSN-1</EndToEndId></Refs><Amt Ccy="SEK">100.00</Amt></TxDtls>
          <TxDtls><Refs><EndToEndId>OSN-2</EndToEndId></Refs><Amt Ccy="SEK">200.00</Amt></TxDtls>
        </NtryDtls>
      </Ntry>"""
    assert read_debit_notification(document(entry_08, namespace=NAMESPACE_V08)) == [
        Debit("OSN-1", 10_000, BOOKED, "PDNG"),
        Debit("OSN-2", 20_000, BOOKED, "PDNG"),
    ]
