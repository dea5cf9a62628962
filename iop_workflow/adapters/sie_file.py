"""Bookkeeping files: SIE 4, type 4I (vouchers for import into a financial system).

SIE ("Standard Import Export", SIE-gruppen, "SIE filformat ver 4B") is the file
format Swedish financial systems (Raindance, Unit4, Visma) import vouchers
("verifikationer") from. A file of type 4I carries the identification items,
the accounts and cost-centre objects it uses, and the vouchers:

    #FLAGGA 0
    #FORMAT PC8
    #SIETYP 4
    #PROGRAM "iop-workflow" "0.1.0"
    #GEN 20260115
    #FNAMN "Exempelby kommun"
    #ORGNR 212000-0001
    #KONTO 4990 "Föreningsbidrag"
    #DIM 1 "Kostnadsställe"
    #OBJEKT 1 "4100" "Omsorg"
    #VER "A" 1 20260115 "IOP-utbetalning" 20260115
    {
    #TRANS 4990 {1 "4100"} 1300000.00 20260115 "Förening X"
    #TRANS 1930 {} -1300000.00 20260115 "Förening X"
    }

Every line is a label followed by fields separated by blanks; a field holding
text is written in double quotes, a `"` inside it as `\\"`. The character set is
PC8 (IBM code page 437) and lines end with CRLF, as the standard prescribes.
Amounts are öre (int) in and kronor with a decimal point and two decimals out,
never a float. The same inputs give the same bytes: accounts and objects are
written sorted, and nothing depends on the clock.

Refused with ValueError: a voucher whose rows do not sum to zero, an account
that is not four digits, an account or cost centre used without a name, and
text that cannot be written (outside cp437, a control character, a backslash).

`parse_sie` is a small reader written apart from the writer, to check a file
back (tests, reconciliation): it splits each line into its label and fields.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

ENCODING = "cp437"  # PC8, the character set of #FORMAT PC8
EOL = "\r\n"
COST_CENTRE_DIMENSION = 1  # dimension 1 is "kostnadsställe" in the SIE standard
COST_CENTRE_DIMENSION_NAME = "Kostnadsställe"

_ACCOUNT = re.compile(r"^\d{4}$")
_ORGNR = re.compile(r"^\d{6}-\d{4}$")
# SIE 4B: characters with ASCII code 0-31 and 127 must not occur in the file.
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Account:
    """An account of the chart of accounts (kontoplan): four digits and its name."""

    number: str
    name: str


@dataclass(frozen=True)
class Row:
    """One row (#TRANS) of a voucher; a positive amount is a debit, a negative a credit."""

    account: str
    amount_ore: int
    cost_centre: str | None = None
    text: str = ""


@dataclass(frozen=True)
class Voucher:
    """One voucher (#VER): its series, number, date, text and rows (which sum to zero)."""

    series: str
    number: int
    day: date
    text: str
    rows: tuple[Row, ...]


def sie_4i(
    *,
    program: str,
    version: str,
    generated: date,
    company: str,
    orgnr: str,
    accounts: Sequence[Account],
    cost_centres: Mapping[str, str],
    vouchers: Sequence[Voucher],
) -> bytes:
    """The SIE 4I file holding `vouchers`, as bytes (cp437, CRLF).

    `accounts` and `cost_centres` (object id -> name) give the names; only the
    accounts and cost centres the vouchers use are written, sorted. The
    registration date of each voucher is the `generated` date.
    """
    if not _ORGNR.match(orgnr):
        raise ValueError(f"organisationsnummer {orgnr!r} is not NNNNNN-NNNN")
    names = _account_names(accounts)
    for centre, centre_name in cost_centres.items():
        _quoted(centre, what="cost centre")
        _quoted(centre_name, what=f"name of cost centre {centre!r}")

    used_accounts: set[str] = set()
    used_centres: set[str] = set()
    for voucher in vouchers:
        _check_voucher(voucher)
        for row in voucher.rows:
            if row.account not in names:
                raise ValueError(
                    f"voucher {voucher.series} {voucher.number}: account {row.account} "
                    "has no name in the accounts given"
                )
            used_accounts.add(row.account)
            if row.cost_centre is not None:
                if row.cost_centre not in cost_centres:
                    raise ValueError(
                        f"voucher {voucher.series} {voucher.number}: cost centre "
                        f"{row.cost_centre!r} has no name in the cost centres given"
                    )
                used_centres.add(row.cost_centre)

    lines = [
        "#FLAGGA 0",
        "#FORMAT PC8",
        "#SIETYP 4",
        f"#PROGRAM {_quoted(program, what='program')} {_quoted(version, what='version')}",
        f"#GEN {_day(generated)}",
        f"#FNAMN {_quoted(company, what='company name')}",
        f"#ORGNR {orgnr}",
    ]
    lines += [
        f"#KONTO {number} {_quoted(names[number], what=f'name of account {number}')}"
        for number in sorted(used_accounts)
    ]
    if used_centres:
        lines.append(
            f"#DIM {COST_CENTRE_DIMENSION} {_quoted(COST_CENTRE_DIMENSION_NAME, what='dimension')}"
        )
        lines += [
            f"#OBJEKT {COST_CENTRE_DIMENSION} {_quoted(centre, what='cost centre')} "
            f"{_quoted(cost_centres[centre], what=f'name of cost centre {centre!r}')}"
            for centre in sorted(used_centres)
        ]
    for voucher in vouchers:
        lines += _voucher_lines(voucher, registered=generated)

    text = EOL.join(lines) + EOL
    return text.encode(ENCODING)


def _account_names(accounts: Sequence[Account]) -> dict[str, str]:
    names: dict[str, str] = {}
    for account in accounts:
        _check_account(account.number)
        _quoted(account.name, what=f"name of account {account.number}")
        if names.get(account.number, account.name) != account.name:
            raise ValueError(f"account {account.number} is given two names")
        names[account.number] = account.name
    return names


def _check_account(number: str) -> None:
    if not _ACCOUNT.match(number):
        raise ValueError(f"account {number!r} is not four digits")


def _check_voucher(voucher: Voucher) -> None:
    label = f"voucher {voucher.series} {voucher.number}"
    _quoted(voucher.series, what=f"{label}: series")
    if not voucher.series:
        raise ValueError(f"{label}: the series is empty")
    if isinstance(voucher.number, bool) or not isinstance(voucher.number, int):
        raise ValueError(f"{label}: the number is not an integer")
    if voucher.number < 1:
        raise ValueError(f"{label}: the number is not positive")
    _quoted(voucher.text, what=f"{label}: text")
    if not voucher.rows:
        raise ValueError(f"{label} has no rows")
    for row in voucher.rows:
        _check_account(row.account)
        if isinstance(row.amount_ore, bool) or not isinstance(row.amount_ore, int):
            raise ValueError(f"{label}: amount {row.amount_ore!r} is not öre as an int")
        _quoted(row.text, what=f"{label}: row text")
        if row.cost_centre is not None and not row.cost_centre:
            raise ValueError(f"{label}: empty cost centre")
    total = sum(row.amount_ore for row in voucher.rows)
    if total != 0:
        raise ValueError(f"{label} does not balance: its rows sum to {_amount(total)} kr, not 0.00")


def _voucher_lines(voucher: Voucher, *, registered: date) -> list[str]:
    lines = [
        f"#VER {_quoted(voucher.series, what='series')} {voucher.number} {_day(voucher.day)} "
        f"{_quoted(voucher.text, what='voucher text')} {_day(registered)}",
        "{",
    ]
    for row in voucher.rows:
        objects = (
            "{}"
            if row.cost_centre is None
            else f"{{{COST_CENTRE_DIMENSION} {_quoted(row.cost_centre, what='cost centre')}}}"
        )
        lines.append(
            f"#TRANS {row.account} {objects} {_amount(row.amount_ore)} {_day(voucher.day)} "
            f"{_quoted(row.text, what='row text')}"
        )
    lines.append("}")
    return lines


def _day(day: date) -> str:
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _amount(ore: int) -> str:
    sign = "-" if ore < 0 else ""
    kronor, rest = divmod(abs(ore), 100)
    return f"{sign}{kronor}.{rest:02d}"


def _quoted(text: str, *, what: str) -> str:
    """`text` as a quoted SIE field, or ValueError naming `what` if it cannot be written."""
    if not isinstance(text, str):
        raise ValueError(f"{what}: {text!r} is not text")
    if _CONTROL.search(text):
        raise ValueError(f"{what}: {text!r} holds a control character (not allowed in SIE)")
    if "\\" in text:
        # The standard defines only \" as an escape; a backslash before the closing
        # quote would be read as an escaped quote, so it is refused.
        raise ValueError(f"{what}: {text!r} holds a backslash")
    try:
        text.encode(ENCODING)
    except UnicodeEncodeError as exc:
        bad = text[exc.start : exc.end]
        raise ValueError(
            f"{what}: {text!r} holds {bad!r}, which cannot be written in PC8 (cp437)"
        ) from None
    return '"' + text.replace('"', '\\"') + '"'


def parse_sie(data: bytes) -> list[tuple[str, list[str]]]:
    """Read a SIE file back: one (label, fields) per non-blank line.

    The bytes are decoded as cp437. A field is a run of non-blank characters, a
    quoted string (its quotes removed, `\\"` read as `"`), or an object list
    `{...}` kept whole as written (braces and quotes included). The lines `{`
    and `}` give the labels "{" and "}" with no fields.
    """
    result: list[tuple[str, list[str]]] = []
    for number, line in enumerate(data.decode(ENCODING).splitlines(), start=1):
        tokens = _tokens(line, number)
        if tokens:
            result.append((tokens[0], tokens[1:]))
    return result


def _tokens(line: str, number: int) -> list[str]:
    tokens: list[str] = []
    i, n = 0, len(line)
    while i < n:
        ch = line[i]
        if ch in " \t":
            i += 1
        elif ch == '"':
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise ValueError(f"line {number}: unterminated quoted field")
                if line[i] == "\\" and i + 1 < n and line[i + 1] == '"':
                    chars.append('"')
                    i += 2
                elif line[i] == '"':
                    i += 1
                    break
                else:
                    chars.append(line[i])
                    i += 1
            tokens.append("".join(chars))
        elif ch == "{" and i + 1 < n:
            start = i
            i += 1
            in_quotes = False
            while True:
                if i >= n:
                    raise ValueError(f"line {number}: unterminated object list")
                c = line[i]
                if in_quotes and c == "\\" and i + 1 < n and line[i + 1] == '"':
                    i += 2
                    continue
                if c == '"':
                    in_quotes = not in_quotes
                elif c == "}" and not in_quotes:
                    i += 1
                    break
                i += 1
            tokens.append(line[start:i])
        else:
            start = i
            while i < n and line[i] not in " \t":
                i += 1
            tokens.append(line[start:i])
    return tokens
