"""The pages over HTTP as a browser speaks it: signing in (CSRF, throttle, deactivated
people), the session cookie and security headers, who sees which agreement, step forms
with inline refusals and stale pages. The real-browser walk is in test_browser_walk.py."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from web_app import (
    ANNA,
    BO,
    JOHAN,
    KARIN,
    LEILA,
    MARIA,
    PASSWORD,
    PER,
    REF,
    agreement_id,
    now,
    payout_states,
    prepared_app,
)

from iop_workflow.bootstrap import App
from iop_workflow.entrypoints.web.app import create_app
from iop_workflow.service.people_register import deactivate_person
from iop_workflow.service.views import agreement_audit


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = prepared_app(tmp_path_factory.mktemp("pages"))
    yield app
    app.database.dispose()


@pytest.fixture
def browser(product: App) -> Iterator[TestClient]:
    """A fresh browser: no cookies."""
    with TestClient(create_app(product), base_url="http://127.0.0.1") as found:
        yield found


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD) -> object:
    token = csrf_of(client.get("/login").text)
    data = {"username": name, "password": password, "csrf_token": token}
    return client.post("/login", data=data, follow_redirects=False)


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_signing_in_gives_a_signed_httponly_samesite_cookie_and_the_work_list(
    browser: TestClient,
) -> None:
    assert browser.get("/", follow_redirects=False).headers["location"] == "/login"
    answer = sign_in(browser, ANNA)
    assert answer.status_code == 303  # type: ignore[attr-defined]
    cookie = answer.headers["set-cookie"].lower()  # type: ignore[attr-defined]
    assert "httponly" in cookie and "samesite=lax" in cookie
    page = browser.get("/")
    assert page.status_code == 200
    shown = text_of(page.text)
    assert "Mina ärenden" in shown and "Anna Berg (handläggare)" in shown
    assert "Spärrade utbetalningar" in shown and "Att göra i dag och försenat" in shown


def test_every_page_sends_security_headers(browser: TestClient) -> None:
    for path in ("/login", "/healthz"):
        headers = browser.get(path).headers
        assert "frame-ancestors 'none'" in headers["content-security-policy"]
        assert headers["x-frame-options"] == "DENY"
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer"


def test_a_login_without_the_csrf_token_is_refused(browser: TestClient) -> None:
    browser.get("/login")
    answer = browser.post("/login", data={"username": ANNA, "password": PASSWORD})
    assert answer.status_code == 403
    assert "säkerhetstoken" in answer.text
    assert browser.get("/", follow_redirects=False).status_code == 303


def test_wrong_passwords_are_throttled_and_say_nothing_about_who_exists(
    browser: TestClient,
) -> None:
    wrong = [sign_in(browser, PER, "fel lösenord här") for _ in range(4)]
    assert {w.status_code for w in wrong} == {401}  # type: ignore[attr-defined]
    unknown = sign_in(browser, "Ingen Alls", "fel lösenord här")
    assert text_of(unknown.text).count("Fel användarnamn eller lösenord") == 1  # type: ignore[attr-defined]
    locked = sign_in(browser, PER, "fel lösenord här")
    assert locked.status_code == 429  # type: ignore[attr-defined]
    right_but_locked = sign_in(browser, PER)
    assert right_but_locked.status_code == 429  # type: ignore[attr-defined]
    assert "För många misslyckade inloggningar" in right_but_locked.text  # type: ignore[attr-defined]


def test_a_deactivated_person_cannot_sign_in_and_their_session_ends(
    product: App, browser: TestClient
) -> None:
    assert sign_in(browser, "Sven Ek").status_code == 303  # type: ignore[attr-defined]
    assert browser.get("/").status_code == 200
    deactivate_person(
        product.database,
        "Sven Ek",
        actor_name=KARIN,
        today=product.clock.today(),
        now=now(),
        reason="har slutat",
        clock=product.clock,
    )
    assert browser.get("/", follow_redirects=False).headers["location"] == "/login"
    assert sign_in(browser, "Sven Ek").status_code == 401  # type: ignore[attr-defined]


def test_another_municipalitys_agreement_is_404_like_a_missing_one(
    product: App, browser: TestClient
) -> None:
    sign_in(browser, JOHAN)
    theirs = browser.get(f"/agreements/{agreement_id(product.database)}")
    missing = browser.get("/agreements/999999")
    assert theirs.status_code == missing.status_code == 404
    assert REF not in theirs.text
    found = browser.get("/search", params={"q": "Samtalsjouren"})
    assert REF not in found.text


def test_the_auditor_reads_every_agreement_and_is_offered_no_step(
    product: App, browser: TestClient
) -> None:
    sign_in(browser, MARIA)
    page = browser.get(f"/agreements/{agreement_id(product.database)}")
    assert page.status_code == 200
    assert "läsbehörighet" in page.text
    assert "/steps/" not in page.text
    assert browser.get("/agreements/VFN 2025/0031").status_code == 200


def test_the_agreement_page_says_in_swedish_why_a_payout_is_held(
    product: App, browser: TestClient
) -> None:
    sign_in(browser, ANNA)
    page = browser.get(f"/agreements/{agreement_id(product.database)}").text
    shown = text_of(page)
    payouts = text_of(page[page.index('id="utbetalningar"') : page.index('id="aterkrav"')])
    # The gate's reason as it stands now, with the date ISO, and what releases it; not
    # the English reason stored when the payout run blocked it.
    held = "Spärrad: uppföljningen för 2026 är öppen (rapporten skulle lämnas senast 2027-03-31)"
    assert held in payouts
    assert "när uppföljningen för 2026 har godkänts" in payouts
    assert "is open" not in payouts
    assert "Utbetalningen är spärrad" in shown  # the notice, by its Swedish name
    assert "ingående, bifall" in shown  # the nämnd's decision
    assert "Importerad" in shown  # the audit trail names steps as the forms do


def _step_form(page: str, trigger: str) -> tuple[str, dict[str, str]]:
    start = page.index(f"/steps/{trigger}")
    form = page[page.rindex("<form", 0, start) : page.index("</form>", start)]
    action = re.search(r'action="([^"]+)"', form)
    assert action
    hidden = dict(re.findall(r'type="hidden" name="([^"]+)" value="([^"]*)"', form))
    return action.group(1), hidden


def test_a_step_form_fires_the_step_as_the_signed_in_person_and_refusals_show_inline(
    product: App, browser: TestClient
) -> None:
    db = product.database
    ref = agreement_id(db)
    sign_in(browser, ANNA)
    page = browser.get(f"/agreements/{ref}").text
    action, hidden = _step_form(page, "submit_report")
    statistics = "individkontakter=410\nunika besökare=160\ninformationstillfällen=12"
    fired = browser.post(action, data={**hidden, "statistics": statistics}, follow_redirects=False)
    assert fired.status_code == 303, fired.text
    page = browser.get(fired.headers["location"]).text
    assert "Steget är taget" in page

    action, hidden = _step_form(page, "approve_follow_up")
    refused = browser.post(action, data=hidden)
    assert refused.status_code == 409
    assert "Steget nekades" in refused.text and "approve_follow_up" in refused.text
    last = agreement_audit(db, str(ref))[-1]
    assert (last["trigger"], last["actor"], last["channel"]) == ("submit_report", ANNA, "web")

    forged = browser.post(action, data={**hidden, "csrf_token": "forged"})
    assert forged.status_code == 403

    with TestClient(create_app(product), base_url="http://127.0.0.1") as second:
        sign_in(second, BO)
        action, hidden = _step_form(second.get(f"/agreements/{ref}").text, "approve_follow_up")
        assert second.post(action, data=hidden, follow_redirects=False).status_code == 303
    approval = [r for r in agreement_audit(db, str(ref)) if r["trigger"] == "approve_follow_up"]
    assert [(r["actor"], r["channel"]) for r in approval] == [(BO, "web")]
    assert payout_states(db)["2027-04-30"] == "released"  # the approval lets it go


def test_a_stale_page_says_so_instead_of_overwriting(product: App, browser: TestClient) -> None:
    ref = agreement_id(product.database, "OSN 2026/0142")
    sign_in(browser, ANNA)
    first_tab = browser.get(f"/agreements/{ref}").text
    second_tab = browser.get(f"/agreements/{ref}").text
    action, hidden = _step_form(second_tab, "withdraw")
    data = {**hidden, "reason": "Föreningen drar tillbaka initiativet"}
    assert browser.post(action, data=data, follow_redirects=False).status_code == 303
    before = agreement_audit(product.database, str(ref))
    action, hidden = _step_form(first_tab, "withdraw")
    stale = browser.post(action, data={**hidden, "reason": "igen"})
    assert stale.status_code == 409
    assert "Någon annan har ändrat avtalet" in stale.text
    assert agreement_audit(product.database, str(ref)) == before


def test_the_organisation_sees_only_its_agreement(product: App, browser: TestClient) -> None:
    sign_in(browser, LEILA)
    assert browser.get(f"/agreements/{agreement_id(product.database)}").status_code == 200
    assert browser.get("/agreements/OSN 2026/0142").status_code == 404


def test_logging_out_needs_the_form_and_ends_the_session(browser: TestClient) -> None:
    sign_in(browser, ANNA)
    page = browser.get("/").text
    assert browser.post("/logout", data={}).status_code == 403
    assert browser.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 200
    assert browser.get("/", follow_redirects=False).status_code == 303
