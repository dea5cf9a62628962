"""What an organisation may upload with its annual report, and what it may not write.

The type of a file is read from its content, never from its name: a name is whatever the
sender typed, and a browser or a mail client opens a file by its name. So the name's
extension must agree with the content, or a PDF named `.png` (or a program named `.pdf`)
would reach a reader who trusts the name.

The messages are read by an association's treasurer on a web page: Swedish, one problem
each, naming the file.

Reports carry counted numbers only. A personnummer in a text field or a file name is
refused rather than stored, since once stored it would be personal data in every backup.
"""

from __future__ import annotations

import io
import math
import re
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

from personnummer import personnummer

from .errors import InvalidInput


@dataclass(frozen=True)
class DocumentType:
    mime: str
    label: str  # what the treasurer calls it
    extensions: tuple[str, ...]  # lower case, without the dot; the first is the usual one


_PDF = "application/pdf"
_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ODT = "application/vnd.oasis.opendocument.text"
_ODS = "application/vnd.oasis.opendocument.spreadsheet"
_PNG = "image/png"
_JPEG = "image/jpeg"

ALLOWED: Final[Mapping[str, DocumentType]] = MappingProxyType(
    {
        t.mime: t
        for t in (
            DocumentType(_PDF, "PDF", ("pdf",)),
            DocumentType(_DOCX, "Word (docx)", ("docx",)),
            DocumentType(_XLSX, "Excel (xlsx)", ("xlsx",)),
            DocumentType(_ODT, "OpenDocument-text (odt)", ("odt",)),
            DocumentType(_ODS, "OpenDocument-kalkyl (ods)", ("ods",)),
            DocumentType(_PNG, "PNG", ("png",)),
            DocumentType(_JPEG, "JPEG", ("jpg", "jpeg")),
        )
    }
)
_ALLOWED_TEXT = "PDF, Word (docx), Excel (xlsx), OpenDocument (odt, ods), PNG, JPEG"

DEFAULT_MAX_BYTES: Final = 20 * 1024 * 1024
MAX_NAME_CHARS: Final = 200

_MB = 1024 * 1024
_ZIP = b"PK\x03\x04"
# What zipfile raises for a truncated or damaged archive (NotImplementedError: a
# compression method it cannot read, which no ordinary document uses).
_CORRUPT_ZIP = (
    zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError, NotImplementedError,
)  # fmt: skip
# An ODF `mimetype` member holds just the type; a larger one is not worth reading.
_MIMETYPE_MAX = 100


def check_upload(
    filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, field: str = "file"
) -> str:
    """The MIME type of an upload we accept, or InvalidInput saying what is wrong."""

    def refuse(message: str) -> InvalidInput:
        return InvalidInput(message, field=field)

    _check_name(filename, field)
    if not data:
        raise refuse(f"Filen '{filename}' är tom")
    if len(data) > max_bytes:
        raise refuse(
            f"Filen '{filename}' är {_size(len(data), up=True)}; "
            f"största tillåtna storlek är {_size(max_bytes, up=False)}"
        )
    try:
        kind = _sniff(data)
    except _CORRUPT_ZIP:
        raise refuse(f"Filen '{filename}' är skadad och går inte att öppna") from None
    if kind is None:
        raise refuse(
            f"Filen '{filename}' är av en typ som inte tas emot (tillåtna: {_ALLOWED_TEXT})"
        )
    doc = ALLOWED[kind]
    stem, dot, extension = filename.rpartition(".")
    if not (dot and stem) or extension.lower() not in doc.extensions:
        raise refuse(
            f"Filen '{filename}' har innehåll av typen {doc.label}, men namnet slutar inte "
            f"på .{doc.extensions[0]}; byt namn på filen eller välj rätt fil"
        )
    return doc.mime


def _check_name(filename: str, field: str) -> None:
    if not filename.strip():
        raise InvalidInput("Filen saknar namn", field=field)
    if len(filename) > MAX_NAME_CHARS:
        raise InvalidInput(
            f"Filnamnet är {len(filename)} tecken långt; högst {MAX_NAME_CHARS} tecken tas emot",
            field=field,
        )
    # Not echoed: a control character can hide or rewrite what the page shows.
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in filename):
        raise InvalidInput("Filnamnet innehåller otillåtna tecken (styrtecken)", field=field)
    if "/" in filename or "\\" in filename:
        raise InvalidInput(
            f"Filnamnet '{filename}' innehåller '/' eller '\\'; ange bara filens namn, utan mappar",
            field=field,
        )
    if find_personnummer(filename) is not None:
        raise InvalidInput(
            "Filnamnet innehåller ett personnummer; ta bort det ur namnet och försök igen",
            field=field,
        )


def _sniff(data: bytes) -> str | None:
    """The MIME type the content shows, or None; a broken zip raises one of _CORRUPT_ZIP."""
    if data.startswith(b"%PDF-"):
        return _PDF
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return _PNG
    if data.startswith(b"\xff\xd8\xff"):
        return _JPEG
    if data.startswith(_ZIP):
        return _sniff_zip(data)
    return None


def _sniff_zip(data: bytes) -> str | None:
    # Only the central directory and the tiny `mimetype` member are read: the members
    # are not unpacked, so a zip bomb costs nothing here.
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = archive.infolist()
        if not members:
            return None
        first = members[0]
        if first.filename == "mimetype" and first.file_size <= _MIMETYPE_MAX:
            mimetype = archive.read(first).decode("ascii", "replace").strip()
            return mimetype if mimetype in (_ODT, _ODS) else None
        names = [m.filename for m in members]
        if "[Content_Types].xml" not in names:
            return None
        word = any(n.startswith("word/") for n in names)
        excel = any(n.startswith("xl/") for n in names)
        if word == excel:  # neither, or both: not a document we know how to name
            return None
        return _DOCX if word else _XLSX


def _size(n: int, *, up: bool) -> str:
    """`25,3 MB` or `512 kB`; a file's size rounds up, so one just over the limit never
    shows the limit's own number."""
    unit, scale = ("MB", _MB) if n >= _MB else ("kB", 1024)
    value = n / scale
    if value == int(value):
        return f"{int(value)} {unit}"
    value = (math.ceil if up else math.floor)(value * 10) / 10
    return f"{value:.1f} {unit}".replace(".", ",")


# 12 digits (century 18, 19 or 20) or 10, a `-` or `+` allowed before the last four.
# The lookarounds keep a piece of a longer number (an account, an invoice number) out.
_CANDIDATE = re.compile(r"(?<![0-9])(?:(?:18|19|20)[0-9]{6}|[0-9]{6})[-+]?[0-9]{4}(?![0-9])")


def find_personnummer(text: str) -> str | None:
    """The first valid personnummer or samordningsnummer in `text`, as written there.

    The package checks the Luhn digit and the date (a samordningsnummer's day is the
    day + 60). An organisationsnummer has a month of 20 or more, so it is no date and is
    not reported.
    """
    for match in _CANDIDATE.finditer(text):
        if personnummer.valid(match.group()):
            return match.group()
    return None


def refuse_personnummer(text: str, field: str) -> None:
    # The number is not repeated: the message may end up in a log or on a screen.
    if find_personnummer(text) is not None:
        raise InvalidInput(
            "Fältet innehåller ett personnummer. Uppgifterna ska vara sammanräknade antal, "
            "utan personuppgifter: ta bort personnumret och försök igen.",
            field=field,
        )
