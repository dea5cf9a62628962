"""domain/upload_rules.py: the type of an upload is read from its bytes, and a
personnummer is refused wherever a treasurer might type one."""

from __future__ import annotations

import io
import zipfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from iop_workflow.domain.errors import InvalidInput
from iop_workflow.domain.upload_rules import (
    ALLOWED,
    DEFAULT_MAX_BYTES,
    check_upload,
    find_personnummer,
    refuse_personnummer,
)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 17
JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 16 + b"\xff\xd9"
EXE_BYTES = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 56 + b"This program cannot be run in DOS"


def zip_of(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in members:
            compress = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, content, compress_type=compress)
    return buffer.getvalue()


def ooxml(part: str) -> bytes:
    return zip_of(
        [
            ("[Content_Types].xml", b'<?xml version="1.0"?><Types/>'),
            ("_rels/.rels", b"<Relationships/>"),
            (part, b"<document/>"),
        ]
    )


def odf(mimetype: str) -> bytes:
    return zip_of(
        [
            ("mimetype", mimetype.encode("ascii")),
            ("META-INF/manifest.xml", b"<manifest/>"),
            ("content.xml", b"<office:document-content/>"),
        ]
    )


def refusal(
    filename: str, data: bytes, *, max_bytes: int = DEFAULT_MAX_BYTES, field: str = "file"
) -> InvalidInput:
    with pytest.raises(InvalidInput) as caught:
        check_upload(filename, data, max_bytes=max_bytes, field=field)
    return caught.value


def luhn_digit(nine: str) -> str:
    total = 0
    for i, ch in enumerate(nine):
        n = int(ch) * (2 - i % 2)
        total += n - 9 if n > 9 else n
    return str((10 - total % 10) % 10)


def personnummer_of(yymmdd: str, birth_number: str) -> str:
    """A valid YYMMDD-NNNN for the date (day + 60 for a samordningsnummer)."""
    return f"{yymmdd}-{birth_number}{luhn_digit(yymmdd + birth_number)}"


# --- accepted types -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "data", "mime"),
    [
        ("årsredovisning.pdf", PDF_BYTES, "application/pdf"),
        ("Verksamhetsberättelse.DOCX", ooxml("word/document.xml"), DOCX),
        ("budget.xlsx", ooxml("xl/workbook.xml"), XLSX),
        ("berättelse.odt", odf(ODT), ODT),
        ("räkenskaper.ods", odf(ODS), ODS),
        ("kvitto.png", PNG_BYTES, "image/png"),
        ("foto.jpg", JPEG_BYTES, "image/jpeg"),
        ("foto.jpeg", JPEG_BYTES, "image/jpeg"),
    ],
)
def test_accepted_types_give_their_mime_type(filename: str, data: bytes, mime: str) -> None:
    assert check_upload(filename, data) == mime
    assert mime in ALLOWED


# --- refused content ------------------------------------------------------------------


def test_a_program_is_refused_naming_the_file_and_the_allowed_types() -> None:
    error = refusal("x.exe", EXE_BYTES)
    assert error.field == "file"
    assert error.detail == (
        "Filen 'x.exe' är av en typ som inte tas emot "
        "(tillåtna: PDF, Word (docx), Excel (xlsx), OpenDocument (odt, ods), PNG, JPEG)"
    )


def test_a_program_named_pdf_is_refused_by_its_content() -> None:
    assert (
        "Filen 'faktura.pdf' är av en typ som inte tas emot"
        in refusal("faktura.pdf", EXE_BYTES).detail
    )


def test_a_text_file_renamed_pdf_is_refused() -> None:
    error = refusal("rapport.pdf", "Årsrapport för föreningen\n".encode())
    assert "Filen 'rapport.pdf' är av en typ som inte tas emot" in error.detail


def test_a_zip_that_is_no_office_document_is_refused() -> None:
    data = zip_of([("notes.txt", b"hej")])
    assert "är av en typ som inte tas emot" in refusal("arkiv.docx", data).detail


def test_an_odf_zip_of_another_kind_is_refused() -> None:
    data = odf("application/vnd.oasis.opendocument.presentation")
    assert "är av en typ som inte tas emot" in refusal("bilder.odt", data).detail


def test_a_truncated_zip_is_refused_as_damaged() -> None:
    data = ooxml("word/document.xml")[:-30]
    assert refusal("berättelse.docx", data).detail == (
        "Filen 'berättelse.docx' är skadad och går inte att öppna"
    )


def test_the_field_is_the_one_given() -> None:
    assert refusal("x.exe", EXE_BYTES, field="bilaga").field == "bilaga"


@pytest.mark.parametrize(
    ("filename", "data", "says"),
    [
        ("bild.png", PDF_BYTES, "av typen PDF, men namnet slutar inte på .pdf"),
        ("rapport.pdf", PNG_BYTES, "av typen PNG, men namnet slutar inte på .png"),
        ("budget.docx", ooxml("xl/workbook.xml"), "av typen Excel (xlsx)"),
        ("rapport", PDF_BYTES, "av typen PDF"),
        (".pdf", PDF_BYTES, "av typen PDF"),
    ],
)
def test_an_extension_that_disagrees_with_the_content_is_refused(
    filename: str, data: bytes, says: str
) -> None:
    detail = refusal(filename, data).detail
    assert detail.startswith(f"Filen '{filename}' har innehåll")
    assert says in detail


# --- size -----------------------------------------------------------------------------


