"""The pain.001.001.03 payment file: XSD-valid, öre-exact, deterministic, strict."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import date, datetime
from decimal import Decimal

import pytest

from iop_workflow.adapters.pain001_file import (
    NAMESPACE,
    Debtor,
    Transfer,
    control_sum_ore,
    credit_transfer,
    end_to_end_ids,
    validate_document,
)
from iop_workflow.domain.payment_details import (
    parse_bank_account,
    parse_bankgiro,
    parse_plusgiro,
)

NS = {"p": NAMESPACE}
DEBTOR = Debtor(name="Exempels kommun", organisationsnummer="212000-0142", bankgiro="5050-1055")
CREATED = datetime(2024, 5, 2, 9, 30, 0)
EXECUTION = date(2024, 5, 6)


def batch() -> list[Transfer]:
    return [
        Transfer(
            end_to_end_id="OSN-2024-0087-5",
            amount_ore=130_000_000,  # 1 300 000 kr
            creditor_name="Föreningen Gemenskap",
            creditor=parse_bankgiro("5050-1055"),
            remittance="OSN 2024/0087 utbetalning 5",
        ),
        Transfer(
            end_to_end_id="OSN-2024-0091-2",
            amount_ore=2_472_527,  # 24 725,27 kr
            creditor_name="Radiohjälpen",
            creditor=parse_plusgiro("90 20 03-3"),
            remittance="OSN 2024/0091 utbetalning 2",
        ),
        Transfer(
            end_to_end_id="OSN-2024-0102-1",
            amount_ore=5_000_050,  # 50 000,50 kr
            creditor_name="Idrottsklubben Å",
            creditor=parse_bank_account("6001", "801230659"),
            remittance="OSN 2024/0102 utbetalning 1",
        ),
    ]


def build(transfers: list[Transfer] | None = None) -> bytes:
    return credit_transfer("IOP-20240502-1", CREATED, EXECUTION, DEBTOR, transfers or batch())


def test_a_batch_to_bankgiro_plusgiro_and_bank_account_validates_against_the_xsd() -> None:
    xml = build()
    validate_document(xml)  # does not raise
    assert xml.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n')
    root = ET.fromstring(xml)
    accounts = [
        (
            tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:Id", None, NS),
            tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry", None, NS)
            or tx.findtext("p:CdtrAcct/p:Id/p:Othr/p:SchmeNm/p:Cd", None, NS),
        )
        for tx in root.iterfind(".//p:CdtTrfTxInf", NS)
    ]
    assert accounts == [("50501055", "BGNR"), ("9020033", "PGNR"), ("6001801230659", "BBAN")]


def test_the_header_and_payment_say_what_the_banks_guides_ask_for() -> None:
    root = ET.fromstring(build())
    header = root.find("p:CstmrCdtTrfInitn/p:GrpHdr", NS)
    assert header is not None
    assert header.findtext("p:MsgId", None, NS) == "IOP-20240502-1"
    assert header.findtext("p:CreDtTm", None, NS) == "2024-05-02T09:30:00"
    assert header.findtext("p:NbOfTxs", None, NS) == "3"
    assert header.findtext("p:InitgPty/p:Id/p:OrgId/p:Othr/p:Id", None, NS) == "2120000142"
    payment = root.find("p:CstmrCdtTrfInitn/p:PmtInf", NS)
    assert payment is not None
    assert payment.findtext("p:PmtMtd", None, NS) == "TRF"
    assert payment.findtext("p:ReqdExctnDt", None, NS) == "2024-05-06"
    assert payment.findtext("p:DbtrAcct/p:Id/p:Othr/p:Id", None, NS) == "50501055"
    assert payment.findtext("p:DbtrAcct/p:Id/p:Othr/p:SchmeNm/p:Prtry", None, NS) == "BGNR"
    member = payment.find("p:DbtrAgt/p:FinInstnId/p:ClrSysMmbId", NS)
    assert member is not None
    assert member.findtext("p:ClrSysId/p:Cd", None, NS) == "SESBA"
    assert member.findtext("p:MmbId", None, NS) == "9900"
    amounts = [e.attrib["Ccy"] for e in payment.iterfind(".//p:InstdAmt", NS)]
    assert amounts == ["SEK", "SEK", "SEK"]
    assert [e.text for e in payment.iterfind(".//p:RmtInf/p:Ustrd", NS)][0] == (
        "OSN 2024/0087 utbetalning 5"
    )


def test_the_amounts_in_the_file_sum_to_the_batch_ore_exact() -> None:
    xml = build()
    root = ET.fromstring(xml)
    amounts = [e.text for e in root.iterfind(".//p:InstdAmt", NS)]
    assert amounts == ["1300000.00", "24725.27", "50000.50"]
    expected = 130_000_000 + 2_472_527 + 5_000_050
    assert control_sum_ore(xml) == expected
    assert root.findtext("p:CstmrCdtTrfInitn/p:GrpHdr/p:CtrlSum", None, NS) == "1374725.77"
    assert root.findtext("p:CstmrCdtTrfInitn/p:PmtInf/p:CtrlSum", None, NS) == "1374725.77"
    assert sum(Decimal(a or "") for a in amounts) * 100 == expected


def test_end_to_end_ids_are_read_back_in_order() -> None:
    assert end_to_end_ids(build()) == ["OSN-2024-0087-5", "OSN-2024-0091-2", "OSN-2024-0102-1"]


def test_the_same_inputs_give_byte_identical_files() -> None:
    assert build() == build()
    assert build() != credit_transfer("IOP-20240502-2", CREATED, EXECUTION, DEBTOR, batch())


def test_the_validator_refuses_a_mangled_document() -> None:
    good = build()
    for broken in (
        good.replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMethod>TRF</PmtMethod>"),
        good.replace(b"<PmtMtd>TRF</PmtMtd>", b"<PmtMtd>XYZ</PmtMtd>"),
        good.replace(b"<NbOfTxs>3</NbOfTxs>", b"<NbOfTxs>three</NbOfTxs>", 1),
        good.replace(b'Ccy="SEK">24725.27', b'Ccy="SEK">24725,27'),
    ):
        assert broken != good
        with pytest.raises(ValueError, match="does not validate against pain.001.001.03.xsd"):
            validate_document(broken)
    with pytest.raises(ValueError, match="not well-formed"):
        validate_document(good[:-30])


def test_a_file_the_xsd_refuses_is_not_returned() -> None:
    transfers = batch()
    too_long_id = Transfer(
        end_to_end_id="X" * 36,  # EndToEndId is Max35Text
        amount_ore=100,
        creditor_name="Förening",
        creditor=parse_bankgiro("5050-1055"),
        remittance="OSN 2024/0001",
    )
    with pytest.raises(ValueError, match="does not validate"):
        build([*transfers, too_long_id])


def test_a_remittance_over_140_characters_is_refused() -> None:
    transfers = batch()
    long = Transfer(
        end_to_end_id="OSN-2024-0001-1",
        amount_ore=100,
        creditor_name="Förening",
        creditor=parse_bankgiro("5050-1055"),
        remittance="Å" * 141,
    )
    with pytest.raises(ValueError, match="remittance is 141 characters"):
        build([*transfers, long])
    exactly = Transfer(
        end_to_end_id="OSN-2024-0001-1",
        amount_ore=100,
        creditor_name="Förening",
        creditor=parse_bankgiro("5050-1055"),
        remittance="Å" * 140,
    )
    validate_document(build([*transfers, exactly]))


@pytest.mark.parametrize("amount", [0, -100])
def test_an_amount_that_is_not_positive_is_refused(amount: int) -> None:
    bad = Transfer("E-1", amount, "Förening", parse_bankgiro("5050-1055"), "OSN 2024/0001")
    with pytest.raises(ValueError, match="amount_ore must be positive"):
        build([bad])


def test_a_repeated_end_to_end_id_is_refused() -> None:
    first = batch()[0]
    with pytest.raises(ValueError, match="occurs twice"):
        build([first, first])


def test_a_debtor_bankgiro_that_does_not_check_is_refused() -> None:
    with pytest.raises(ValueError, match="check digit"):
        credit_transfer(
            "M-1",
            CREATED,
            EXECUTION,
            Debtor("Exempels kommun", "212000-0142", "5050-1056"),
            batch(),
        )
