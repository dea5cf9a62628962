"""The SIE 4 grammar (SIE filformat ver 4B) of each label our files write, and a
reader of vouchers built on it: written apart from iop_workflow/adapters/sie_file.py so
that a test reading a file back does not trust the writer."""

from __future__ import annotations

import re
from decimal import Decimal

from iop_workflow.adapters.sie_file import parse_sie

QUOTED = r'"(?:[^"\\\x00-\x1f]|\\")*"'
FIELD = rf'(?:{QUOTED}|[^\s"{{}}]+)'
DATE = r"\d{8}"
AMOUNT = r"-?\d+\.\d{2}"
OBJECT_LIST = rf"\{{(?:\d+ {FIELD}(?: \d+ {FIELD})*)?\}}"
GRAMMAR = {
    "#FLAGGA": re.compile(r"#FLAGGA [01]"),
    "#FORMAT": re.compile(r"#FORMAT PC8"),
    "#SIETYP": re.compile(r"#SIETYP 4"),
    "#PROGRAM": re.compile(rf"#PROGRAM {FIELD} {FIELD}"),
    "#GEN": re.compile(rf"#GEN {DATE}(?: {FIELD})?"),
    "#FNAMN": re.compile(rf"#FNAMN {FIELD}"),
    "#ORGNR": re.compile(r"#ORGNR \d{6}-\d{4}"),
    "#KONTO": re.compile(rf"#KONTO \d{{4}} {QUOTED}"),
    "#DIM": re.compile(rf"#DIM \d+ {QUOTED}"),
    "#OBJEKT": re.compile(rf"#OBJEKT \d+ {FIELD} {QUOTED}"),
    "#VER": re.compile(rf"#VER {FIELD} \d+ {DATE} {QUOTED} {DATE}"),
    "#TRANS": re.compile(rf"#TRANS \d{{4}} {OBJECT_LIST} {AMOUNT} {DATE} {QUOTED}"),
    "{": re.compile(r"\{"),
    "}": re.compile(r"\}"),
}


def check_grammar(data: bytes) -> list[str]:
    """Every line of `data` (cp437, CRLF) matches its label's grammar; its lines."""
    assert data.endswith(b"\r\n")
    assert b"\n" not in data.replace(b"\r\n", b"")
    lines = data.decode("cp437").split("\r\n")[:-1]
    for line in lines:
        label = line.split(" ", 1)[0]
        assert label in GRAMMAR, line
        assert GRAMMAR[label].fullmatch(line), line
    return lines


def kronor_to_ore(amount: str) -> int:
    value = Decimal(amount) * 100
    assert value == value.to_integral_value()
    return int(value)


def read_vouchers(data: bytes) -> list[list[tuple[str, str, int, str]]]:
    """Per #VER, its rows as (account, object list, öre, text), read with parse_sie."""
    vouchers: list[list[tuple[str, str, int, str]]] = []
    inside = False
    for label, fields in parse_sie(data):
        if label == "#VER":
            vouchers.append([])
        elif label == "{":
            inside = True
        elif label == "}":
            inside = False
        elif label == "#TRANS":
            assert inside
            account, objects, amount, _day, text = fields
            vouchers[-1].append((account, objects, kronor_to_ore(amount), text))
    return vouchers
