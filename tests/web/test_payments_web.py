"""Money leaves through the web (issue 14): the *Utbetalningar* pages and
`/api/v1/payment-batches`, on the three Mjölby payees of tests/payments_setup.py (Anna
Berg attests up to 1 000 000 kr, Bo Nilsson up to 200 000 kr; the batch of three is
318 517,50 kr) with Kramfors' people imported beside them.

Bo prepares a batch on the page and is refused when he attests it himself (409, the
reason in an alert, nothing changed); Anna attests, downloads the same validated
pain.001 file twice, the SIE vouchers, and records it paid. Held payouts and "nothing
waits" are shown. Another municipality's officer gets 404, an auditor reads but every
change is refused, a form without its CSRF token is refused. The API gives the same
answers as problem documents. A real Chromium checks both pages with axe-core.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from payments_setup import (
    ANNA,
    BANKGIRO_ORG,
    BO,
    KARIN,
    MARIA,
    PAY_DAY,
    audit_triggers,
    batch_state,
    confirm_details,
    now,
    ready_to_pay,
)

from iop_workflow.adapters.pain001_file import end_to_end_ids, validate_document
from iop_workflow.bootstrap import App, build
from iop_workflow.clock import Clock
from iop_workflow.config import Settings
from iop_workflow.entrypoints.web.app import create_app
from iop_workflow.service.identity import create_token, set_password
from iop_workflow.service.importer import import_file
from iop_workflow.service.payment_batches import list_batches, prepare_batch

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "ett långt lösenord 2027"
JOHAN = "Johan Nordin"  # officer in Kramfors (examples/kramfors.yaml)
SVEN = "Sven Ek"  # represents Föreningen Bankgiro
TOTAL_TEXT = "318 517,50 kr"
TOTAL_ORE = 318_517_50
PROBLEM = "application/problem+json"
PEOPLE = (ANNA, BO, KARIN, MARIA, JOHAN, SVEN)


def paying_app(folder: Path, *, details: bool = True, **settings: Any) -> App:
    """Three released payouts in Mjölby on `PAY_DAY` (the system's day), their payees'
    details confirmed unless `details` is False, and Kramfors' example people."""
    settings.setdefault("document_dir", str(folder / "documents"))
    app = build(
        Settings(database_url=f"sqlite:///{folder / 'iop.db'}", **settings),
        clock=Clock(fixed_day=PAY_DAY),
    )
    db = app.database
    db.upgrade()
    ready_to_pay(db, details=details)
    import_file(db, str(ROOT / "examples" / "kramfors.yaml"), now=now())
    for name in PEOPLE:
        set_password(db, name, PASSWORD, now=now())
    return app


@pytest.fixture
def product(tmp_path: Path) -> Iterator[App]:
    app = paying_app(tmp_path)
    yield app
    app.database.dispose()


@pytest.fixture
def unconfirmed(tmp_path: Path) -> Iterator[App]:
    """As `product`, but no payee has confirmed payment details yet."""
    app = paying_app(tmp_path, details=False)
    yield app
    app.database.dispose()


def client_for(app: App) -> TestClient:
    return TestClient(create_app(app), base_url="http://127.0.0.1")


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no form with a CSRF token"
    return found.group(1)


def text_of(page: str) -> str:
    return html.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


def alert_of(html: str) -> str:
    found = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', html, re.S)
    assert found, "the page shows no alert"
    return text_of(found.group(1))


def signed_in(app: App, name: str) -> tuple[TestClient, str]:
    """A browser signed in as `name`, with its session's CSRF token."""
    client = client_for(app)
    token = csrf_of(client.get("/login").text)
    answer = client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return client, csrf_of(client.get("/search").text)


def prepared_by(app: App, name: str) -> int:
    result = prepare_batch(app.database, as_of=PAY_DAY, actor_name=name, now=now())
    assert result.batch_id is not None
    return result.batch_id


# --- the pages -------------------------------------------------------------------------------


def test_bo_prepares_a_batch_his_own_attest_is_refused_and_anna_attests_exports_and_pays(
    product: App,
) -> None:
    db = product.database
    bo, bo_token = signed_in(product, BO)
    start = bo.get("/payments")
    assert start.status_code == 200
    shown = text_of(start.text)
    assert "Utbetalningar" in shown and "Skapa utbetalningsbunt" in shown
    assert shown.count("Tas med i nästa bunt") == 3 and "Inga buntar ännu" in shown
    assert '<a href="/payments">Utbetalningar</a>' in start.text  # the menu

    made = bo.post("/payments/batches", data={"csrf_token": bo_token}, follow_redirects=False)
    assert made.status_code == 303
    found = re.fullmatch(r"/payments/batches/(\d+)\?done=prepare", made.headers["location"])
    assert found, made.headers["location"]
    batch = int(found.group(1))
    page = bo.get(made.headers["location"])
    shown = text_of(page.text)
    assert "Bunten är skapad" in shown and "Förberedd" in shown and TOTAL_TEXT in shown
    for payee in ("Bankgiro 5050-1055", "Plusgiro 902003-3", "Bankkonto 6001, 801230659"):
        assert payee in shown, shown
    assert "OSN 2026/0901" in shown and f"IOP-{batch}-" in shown
    assert f'action="/payments/batches/{batch}/attest"' in page.text
    assert f'action="/payments/batches/{batch}/reject"' in page.text

    before = audit_triggers(db, "payment_batch", str(batch))
    refused = bo.post(f"/payments/batches/{batch}/attest", data={"csrf_token": bo_token})
    assert refused.status_code == 409
    assert "Bo Nilsson prepared this batch; another person must attest it" in alert_of(refused.text)
    assert "Utbetalningsbunt" in text_of(refused.text)  # the batch again, not an error page
    assert batch_state(db, batch) == "prepared"
    assert audit_triggers(db, "payment_batch", str(batch)) == before == ["prepare_batch"]

    anna, anna_token = signed_in(product, ANNA)
    attested = anna.post(f"/payments/batches/{batch}/attest", data={"csrf_token": anna_token})
    assert attested.status_code == 200 and "Bunten är attesterad" in attested.text
    assert "Attesterad" in text_of(attested.text) and batch_state(db, batch) == "attested"

    def download(fmt: str) -> Any:
        return anna.post(
            f"/payments/batches/{batch}/export",
            params={"format": fmt},
            data={"csrf_token": anna_token},
        )

    first, again = download("pain001"), download("pain001")
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"].startswith("application/xml")
    assert first.headers["content-disposition"] == (
        f'attachment; filename="IOP-MJOLBY-{batch:08d}.xml"'
    )
    assert first.content == again.content
    validate_document(first.content)
    assert len(end_to_end_ids(first.content)) == 3
    assert batch_state(db, batch) == "exported"
    assert audit_triggers(db, "payment_batch", str(batch)).count("export_batch") == 1

    sie = download("sie")
    assert sie.status_code == 200
    assert sie.headers["content-type"] == "text/plain; charset=cp437"
    assert sie.headers["content-disposition"].startswith("attachment;")
    assert sie.content.startswith(b"#FLAGGA 0")

    exported = text_of(anna.get(f"/payments/batches/{batch}").text)
    assert "Exporterad" in exported and "Registrera som betald" in exported
    future = anna.post(
        f"/payments/batches/{batch}/paid",
        data={"csrf_token": anna_token, "paid_on": "2027-05-03"},
    )
    assert future.status_code == 422 and "after the day acted on" in alert_of(future.text)
    assert batch_state(db, batch) == "exported"
    paid = anna.post(
        f"/payments/batches/{batch}/paid",
        data={"csrf_token": anna_token, "paid_on": PAY_DAY.isoformat()},
    )
    assert paid.status_code == 200 and "registrerad som betald" in paid.text
    assert batch_state(db, batch) == "paid"
    listed = text_of(anna.get("/payments").text)
    assert f"Bunt {batch}" in listed and "Betald" in listed and TOTAL_TEXT in listed


def test_bo_is_refused_above_his_limit_on_the_page_and_a_rejected_batch_frees_its_payouts(
    product: App,
) -> None:
    db = product.database
    batch = prepared_by(product, ANNA)
    bo, token = signed_in(product, BO)
    refused = bo.post(f"/payments/batches/{batch}/attest", data={"csrf_token": token})
    assert refused.status_code == 409
    assert "above Bo Nilsson's attest limit of 200 000,00 kr" in alert_of(refused.text)
    assert batch_state(db, batch) == "prepared"

    empty = bo.post(f"/payments/batches/{batch}/reject", data={"csrf_token": token, "reason": ""})
    assert empty.status_code == 422 and "reason" in alert_of(empty.text)
    rejected = bo.post(
        f"/payments/batches/{batch}/reject",
        data={"csrf_token": token, "reason": "Fel belopp för OSN 2026/0902"},
    )
    assert rejected.status_code == 200
    shown = text_of(rejected.text)
    assert "Avvisad" in shown and "Fel belopp för OSN 2026/0902" in shown
    assert shown.count("Återtagen ur bunten") == 3
    assert text_of(bo.get("/payments").text).count("Tas med i nästa bunt") == 3


def test_held_payouts_are_shown_and_nothing_is_batched_when_nothing_waits(
    unconfirmed: App,
) -> None:
    db = unconfirmed.database
    bo, token = signed_in(unconfirmed, BO)
    shown = text_of(bo.get("/payments").text)
    assert shown.count("Hålls inne: inga bekräftade betalningsuppgifter") == 3

    nothing = bo.post("/payments/batches", data={"csrf_token": token}, follow_redirects=False)
    assert nothing.status_code == 200
    shown = text_of(nothing.text)
    assert "Ingen bunt skapades: inga frisläppta utbetalningar väntar" in shown
    assert "3 utbetalningar hålls inne" in shown
    assert shown.count("Hålls inne: inga bekräftade betalningsuppgifter") == 3
    assert list_batches(db) == []

    confirm_details(db, BANKGIRO_ORG)
    made = bo.post("/payments/batches", data={"csrf_token": token}, follow_redirects=False)
    assert made.status_code == 303
    batch = text_of(bo.get(made.headers["location"]).text)
    assert "Bankgiro 5050-1055" in batch and "Plusgiro" not in batch
    shown = text_of(bo.get("/payments").text)
    assert shown.count("Hålls inne: inga bekräftade betalningsuppgifter") == 2
    assert "Tas med i nästa bunt" not in shown

    again = bo.post("/payments/batches", data={"csrf_token": token}, follow_redirects=False)
    assert again.status_code == 200 and "inga frisläppta utbetalningar väntar" in again.text
    assert len(list_batches(db)) == 1


def test_the_auditor_reads_the_batches_and_every_change_is_refused(product: App) -> None:
    db = product.database
    batch = prepared_by(product, BO)
    maria, token = signed_in(product, MARIA)
    listed = maria.get("/payments")
    assert listed.status_code == 200
    shown = text_of(listed.text)
    assert f"Bunt {batch}" in shown and "läsbehörighet" in shown
    assert "Skapa utbetalningsbunt" not in shown
    page = maria.get(f"/payments/batches/{batch}")
    assert page.status_code == 200 and TOTAL_TEXT in text_of(page.text)
    assert 'action="/payments/batches/' not in page.text  # no forms
    assert "läsbehörighet" in page.text

    attest = maria.post(f"/payments/batches/{batch}/attest", data={"csrf_token": token})
    assert attest.status_code == 403
    made = maria.post("/payments/batches", data={"csrf_token": token})
    assert made.status_code == 403
    exported = maria.post(
        f"/payments/batches/{batch}/export",
        params={"format": "pain001"},
        data={"csrf_token": token},
    )
    assert exported.status_code == 403
    assert batch_state(db, batch) == "prepared" and len(list_batches(db)) == 1


def test_another_municipalitys_officer_gets_404_and_a_representative_gets_403(
    product: App,
) -> None:
    batch = prepared_by(product, BO)
    johan, token = signed_in(product, JOHAN)
    theirs = johan.get(f"/payments/batches/{batch}")
    missing = johan.get("/payments/batches/999999")
    assert theirs.status_code == missing.status_code == 404
    assert TOTAL_TEXT not in theirs.text
    assert f"Bunt {batch}" not in text_of(johan.get("/payments").text)
    acted = johan.post(f"/payments/batches/{batch}/attest", data={"csrf_token": token})
    assert acted.status_code == 404 and batch_state(product.database, batch) == "prepared"

    sven, token = signed_in(product, SVEN)
    assert sven.get("/payments").status_code == 403
    assert sven.get(f"/payments/batches/{batch}").status_code == 403
    assert sven.post("/payments/batches", data={"csrf_token": token}).status_code == 403
    assert 'href="/payments"' not in sven.get("/").text


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(product: App) -> None:
    db = product.database
    batch = prepared_by(product, BO)
    anna, _token = signed_in(product, ANNA)
    attest = anna.post(f"/payments/batches/{batch}/attest", data={})
    assert attest.status_code == 403 and "säkerhetstoken" in attest.text
    forged = anna.post(f"/payments/batches/{batch}/attest", data={"csrf_token": "fel"})
    assert forged.status_code == 403
    made = anna.post("/payments/batches", data={})
    assert made.status_code == 403
    assert batch_state(db, batch) == "prepared" and len(list_batches(db)) == 1


# --- the API ---------------------------------------------------------------------------------


@pytest.fixture
def api(product: App) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tokens = {
        name: create_token(product.database, name, label="test", now=now()).token
        for name in (ANNA, BO, MARIA, JOHAN, SVEN)
    }
    with TestClient(create_app(product)) as client:
        yield client, tokens


def call(client: TestClient, token: str | None, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, "/api/v1/payment-batches" + path, headers=headers, **kw)


def is_problem(answer: Any, status: int, detail: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert answer.json()["status"] == status
    assert detail in answer.json()["detail"], answer.json()


def test_the_api_prepares_refuses_the_preparers_attest_and_gives_the_same_file_twice(
    api: tuple[TestClient, dict[str, str]], product: App
) -> None:
    client, tokens = api
    db = product.database
    made = call(client, tokens[BO], "POST", "", json={"as_of": PAY_DAY.isoformat()})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["items"] == 3 and body["total_ore"] == TOTAL_ORE and body["held"] == []
    batch = body["batch"]

    own = call(client, tokens[BO], "POST", f"/{batch}/attest")
    is_problem(own, 409, "Bo Nilsson prepared this batch; another person must attest it")
    assert batch_state(db, batch) == "prepared"
    early = call(client, tokens[ANNA], "GET", f"/{batch}/pain001")
    is_problem(early, 409, "a batch that is prepared cannot be exported")

    attested = call(client, tokens[ANNA], "POST", f"/{batch}/attest")
    assert attested.status_code == 200, attested.text
    assert attested.json() == {"batch": batch, "state": "attested", "total_ore": TOTAL_ORE}

    first = call(client, tokens[ANNA], "GET", f"/{batch}/pain001")
    again = call(client, tokens[BO], "GET", f"/{batch}/pain001")
    assert first.status_code == again.status_code == 200
    assert first.headers["content-type"].startswith("application/xml")
    assert "attachment" in first.headers["content-disposition"]
    assert first.content == again.content
    validate_document(first.content)
    assert batch_state(db, batch) == "exported"
    assert audit_triggers(db, "payment_batch", str(batch)) == [
        "prepare_batch",
        "attest_batch",
        "export_batch",
    ]

    one = call(client, tokens[ANNA], "GET", f"/{batch}").json()
    assert one["state"] == "exported" and len(one["payouts"]) == 3
    listed = call(client, tokens[ANNA], "GET", "").json()
    assert [b["id"] for b in listed] == [batch]
    nothing = call(client, tokens[ANNA], "POST", "")
    assert nothing.status_code == 200 and nothing.json()["batch"] is None


def test_the_api_refuses_an_attest_above_the_limit_and_rejects_with_a_reason(
    api: tuple[TestClient, dict[str, str]], product: App
) -> None:
    client, tokens = api
    db = product.database
    batch = call(client, tokens[ANNA], "POST", "", json={}).json()["batch"]
    above = call(client, tokens[BO], "POST", f"/{batch}/attest")
    is_problem(above, 409, "above Bo Nilsson's attest limit of 200 000,00 kr")
    assert batch_state(db, batch) == "prepared"

    no_reason = call(client, tokens[BO], "POST", f"/{batch}/reject", json={"reason": " "})
    is_problem(no_reason, 422, "field 'reason'")
    missing = call(client, tokens[BO], "POST", f"/{batch}/reject", json={})
    assert missing.status_code == 422 and missing.json()["field"] == "reason"
    rejected = call(client, tokens[BO], "POST", f"/{batch}/reject", json={"reason": "Fel konto"})
    assert rejected.status_code == 200 and rejected.json()["freed"] == 3
    future = call(client, tokens[BO], "POST", "", json={"as_of": "2027-05-01"})
    is_problem(future, 422, "in the future")


def test_the_api_hides_another_municipalitys_batch_and_refuses_readers_and_representatives(
    api: tuple[TestClient, dict[str, str]], product: App
) -> None:
    client, tokens = api
    db = product.database
    batch = prepared_by(product, BO)

    theirs = call(client, tokens[JOHAN], "GET", f"/{batch}")
    missing = call(client, tokens[JOHAN], "GET", "/999999")
    is_problem(theirs, 404, f"no payment batch {batch}")
    assert theirs.json()["detail"] == f"no payment batch {batch}"
    assert missing.json()["detail"] == "no payment batch 999999"
    is_problem(call(client, tokens[JOHAN], "POST", f"/{batch}/attest"), 404, "no payment batch")
    is_problem(call(client, tokens[JOHAN], "GET", f"/{batch}/pain001"), 404, "no payment batch")
    assert call(client, tokens[JOHAN], "GET", "").json() == []

    listed = call(client, tokens[MARIA], "GET", "")
    assert listed.status_code == 200 and [b["id"] for b in listed.json()] == [batch]
    assert call(client, tokens[MARIA], "GET", f"/{batch}").status_code == 200
    is_problem(call(client, tokens[MARIA], "POST", f"/{batch}/attest"), 403, "changes none")
    is_problem(call(client, tokens[MARIA], "POST", "", json={}), 403, "changes none")
    is_problem(call(client, tokens[MARIA], "GET", f"/{batch}/pain001"), 403, "changes none")

    is_problem(call(client, tokens[SVEN], "GET", ""), 403, "no access to payment batches")
    is_problem(call(client, tokens[SVEN], "GET", f"/{batch}"), 403, "no access")
    is_problem(call(client, None, "GET", ""), 401, "bearer token")
    assert batch_state(db, batch) == "prepared" and len(list_batches(db)) == 1


def test_the_payment_routes_are_in_the_openapi_document(
    api: tuple[TestClient, dict[str, str]],
) -> None:
    client, _tokens = api
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    assert {
        "/api/v1/payment-batches",
        "/api/v1/payment-batches/{batch_id}",
        "/api/v1/payment-batches/{batch_id}/attest",
        "/api/v1/payment-batches/{batch_id}/reject",
        "/api/v1/payment-batches/{batch_id}/pain001",
    } <= set(paths)
    assert paths["/api/v1/payment-batches"]["get"]["tags"] == ["payments"]
    assert not any(p.startswith("/payments") for p in paths)


# --- a real browser --------------------------------------------------------------------------


def test_the_payment_pages_pass_axe_in_chromium(tmp_path: Path) -> None:
    from browser_support import axe_violations, chromium_page
    from live_support import free_port, serving

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    app = paying_app(tmp_path, base_url=url)
    with serving(app, port), chromium_page() as page:
        page.goto(url + "/login")
        page.get_by_label("Användarnamn").fill(BO)
        page.get_by_label("Lösenord").fill(PASSWORD)
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_load_state()
        page.get_by_role("link", name="Utbetalningar").click()
        page.wait_for_load_state()
        assert "Utbetalningar" in page.locator("h1").inner_text()
        assert not axe_violations(page), "the payments page"

        page.get_by_role("button", name="Skapa utbetalningsbunt").click()
        page.wait_for_load_state()
        assert "Utbetalningsbunt" in page.locator("h1").inner_text()
        assert TOTAL_TEXT in page.locator("main").inner_text()
        assert not axe_violations(page), "the batch page"

        page.get_by_role("button", name="Attestera").click()
        page.wait_for_load_state()
        alert = page.get_by_role("alert").inner_text()
        assert "another person must attest it" in alert, alert
        assert not axe_violations(page), "the refused attest"
    app.database.dispose()