def test_an_empty_file_is_refused() -> None:
    assert refusal("a.pdf", b"").detail == "Filen 'a.pdf' är tom"


def test_a_file_over_the_limit_is_refused_with_both_sizes() -> None:
    data = PDF_BYTES + b"\x00" * (int(25.3 * 1024 * 1024) - len(PDF_BYTES))
    assert refusal("a.pdf", data).detail == (
        "Filen 'a.pdf' är 25,3 MB; största tillåtna storlek är 20 MB"
    )


def test_one_byte_over_the_limit_never_shows_the_limit_as_the_size() -> None:
    data = PDF_BYTES.ljust(DEFAULT_MAX_BYTES + 1, b"\x00")
    assert refusal("a.pdf", data).detail == (
        "Filen 'a.pdf' är 20,1 MB; största tillåtna storlek är 20 MB"
    )


def test_a_file_at_the_limit_is_accepted() -> None:
    assert check_upload("a.pdf", PDF_BYTES.ljust(1000, b"\x00"), max_bytes=1000) == (
        "application/pdf"
    )
    assert (
        "största tillåtna storlek är 0,9 kB"
        in refusal("a.pdf", PDF_BYTES.ljust(1001, b"\x00"), max_bytes=1000).detail
    )


# --- names ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filename", "says"),
    [
        ("", "Filen saknar namn"),
        ("   ", "Filen saknar namn"),
        ("a" * 197 + ".pdf", "Filnamnet är 201 tecken långt; högst 200 tecken tas emot"),
        ("../../etc/passwd.pdf", "innehåller '/' eller '\\'"),
        ("C:\\Users\\kassör\\rapport.pdf", "innehåller '/' eller '\\'"),
        ("rapport\x00.pdf", "Filnamnet innehåller otillåtna tecken (styrtecken)"),
        ("rapport\n.pdf", "otillåtna tecken"),
        ("rapport\u202efdp.exe", "otillåtna tecken"),  # right-to-left override
    ],
)
def test_bad_names_are_refused(filename: str, says: str) -> None:
    assert says in refusal(filename, PDF_BYTES).detail


def test_a_name_of_200_characters_is_accepted() -> None:
    assert check_upload("a" * 196 + ".pdf", PDF_BYTES) == "application/pdf"


def test_a_name_with_a_personnummer_is_refused_without_echoing_it() -> None:
    detail = refusal("intyg 121212-1212.pdf", PDF_BYTES).detail
    assert "personnummer" in detail
    assert "1212" not in detail


# --- personnummer ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "number",
    [
        "19121212-1212",
        "191212121212",
        "121212-1212",
        "1212121212",
        "121212+1212",  # a hundred years old or more
        personnummer_of("850709", "980"),
        personnummer_of("701063", "239"),  # samordningsnummer: 3 October + 60
    ],
)
def test_a_valid_personnummer_is_found_in_text(number: str) -> None:
    assert find_personnummer(f"Kontaktperson: Anna, {number}, kassör") == number
    assert find_personnummer(number) == number


def test_the_generated_numbers_are_what_the_test_says() -> None:
    assert personnummer_of("121212", "121") == "121212-1212"  # the well-known test number
    assert personnummer_of("701063", "239") == "701063-2391"  # Skatteverket's example


def test_the_first_valid_one_is_returned() -> None:
    assert find_personnummer("121212-1213 och 121212-1212 och 19121212-1212") == "121212-1212"


@pytest.mark.parametrize(
    "text",
    [
        "121212-1213",  # wrong check digit
        "19121212-1213",
        "121232-1212",  # no 32nd day (nor a samordningsnummer)
        "121292-1219",  # day 92 = 32 + 60
        "802471-3052",  # organisationsnummer
        "802503-9176",
        "8024713052",
        "16802471-3052",
        "1121212-1212",  # a longer run of digits
        "121212-12124",
        "9919121212-1212",
        "abc 19121212-12123",
        "12121-21212",
        "121212 1212",
        "Vi var 45 deltagare och 12 ledare den 12/12.",
        "",
    ],
)
def test_no_personnummer_is_found(text: str) -> None:
    assert find_personnummer(text) is None


@pytest.mark.parametrize("orgnr", ["802471-3052", "802503-9176"])
def test_an_organisationsnummer_has_a_valid_check_digit_but_is_no_personnummer(
    orgnr: str,
) -> None:
    # The Luhn digit is right, so only the month (20 or more) keeps it out.
    digits = orgnr.replace("-", "")
    assert luhn_digit(digits[:9]) == digits[9]
    assert find_personnummer(f"Föreningen {orgnr} söker bidrag") is None
    refuse_personnummer(orgnr, "beskrivning")


def test_refuse_personnummer_names_the_field_and_says_why() -> None:
    with pytest.raises(InvalidInput) as caught:
        refuse_personnummer("Deltagare: Kalle 19121212-1212", "deltagare")
    assert caught.value.field == "deltagare"
    assert caught.value.detail == (
        "Fältet innehåller ett personnummer. Uppgifterna ska vara sammanräknade antal, "
        "utan personuppgifter: ta bort personnumret och försök igen."
    )
    assert "1212" not in str(caught.value)


def test_refuse_personnummer_lets_counts_through() -> None:
    refuse_personnummer("32 flickor, 28 pojkar, 1 240 deltagartimmar", "deltagare")


@given(st.text(alphabet=st.characters(categories=["L"], include_characters=" ")))
def test_letters_and_spaces_hold_no_personnummer(text: str) -> None:
    assert find_personnummer(text) is None
