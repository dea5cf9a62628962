"""The API as an integration sees it: bearer tokens from `iop tokens`, the follow-up walk
through `POST /api/v1/agreements/{ref}/steps/{trigger}`, and who may see and change what
(problem documents with the CLI's messages)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_app import (
    ANNA,
    BO,
    JOHAN,
    KRAMFORS_REF,
    LEILA,
    MARIA,
    REF,
    agreement_id,
    now,
    payout_states,
    prepared_app,
)

from iop_workflow.bootstrap import App
from iop_workflow.entrypoints.web.app import create_app
from iop_workflow.service.identity import create_token, revoke_token
from iop_workflow.service.payouts import payout_run
from iop_workflow.service.people_register import deactivate_person
from iop_workflow.service.views import agreement_audit

PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> Iterator[App]:
    app = prepared_app(tmp_path_factory.mktemp("api"))
    yield app
    app.database.dispose()


@pytest.fixture(scope="module")
def tokens(product: App) -> dict[str, str]:
    return {
        name: create_token(product.database, name, label="test", now=now()).token
        for name in (ANNA, BO, JOHAN, MARIA, LEILA)
    }


@pytest.fixture(scope="module")
def client(product: App) -> Iterator[TestClient]:
    with TestClient(create_app(product)) as found:
        yield found


def call(client: TestClient, token: str | None, method: str, path: str, **kw: Any) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return client.request(method, path, headers=headers, **kw)


def step(client: TestClient, token: str, ref: str, trigger: str, body: Any) -> Any:
    path = f"/api/v1/agreements/{ref}/steps/{trigger}"
    return call(client, token, "POST", path, json=body)


def test_the_follow_up_walk_through_the_api_releases_the_held_payout(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    db = product.database
    ref = agreement_id(db)
    assert payout_states(db)["2027-04-30"] == "blocked"
    payouts = call(client, tokens[ANNA], "GET", f"/api/v1/agreements/{ref}/payouts").json()
    held = next(p for p in payouts if p["due"] == "2027-04-30")
    assert held["state"] == "blocked" and held["blocked_reason"]

    statistics = {"individkontakter": 410, "unika besökare": 160, "informationstillfällen": 12}
    body = {"year": 2026, "statistics": statistics}
    submitted = step(client, tokens[ANNA], str(ref), "submit_report", body)
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["changes"][0]["to"] == "submitted"

    own = step(client, tokens[ANNA], str(ref), "approve_follow_up", {"year": 2026})
    assert own.status_code == 409
    assert own.headers["content-type"].startswith(PROBLEM)
    assert "submitted" in own.json()["detail"] or "submitter" in own.json()["detail"]

    approved = step(client, tokens[BO], str(ref), "approve_follow_up", {"year": 2026})
    assert approved.status_code == 200, approved.text
    payout_run(db, as_of=product.clock.today(), now=now(), clock=product.clock)
    payouts = call(client, tokens[BO], "GET", f"/api/v1/agreements/{ref}/payouts").json()
    assert next(p for p in payouts if p["due"] == "2027-04-30")["state"] == "released"

    audit = agreement_audit(db, str(ref))
    mine = [r for r in audit if r["trigger"] in ("submit_report", "approve_follow_up")]
    assert [(r["actor"], r["channel"]) for r in mine] == [(ANNA, "api"), (BO, "api")]
    timeline = call(client, tokens[BO], "GET", f"/api/v1/agreements/{ref}/timeline").json()
    assert any(row["kind"] == "report_due" and row["status"] == "approved" for row in timeline)


def test_an_officer_of_another_municipality_gets_404_as_for_a_missing_agreement(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    ref = agreement_id(product.database)
    theirs = call(client, tokens[JOHAN], "GET", f"/api/v1/agreements/{ref}")
    missing = call(client, tokens[JOHAN], "GET", "/api/v1/agreements/999999")
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json()["detail"] == f"no agreement '{ref}'"
    fired = step(client, tokens[JOHAN], str(ref), "open_follow_up", {"year": 2027})
    assert fired.status_code == 404
    own = call(client, tokens[JOHAN], "GET", f"/api/v1/agreements/{KRAMFORS_REF}")
    assert own.status_code == 200 and own.json()["municipality"] == "kramfors"
    listed = call(client, tokens[JOHAN], "GET", "/api/v1/agreements").json()
    assert {a["municipality"] for a in listed["items"]} == {"kramfors"}


def test_an_auditor_reads_everything_and_every_change_is_refused(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    listed = call(client, tokens[MARIA], "GET", "/api/v1/agreements").json()
    assert listed["total"] >= 2
    for ref in (REF, KRAMFORS_REF):
        assert call(client, tokens[MARIA], "GET", f"/api/v1/agreements/{ref}").status_code == 200
    ref = agreement_id(product.database)
    before = agreement_audit(product.database, str(ref))
    refused = step(client, tokens[MARIA], str(ref), "open_follow_up", {"year": 2027})
    assert refused.status_code == 403
    assert "auditor" in refused.json()["detail"]
    assert agreement_audit(product.database, str(ref)) == before


def test_an_organisation_sees_only_its_own_agreements(
    client: TestClient, tokens: dict[str, str]
) -> None:
    listed = call(client, tokens[LEILA], "GET", "/api/v1/agreements").json()
    assert [a["diarienummer"] for a in listed["items"]] == [REF]
    other = call(client, tokens[LEILA], "GET", "/api/v1/agreements/OSN 2026/0142")
    assert other.status_code == 404


def test_a_role_that_may_not_fire_the_step_gets_403(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    ref = agreement_id(product.database)
    refused = step(client, tokens[LEILA], str(ref), "raise_claim", {"amount": "100"})
    assert refused.status_code == 403
    assert "may not fire 'raise_claim'" in refused.json()["detail"]


def test_bad_input_is_422_naming_the_field_and_changes_nothing(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    ref = agreement_id(product.database)
    before = agreement_audit(product.database, str(ref))
    bad = step(client, tokens[ANNA], str(ref), "open_follow_up", {"year": "tjugo"})
    assert bad.status_code == 422
    body = bad.json()
    assert bad.headers["content-type"].startswith(PROBLEM)
    assert body["field"] == "year" and "year" in body["detail"]
    unknown = step(client, tokens[ANNA], str(ref), "no_such_step", {})
    assert unknown.status_code == 422 and "no_such_step" in unknown.json()["detail"]
    not_json = client.post(
        f"/api/v1/agreements/{ref}/steps/open_follow_up",
        content=b"{not json",
        headers={"Authorization": f"Bearer {tokens[ANNA]}", "Content-Type": "application/json"},
    )
    assert not_json.status_code == 422 and not_json.headers["content-type"].startswith(PROBLEM)
    assert agreement_audit(product.database, str(ref)) == before


def test_a_stale_version_is_409_and_changes_nothing(
    client: TestClient, tokens: dict[str, str], product: App
) -> None:
    ref = agreement_id(product.database)
    version = call(client, tokens[ANNA], "GET", f"/api/v1/agreements/{ref}").json()["version"]
    stale = step(
        client,
        tokens[ANNA],
        str(ref),
        "open_follow_up",
        {"year": 2027, "expected_version": version - 1},
    )
    assert stale.status_code == 409
    assert "changed by someone else" in stale.json()["detail"]


def test_tokens_missing_revoked_or_of_a_deactivated_person_get_401(
    client: TestClient, product: App
) -> None:
    db = product.database
    assert call(client, None, "GET", "/api/v1/agreements").status_code == 401
    assert call(client, "iop_forged", "GET", "/api/v1/agreements").status_code == 401
    issued = create_token(db, ANNA, label="short-lived", now=now())
    assert call(client, issued.token, "GET", "/api/v1/agreements").status_code == 200
    revoke_token(db, issued.id, now=now())
    gone = call(client, issued.token, "GET", "/api/v1/agreements")
    assert gone.status_code == 401 and gone.headers["content-type"].startswith(PROBLEM)
    sven = create_token(db, "Sven Ek", label="leaving", now=now())
    deactivate_person(
        db,
        "Sven Ek",
        actor_name="Karin Lund",
        today=product.clock.today(),
        now=now(),
        reason="slutat",
        clock=product.clock,
    )
    assert call(client, sven.token, "GET", "/api/v1/agreements").status_code == 401


def test_the_openapi_document_describes_the_step_endpoint(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/agreements/{ref}/steps/{trigger}" in spec["paths"]
    assert "/api/v1/agreements/{ref}/audit" in spec["paths"]
    assert client.get("/healthz").json() == {"status": "ok"}
