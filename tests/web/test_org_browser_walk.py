"""The association's walk in a real browser (Debian's Chromium), signed in with a local
account, the receipt e-mail received by a real SMTP server:

Leila (Samtalsjouren Svartån) saves a draft with one document, comes back, adds the
other two and the statistics and submits; the receipt page and the receipt e-mail name
every file with its SHA-256. Anna sees the report in her work list and returns it for
completion; Leila replaces a document and submits again; Bo, a second officer,
approves and the held payout is released. axe-core checks every organisation page;
the web server's log must hold no traceback.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from pathlib import Path
from typing import Any

from browser_support import axe_violations, chromium_page, screenshot
from live_support import apprise_file, free_port, running_inbox, serving
from web_app import ANNA, BO, LEILA, PASSWORD, REF, now, payout_states, prepared_app

from iop_workflow.notify.delivery import deliver_pending

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
LEILA_MAIL = "leila.haddad@samtalsjouren.example"


def files(folder: Path) -> dict[str, Path]:
    made = {
        "income_statement": ("resultaträkning 2026.pdf", PDF + b"% resultat\n"),
        "balance_sheet": ("balansräkning 2026.pdf", PDF + b"% balans\n"),
        "activity_report": ("verksamhetsberättelse 2026.pdf", PDF + b"% verksamhet\n"),
        "signed": ("balansräkning 2026 signerad.pdf", PDF + b"% balans, signerad\n"),
    }
    paths = {}
    for key, (name, body) in made.items():
        path = folder / name
        path.write_bytes(body)
        paths[key] = path
    return paths


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sign_in(page: Any, url: str, name: str) -> None:
    page.goto(url + "/login")
    page.get_by_label("Användarnamn").fill(name)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def no_serious_violations(page: Any, what: str) -> None:
    found = axe_violations(page)
    assert not found, f"{what}: {found}"


def return_or_approve(page: Any, trigger: str, reason: str | None = None) -> None:
    form = page.locator(f"form[action$='/steps/{trigger}']")
    page.locator("details", has=form).locator("summary").click()
    if reason is not None:
        form.get_by_label("Motivering").fill(reason)
    form.get_by_role("button").click()
    page.wait_for_load_state()
    assert "Steget är taget" in page.locator("main").inner_text()


def test_the_association_hands_in_its_report_and_the_payout_is_released(tmp_path: Path) -> None:
    paths = files(tmp_path)
    with running_inbox() as inbox:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        app = prepared_app(
            tmp_path,
            documents_in=False,
            base_url=url,
            apprise_config=str(apprise_file(tmp_path, inbox)),
            session_secret=secrets.token_urlsafe(32),
        )
        with serving(app, port), chromium_page() as page:
            sign_in(page, url, LEILA)
            main = page.locator("main")
            assert "Mina överenskommelser" in main.inner_text()
            assert "Utbetalningen väntar" in main.inner_text()
            no_serious_violations(page, "Mina överenskommelser")
            screenshot(page, "org-start")

            page.get_by_role("link", name="Lämna verksamhetsrapporten för 2026").click()
            page.get_by_label("Resultaträkning").set_input_files(str(paths["income_statement"]))
            page.get_by_label("individkontakter").fill("410")
            page.get_by_role("button", name="Spara utkast").click()
            page.wait_for_load_state()
            assert "Utkastet är sparat" in main.inner_text()
            no_serious_violations(page, "the report form")

            page.goto(url + "/")  # and comes back later
            page.get_by_role("link", name="Lämna verksamhetsrapporten för 2026").click()
            assert "I utkastet: resultaträkning 2026.pdf" in main.inner_text()
            assert page.get_by_label("individkontakter").input_value() == "410"
            page.get_by_label("Balansräkning").set_input_files(str(paths["balance_sheet"]))
            page.get_by_label("Verksamhetsberättelse").set_input_files(
                str(paths["activity_report"])
            )
            page.get_by_label("unika besökare").fill("160")
            page.get_by_label("informationstillfällen").fill("12")
            screenshot(page, "report-form")
            page.get_by_role("button", name="Lämna in rapporten").click()
            page.wait_for_load_state()
            receipt = main.inner_text()
            assert "Kvittens" in receipt and REF in receipt
            for key in ("income_statement", "balance_sheet", "activity_report"):
                assert paths[key].name in receipt and sha(paths[key]) in receipt
            no_serious_violations(page, "the receipt")
            screenshot(page, "receipt")

            deliver_pending(app.database, now=now(), settings=app.settings)
            mails = inbox.to(LEILA_MAIL)
            assert mails, [str(m["To"]) for m in inbox.messages]
            body = str(mails[-1].get_body(("plain",)).get_content())
            assert "Kvittens" in str(mails[-1]["Subject"])
            for key in ("income_statement", "balance_sheet", "activity_report"):
                assert paths[key].name in body and sha(paths[key]) in body

            page.get_by_role("button", name="Logga ut").click()
            sign_in(page, url, ANNA)
            assert "Årsrapport 2026 inlämnad" in main.inner_text()  # the work list
            page.get_by_role("link", name=REF).first.click()
            return_or_approve(page, "return_follow_up", "Balansräkningen saknar underskrift.")

            page.get_by_role("button", name="Logga ut").click()
            sign_in(page, url, LEILA)
            page.get_by_role("link", name="Lämna verksamhetsrapporten för 2026").click()
            assert "Balansräkningen saknar underskrift." in main.inner_text()
            page.get_by_label("Balansräkning").set_input_files(str(paths["signed"]))
            page.get_by_role("button", name="Lämna in rapporten").click()
            page.wait_for_load_state()
            second = main.inner_text()
            assert "Kvittens" in second and re.search(r"Inlämning\s+2\b", second), second
            assert sha(paths["signed"]) in second

            page.get_by_role("button", name="Logga ut").click()
            sign_in(page, url, BO)
            page.goto(url + f"/agreements/{REF}")
            return_or_approve(page, "approve_follow_up")
            row = page.locator("tr.payout", has_text="2027-04-30")
            assert "Frisläppt" in row.inner_text(), row.inner_text()
        assert payout_states(app.database)["2027-04-30"] == "released"
        app.database.dispose()
