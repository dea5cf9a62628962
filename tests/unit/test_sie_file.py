"""The SIE 4I voucher file: grammar of every line, balance, exact amounts, refusals,
determinism, and reading back with the independent reader parse_sie."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sie_grammar import GRAMMAR, read_vouchers

from iop_workflow.adapters.sie_file import Account, Row, Voucher, parse_sie, sie_4i

DAY = date(2026, 1, 15)
GENERATED = date(2026, 1, 16)

ACCOUNTS = (
    Account("4990", "Föreningsbidrag"),
    Account("1930", "Företagskonto"),
    Account("2440", 'Leverantörsskulder "IOP"'),
    Account("7000", "Oanvänt konto"),
)
COST_CENTRES = {"4100": "Omsorg", "4200": "Kultur och fritid"}


def voucher(number: int, rows: tuple[Row, ...], text: str = "IOP-utbetalning") -> Voucher:
    return Voucher(series="A", number=number, day=DAY, text=text, rows=rows)


VOUCHERS = (
    voucher(
        1,
        (
            Row("4990", 130_000_000, cost_centre="4100", text="Föreningen Åby"),
            Row("1930", -130_000_000, text="Föreningen Åby"),
        ),
    ),
    voucher(
        2,
        (
            Row("4990", 2_472_527, cost_centre="4200", text='Ideell förening "Ö"'),
            Row("2440", -2_472_527),
        ),
        text="Delutbetalning 2 av 3",
    ),
)


def write(vouchers: tuple[Voucher, ...] = VOUCHERS, **overrides: object) -> bytes:
    arguments: dict[str, object] = {
        "program": "iop-workflow",
        "version": "0.1.0",
        "generated": GENERATED,
        "company": "Exempelby kommun",
        "orgnr": "212000-0001",
        "accounts": ACCOUNTS,
        "cost_centres": COST_CENTRES,
        "vouchers": vouchers,
    }
    arguments.update(overrides)
    return sie_4i(**arguments)  # type: ignore[arg-type]


def test_every_line_matches_the_grammar_of_its_label_and_the_file_is_crlf_cp437() -> None:
    data = write()
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert b"\r" not in data.replace(b"\r\n", b"")
    text = data.decode("cp437")
    lines = text.split("\r\n")[:-1]
    labels = []
    for line in lines:
        label = line.split(" ", 1)[0]
        assert label in GRAMMAR, line
        assert GRAMMAR[label].fullmatch(line), line
        labels.append(label)
    assert labels[:7] == [
        "#FLAGGA",
        "#FORMAT",
        "#SIETYP",
        "#PROGRAM",
        "#GEN",
        "#FNAMN",
        "#ORGNR",
    ]
    # Only the accounts and cost centres used, sorted; one #VER block per voucher.
    assert [line for line in lines if line.startswith("#KONTO")] == [
        '#KONTO 1930 "Företagskonto"',
        '#KONTO 2440 "Leverantörsskulder \\"IOP\\""',
        '#KONTO 4990 "Föreningsbidrag"',
    ]
    assert '#DIM 1 "Kostnadsställe"' in lines
    assert '#OBJEKT 1 "4100" "Omsorg"' in lines
    assert '#OBJEKT 1 "4200" "Kultur och fritid"' in lines
    assert labels.count("#VER") == 2 and labels.count("{") == 2 and labels.count("}") == 2
    assert '#VER "A" 1 20260115 "IOP-utbetalning" 20260116' in lines
    assert '#TRANS 4990 {1 "4100"} 1300000.00 20260115 "Föreningen Åby"' in lines
    assert '#TRANS 1930 {} -1300000.00 20260115 "Föreningen Åby"' in lines
    # å ä ö as the cp437 bytes, not UTF-8 or Latin-1.
    assert "åäö".encode("cp437") == b"\x86\x84\x94"
    assert b"F\x94reningsbidrag" in data
    assert b"Kostnadsst\x84lle" in data
    assert b"Oanv\x84nt" not in data  # an account not used is not written
    assert "ö".encode() not in data


def test_no_cost_centre_used_writes_no_dimension() -> None:
    rows = (Row("4990", 100), Row("1930", -100))
    lines = write((voucher(1, rows),)).decode("cp437").split("\r\n")
    assert not any(line.startswith(("#DIM", "#OBJEKT")) for line in lines)
    assert '#TRANS 4990 {} 1.00 20260115 ""' in lines


def test_the_vouchers_balance_when_read_back() -> None:
    vouchers = read_vouchers(write())
    assert len(vouchers) == 2
    for rows in vouchers:
        assert sum(amount for _, _, amount, _ in rows) == 0
    assert vouchers[1][0] == ("4990", '{1 "4200"}', 2_472_527, 'Ideell förening "Ö"')


def test_parse_sie_reads_labels_quoted_fields_and_object_lists() -> None:
    records = parse_sie(write())
    assert records[0] == ("#FLAGGA", ["0"])
    assert ("#FNAMN", ["Exempelby kommun"]) in records
    assert ("#KONTO", ["2440", 'Leverantörsskulder "IOP"']) in records
    assert ("#OBJEKT", ["1", "4200", "Kultur och fritid"]) in records
    assert ("#VER", ["A", "1", "20260115", "IOP-utbetalning", "20260116"]) in records


def test_amounts_are_written_exactly() -> None:
    records = parse_sie(write())
    amounts = [fields[2] for label, fields in records if label == "#TRANS"]
    assert amounts == ["1300000.00", "-1300000.00", "24725.27", "-24725.27"]
    small = (Row("4990", 5), Row("4990", 100), Row("1930", -105))
    amounts = [
        fields[2] for label, fields in parse_sie(write((voucher(1, small),))) if label == "#TRANS"
    ]
    assert amounts == ["0.05", "1.00", "-1.05"]


def test_an_unbalanced_voucher_is_refused() -> None:
    rows = (Row("4990", 130_000_000), Row("1930", -129_999_999))
    with pytest.raises(ValueError, match=r"voucher A 1 does not balance.*0\.01"):
        write((voucher(1, rows),))


def test_an_account_that_is_not_four_digits_is_refused() -> None:
    rows = (Row("499", 100), Row("1930", -100))
    with pytest.raises(ValueError, match="account '499' is not four digits"):
        write((voucher(1, rows),), accounts=(*ACCOUNTS, Account("499", "Tre siffror")))
    with pytest.raises(ValueError, match="account '499' is not four digits"):
        write((voucher(1, rows),))


@pytest.mark.parametrize("bad", ["€", "😀"])
def test_text_outside_cp437_is_refused(bad: str) -> None:
    with pytest.raises(UnicodeEncodeError):
        bad.encode("cp437")  # the premise: the character is not in PC8
    rows = (Row("4990", 100, text=f"Bidrag {bad}"), Row("1930", -100))
    with pytest.raises(ValueError, match="cp437"):
        write((voucher(1, rows),))
    with pytest.raises(ValueError, match="cp437"):
        write(company=f"Kommun {bad}")
    with pytest.raises(ValueError, match="cp437"):
        write((voucher(1, (Row("4990", 100), Row("1930", -100)), text=bad),))


@pytest.mark.parametrize("bad", ["rad\r\nbrytning", "tab\t", "snedstreck\\"])
def test_text_that_would_break_the_line_or_the_quoting_is_refused(bad: str) -> None:
    rows = (Row("4990", 100, text=bad), Row("1930", -100))
    with pytest.raises(ValueError):
        write((voucher(1, rows),))


def test_an_account_or_cost_centre_without_a_name_is_refused() -> None:
    with pytest.raises(ValueError, match="account 3000 has no name"):
        write((voucher(1, (Row("3000", 100), Row("1930", -100))),))
    with pytest.raises(ValueError, match="cost centre '9999' has no name"):
        write((voucher(1, (Row("4990", 100, cost_centre="9999"), Row("1930", -100))),))


def test_a_malformed_orgnr_is_refused() -> None:
    with pytest.raises(ValueError, match="organisationsnummer"):
        write(orgnr="2120000001")


def test_the_same_input_twice_is_byte_identical() -> None:
    assert write() == write()
    reordered = write(
        accounts=tuple(reversed(ACCOUNTS)), cost_centres=dict(reversed(COST_CENTRES.items()))
    )
    assert reordered == write()


amount_lists = st.lists(
    st.integers(min_value=-(10**12), max_value=10**12), min_size=1, max_size=8
).map(lambda xs: [*xs, -sum(xs)])


@settings(max_examples=200, deadline=None)
@given(st.lists(amount_lists, min_size=1, max_size=4))
def test_parse_sie_reads_back_exactly_the_amounts_written(amounts: list[list[int]]) -> None:
    vouchers = tuple(
        voucher(
            number,
            tuple(
                Row("4990" if i % 2 else "1930", ore, cost_centre="4100" if i % 3 == 0 else None)
                for i, ore in enumerate(ores)
            ),
        )
        for number, ores in enumerate(amounts, start=1)
    )
    read = read_vouchers(write(vouchers))
    assert [[ore for _, _, ore, _ in rows] for rows in read] == amounts
    for rows in read:
        assert sum(ore for _, _, ore, _ in rows) == 0
