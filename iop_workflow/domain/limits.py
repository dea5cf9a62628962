"""What input the product accepts at all, declared once.

The column lengths are the tables' own (adapters/tables.py builds its VARCHAR columns
from these numbers), so the import and the steps refuse text that a column could not
hold, with the same message on SQLite (which would store it) and on PostgreSQL (which
would fail). Pure: no SQLAlchemy here, the domain must not depend on it.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date

# --- column lengths (characters) ---------------------------------------------------

NAME = 200  # people and organisation names, and people referred to by name
EMAIL = 320  # the longest address RFC 5321 allows
PHONE = 40
MUNICIPALITY = 64  # a preset key (mjolby)
DIARIENUMMER = 64
TITLE = 300
CRITERION = 100  # a criterion key of the policy
PARAGRAPH = 32  # "§ 201" of a decision or an amendment
PARTY = 32  # "municipality" or an organisationsnummer
REGISTER_REF = 100  # the föreningsregister's reference
FILENAME = 200  # an uploaded document's file name
# Free text (purpose, reason, motivation, ...) is stored as TEXT, which has no length in
# either database; this limit is the product's: about five pages.
LONG_TEXT = 10_000
# A count (hours, visitors of a follow-up's statistics): JSON and INTEGER hold it.
MAX_COUNT = 10**9

# --- days ------------------------------------------------------------------------------

# Every business day, date of an agreement or input day lies in this range. Far outside
# any agreement is a typing mistake (9999 for 1999); and the date arithmetic (a period
# plus five years, a follow-up of year Y due in Y + 1, reminders 30 days before, a
# simulation of the days after) must never run past what datetime.date can hold
# (0001-01-01 … 9999-12-31): two centuries around today leave that arithmetic room.
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2199, 12, 31)
# A support or follow-up year: its report is due the year after, still inside the range.
FIRST_YEAR, LAST_YEAR = FIRST_DAY.year, LAST_DAY.year - 1


def day_problem(day: date) -> str | None:
    """Why `day` is not a day the product computes with, or None."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"{day.isoformat()} is outside the supported range {FIRST_DAY} – {LAST_DAY}"


def year_problem(year: int) -> str | None:
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return f"{year} is outside the supported years {FIRST_YEAR}–{LAST_YEAR}"


# --- text ----------------------------------------------------------------------------------

# Half of a UTF-16 pair on its own is not a character: no database, file or terminal
# takes it. Python makes one of every byte that is not UTF-8 on the command line.
_SURROGATE = re.compile("[\ud800-\udfff]")


def text_problem(text: str, limit: int | None = LONG_TEXT) -> str | None:
    """Why `text` cannot be stored, or None: a NUL character (PostgreSQL refuses it,
    C code stops reading at it), a lone surrogate, or more than `limit` characters."""
    if "\0" in text:
        return "contains a NUL character (U+0000)"
    bad = _SURROGATE.search(text)
    if bad is not None:
        return (
            f"contains U+{ord(bad.group()):04X}, which is not a character (a lone "
            "surrogate: bytes that are not UTF-8?)"
        )
    if limit is not None and len(text) > limit:
        return f"is {len(text)} characters long; at most {limit} are allowed"
    return None


# --- names that belong to the product --------------------------------------------------

# The scheduled flows act as "system" (roles.SYSTEM_ACTOR) and the importer writes
# "import" as the actor of what it records (service/importer.py); a person with either
# name would act as the product itself in the audit trail.
RESERVED_NAMES = ("system", "import")


def is_reserved_name(name: str) -> bool:
    """Whether `name` is one of `RESERVED_NAMES`, in any case or width."""
    return unicodedata.normalize("NFKC", name).strip().casefold() in RESERVED_NAMES


def reserved_name_problem(name: str) -> str | None:
    if not is_reserved_name(name):
        return None
    names = " and ".join(f"'{n}'" for n in RESERVED_NAMES)
    return (
        f"'{name.strip()}' is reserved: {names} are the names the product itself acts and "
        "imports under"
    )


# --- agreement references ----------------------------------------------------------------

ID_MARK = "#"  # REF "#12" is always the agreement with id 12
_MAX_ID = 2**31 - 1  # an INTEGER primary key on both backends


def id_in_ref(ref: str) -> int | None:
    """The agreement id that REF names, or None when REF can only be a diarienummer.

    `#12` and, as before, plain `12` (ASCII digits) are ids; an id past the largest
    key names no agreement (-1), rather than overflowing the database's integer.
    """
    text = ref.strip()
    digits = text.removeprefix(ID_MARK)
    if not (digits.isascii() and digits.isdigit()):
        return None
    return int(digits) if len(digits) <= 10 and int(digits) <= _MAX_ID else -1


def diarienummer_problem(diarienummer: str) -> str | None:
    """Why `diarienummer` would be ambiguous as a REF, or None."""
    text = diarienummer.strip()
    if text.isdigit():
        return (
            f"'{text}' is only digits, which REF reads as an agreement id; a diarienummer "
            "names its register and year too (e.g. 'OSN 2026/0142')"
        )
    if text.startswith(ID_MARK):
        return f"'{text}' starts with '{ID_MARK}', which REF reserves for an agreement id (#12)"
    return None
