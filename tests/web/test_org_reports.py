"""The organisation hands in its annual report over HTTP as a browser speaks it: a
draft that nobody else sees, the three documents and the statistics, the receipt
(page and notice) naming every file with its SHA-256, a completion request answered
with a second submission, the officers' approval releasing the held payout; and who
gets 404, what is refused and that a refusal stores nothing."""

from __future__ import annotations

import hashlib
import html
import io
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from web_app import ANNA, BO, JOHAN, LEILA, PASSWORD, REF, agreement_id, payout_states, prepared_app

from iop_workflow.adapters import tables as t
from iop_workflow.bootstrap import App
from iop_workflow.entrypoints.web.app import create_app
from iop_workflow.service.views import agreement_audit

SVEN = "Sven Ek"  # represents another organisation of Mjölby
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def docx() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return out.getvalue()


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = prepared_app(tmp_path_factory.mktemp("org"), documents_in=False, max_document_mb=1)
    yield app
    app.database.dispose()


def client(product: App, name: str) -> TestClient:
    browser = TestClient(create_app(product), base_url="http://127.0.0.1")
    token = csrf(browser.get("/login").text)
    data = {"username": name, "password": PASSWORD, "csrf_token": token}
    assert browser.post("/login", data=data, follow_redirects=False).status_code == 303
    return browser


def csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found
    return found.group(1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def post_report(
    browser: TestClient,
    path: str,
    *,
    action: str,
    files: dict[str, tuple[str, bytes]] | None = None,
    counts: dict[str, str] | None = None,
) -> object:
    token = csrf(browser.get(path).text)
    data = {"csrf_token": token, "action": action}
    data.update({f"statistics.{k}": v for k, v in (counts or {}).items()})
    upload = {
        f"file.{k}": (name, body, "application/octet-stream")
        for k, (name, body) in (files or {}).items()
    }
    return browser.post(path, data=data, files=upload or None, follow_redirects=False)


def report_files(app: App) -> list[dict[str, object]]:
    with app.database.read() as s:
        return [
            dict(r._mapping)
            for r in s.execute(sa.select(t.report_files).order_by(t.report_files.c.id))
        ]


def stored(app: App) -> list[Path]:
    return [p for p in Path(app.settings.document_dir or "").rglob("*") if p.is_file()]


COUNTS = {"individkontakter": "410", "unika besökare": "160", "informationstillfällen": "12"}
FILES = {
    "income_statement": ("resultaträkning 2026.pdf", PDF),
    "balance_sheet": ("balansräkning 2026.pdf", PDF + b"% balans\n"),
    "activity_report": ("verksamhetsberättelse 2026.docx", docx()),
}


def test_the_start_page_says_why_the_payout_waits(product: App) -> None:
    shown = text_of(client(product, LEILA).get("/").text)
    assert "Mina överenskommelser" in shown and REF in shown
    assert "Utbetalningen väntar: uppföljningen för 2026 är öppen" in shown
    assert "Lämna verksamhetsrapporten för 2026" in shown


def test_refused_uploads_say_why_and_store_nothing(product: App) -> None:
    leila = client(product, LEILA)
    path = f"/agreements/{agreement_id(product.database)}/reports/2026"
    before, files_before = report_files(product), stored(product)
    too_big = post_report(
        leila, path, action="save", files={"income_statement": ("stor.pdf", PDF + b"0" * 1_100_000)}
    )
    assert too_big.status_code == 422  # type: ignore[attr-defined]
    assert "största tillåtna storlek är 1 MB" in too_big.text  # type: ignore[attr-defined]
    program = post_report(
        leila, path, action="save", files={"balance_sheet": ("b.pdf", b"MZ\x90\x00")}
    )
    assert program.status_code == 422 and "'b.pdf'" in text_of(program.text)  # type: ignore[attr-defined]
    named = post_report(
        leila, path, action="save", files={"balance_sheet": ("Ek 121212-1212.pdf", PDF)}
    )
    assert named.status_code == 422 and "personnummer" in named.text  # type: ignore[attr-defined]
    counted = post_report(leila, path, action="save", counts={"individkontakter": "19121212-1212"})
    assert counted.status_code == 422 and "personnummer" in counted.text  # type: ignore[attr-defined]
    assert report_files(product) == before and stored(product) == files_before


def test_a_draft_is_the_organisations_until_it_is_submitted(product: App) -> None:
    leila = client(product, LEILA)
    key = agreement_id(product.database)
    path = f"/agreements/{key}/reports/2026"
    saved = post_report(
        leila,
        path,
        action="save",
        files=dict(list(FILES.items())[:1]),
        counts={"individkontakter": "410"},
    )
    assert saved.status_code == 303  # type: ignore[attr-defined]
    again = text_of(client(product, LEILA).get(path).text)  # comes back another day
    assert "I utkastet: resultaträkning 2026.pdf" in again
    assert 'value="410"' in client(product, LEILA).get(path).text
    draft = report_files(product)[-1]
    # The officer sees nothing of it: not on the page, not as a download.
    anna = client(product, ANNA)
    assert "resultaträkning 2026.pdf" not in anna.get(f"/agreements/{key}").text
    assert anna.get(f"/agreements/{key}/documents/{draft['id']}").status_code == 404


def test_submit_return_complete_approve(product: App) -> None:
    key = agreement_id(product.database)
    path = f"/agreements/{key}/reports/2026"
    leila = client(product, LEILA)
    handed = post_report(leila, path, action="submit", files=FILES, counts=COUNTS)
    assert handed.status_code == 303, handed.text  # type: ignore[attr-defined]
    receipt_path = handed.headers["location"]  # type: ignore[attr-defined]
    receipt = text_of(leila.get(receipt_path).text)
    for name, body in FILES.values():
        assert name in receipt and hashlib.sha256(body).hexdigest() in receipt
    assert REF in receipt
    with product.database.read() as s:
        kinds = list(
            s.scalars(
                sa.select(t.notifications.c.kind).where(t.notifications.c.agreement_id == key)
            )
        )
    assert "report_received" in kinds
    audit = agreement_audit(product.database, REF)
    steps = [(r["trigger"], r["actor"], r["channel"]) for r in audit[-5:]]
    assert ("submit_report", LEILA, "web") in steps
    assert sum(1 for s in steps if s[0] == "receive_document") == 4  # three files and the counts

    # Every file can be fetched by the officer, and the fetch is in the audit trail.
    anna = client(product, ANNA)
    first = [f for f in report_files(product) if f["submission"] == 1][0]
    fetched = anna.get(f"/agreements/{key}/documents/{first['id']}")
    assert (
        fetched.status_code == 200
        and hashlib.sha256(fetched.content).hexdigest() == first["sha256"]
    )
    assert "attachment" in fetched.headers["content-disposition"]
    assert agreement_audit(product.database, REF)[-1]["trigger"] == "download_document"

    # Returned for completion: the organisation sees why, replaces one file, submits again.
    page = anna.get(f"/agreements/{key}").text
    start = page.index("/steps/return_follow_up")
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    returned = anna.post(
        f"/agreements/{key}/steps/return_follow_up",
        data={**hidden, "reason": "Balansräkningen saknar underskrift."},
        follow_redirects=False,
    )
    assert returned.status_code == 303, returned.text
    shown = text_of(leila.get(path).text)
    assert "Balansräkningen saknar underskrift." in shown
    signed = {"balance_sheet": ("balansräkning 2026 signerad.pdf", PDF + b"% signerad\n")}
    second = post_report(leila, path, action="submit", files=signed, counts=COUNTS)
    assert second.status_code == 303  # type: ignore[attr-defined]
    assert second.headers["location"].endswith("/receipts/2")  # type: ignore[attr-defined]
    versions = [(f["kind"], f["submission"]) for f in report_files(product) if f["submission"]]
    assert ("balance_sheet", 1) in versions and ("balance_sheet", 2) in versions  # both kept

    # A second officer approves; the held payout goes out.
    bo = client(product, BO)
    page = bo.get(f"/agreements/{key}").text
    start = page.index("/steps/approve_follow_up")
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    approved = bo.post(
        f"/agreements/{key}/steps/approve_follow_up", data=hidden, follow_redirects=False
    )
    assert approved.status_code == 303, approved.text
    assert payout_states(product.database)["2027-04-30"] == "released"


def test_another_organisation_or_municipality_gets_404_everywhere(product: App) -> None:
    key = agreement_id(product.database)
    ids = [f["id"] for f in report_files(product)]
    assert ids
    for name in (SVEN, JOHAN):
        other = client(product, name)
        paths = [
            f"/agreements/{key}",
            f"/agreements/{key}/reports/2026",
            f"/agreements/{key}/reports/2026/receipts/1",
            *(f"/agreements/{key}/documents/{i}" for i in ids),
        ]
        for path in paths:
            answer = other.get(path)
            assert answer.status_code == 404, (name, path)
            assert "SHA-256" not in answer.text
