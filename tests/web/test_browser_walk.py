"""The officers' walk in a real browser (Debian's Chromium), signed in through a real
OpenID Connect provider (node oidc-provider on loopback), from the link in a reminder a
real SMTP server received:

Anna opens the blocked-payout reminder's link, signs in at the provider, lands on the
agreement, registers the association's report and is refused when she approves it
herself; Bo, a second officer, approves it and the held payout shows as released.
Every page type is checked with axe-core (no serious or critical violation) and
photographed into docs/screenshots/. The web server's log must hold no traceback.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import axe_violations, chromium_page, screenshot
from live_support import Inbox, WebServer, apprise_file, free_port, running_inbox, serving
from oidc_support import running_oidc_provider
from web_app import ANNA, BO, KARIN, REF, now, payout_states, prepared_app

from iop_workflow.notify.delivery import deliver_pending

ACCOUNTS = [
    {
        "sub": "anna-0001",
        "email": "anna.berg@mjolby.example",
        "name": ANNA,
        "password": "anna-pw-1",
    },
    {"sub": "bo-0002", "email": "bo.lind@mjolby.example", "name": BO, "password": "bo-pw-2"},
    {
        "sub": "karin-0003",
        "email": "karin.lund@mjolby.example",
        "name": KARIN,
        "password": "k-pw-3",
    },
]
PASSWORDS = {a["name"]: (a["email"], a["password"]) for a in ACCOUNTS}


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    with running_inbox() as box:
        yield box


@pytest.fixture
def web(tmp_path: Path, inbox: Inbox) -> Iterator[WebServer]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running_oidc_provider(ACCOUNTS, f"{url}/auth/callback") as provider:
        app = prepared_app(
            tmp_path,
            base_url=url,
            apprise_config=str(apprise_file(tmp_path, inbox)),
            auth_mode="oidc",
            oidc_issuer=provider.issuer,
            oidc_client_id=provider.client_id,
            oidc_client_secret=provider.client_secret,
            session_secret=secrets.token_urlsafe(32),
        )
        with serving(app, port) as server:
            yield server
        app.database.dispose()


def reminder_link(inbox: Inbox, address: str, base_url: str) -> str:
    mails = [m for m in inbox.messages if address in str(m["To"])]
    assert mails, f"no e-mail to {address}; got {[str(m['To']) for m in inbox.messages]}"
    body = str(mails[-1].get_body(("plain",)).get_content())
    found = re.search(re.escape(base_url) + r"/agreements/\d+", body)
    assert found, body
    return found.group(0)


def sign_in_at_provider(page: Any, name: str) -> None:
    """The provider's own login form (tests/web_support/oidc_provider.mjs)."""
    page.get_by_role("link", name="Logga in via kommunens inloggningstjänst").click()
    email, password = PASSWORDS[name]
    page.fill("#login", email)
    page.fill("#password", password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def open_step(page: Any, trigger: str) -> Any:
    """Unfold the step's form (each is a <details>, as a person clicks it open) and give it."""
    form = page.locator(f"form[action$='/steps/{trigger}']")
    page.locator("details", has=form).locator("summary").click()
    return form


def no_serious_violations(page: Any, what: str) -> None:
    found = axe_violations(page)
    assert not found, f"{what}: {found}"


def test_officers_act_on_the_reminders_link_and_the_held_payout_is_released(
    web: WebServer, inbox: Inbox
) -> None:
    db = web.app.database
    assert payout_states(db)["2027-04-30"] == "blocked"
    deliver_pending(db, now=now(), settings=web.app.settings)
    link = reminder_link(inbox, "anna.berg@mjolby.example", web.url)

    with chromium_page() as page:
        page.goto(link)
        assert "/login" in page.url
        no_serious_violations(page, "the login page")
        screenshot(page, "login")
        sign_in_at_provider(page, ANNA)
        assert page.url == link, page.url
        assert REF in page.locator("h1").inner_text()
        no_serious_violations(page, "the agreement page")
        screenshot(page, "agreement")

        form = open_step(page, "submit_report")
        form.locator("textarea[name=statistics]").fill(
            "individkontakter=410\nunika besökare=160\ninformationstillfällen=12"
        )
        form.get_by_role("button").click()
        page.wait_for_load_state()
        assert "Steget är taget" in page.locator("main").inner_text()

        open_step(page, "approve_follow_up").get_by_role("button").click()
        page.wait_for_load_state()
        refusal = page.locator("[role=alert]").first.inner_text()
        assert "Steget nekades" in refusal and "submitted" in refusal, refusal
        no_serious_violations(page, "a refused step")
        screenshot(page, "step-refused")
        assert payout_states(db)["2027-04-30"] == "blocked"

        page.goto(web.url + "/")
        assert "Mina ärenden" in page.locator("h1").inner_text()
        no_serious_violations(page, "the work list")
        screenshot(page, "work-list")
        page.goto(web.url + "/search?q=Samtalsjouren")
        assert REF in page.locator("main").inner_text()
        no_serious_violations(page, "search")
        screenshot(page, "search")
        page.goto(web.url + "/calendar")
        page.get_by_role("button", name="Skapa ny kalenderadress").click()
        address = page.locator("#adress").input_value()
        assert address.startswith(web.url + "/calendar/") and address.endswith(".ics")
        no_serious_violations(page, "the calendar page")
        screenshot(page, "calendar")
        page.goto(web.url + "/agreements/999999")
        no_serious_violations(page, "the not-found page")

    with chromium_page() as page:
        page.goto(link)
        sign_in_at_provider(page, BO)
        open_step(page, "approve_follow_up").get_by_role("button").click()
        page.wait_for_load_state()
        assert "Steget är taget" in page.locator("main").inner_text()
        row = page.locator("tr.payout", has_text="2027-04-30")
        assert "Frisläppt" in row.inner_text(), row.inner_text()
        screenshot(page, "payout-released")
    assert payout_states(db)["2027-04-30"] == "released"

    with chromium_page() as page:
        page.goto(web.url + "/portfolio")
        sign_in_at_provider(page, KARIN)
        assert "Portfölj" in page.locator("h1").inner_text()
        assert page.locator("svg[role=img]").count() == 1
        no_serious_violations(page, "the portfolio")
        screenshot(page, "portfolio")
