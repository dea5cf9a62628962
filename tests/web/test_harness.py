"""The browser-test harness works for real: the OIDC provider signs a person in through its
form in Chromium (authorization code + PKCE), and the axe-core check can pass and fail."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import browser_support
import httpx
import pytest
from browser_support import axe_violations, chromium_page, screenshot
from oidc_support import OidcProvider, running_oidc_provider

ANNA = {"sub": "anna", "email": "anna@example.se", "name": "Anna Andersson", "password": "hemligt1"}


class Callback:
    """The relying party's redirect URI: records the query of every request it gets."""

    def __init__(self) -> None:
        self.queries: list[dict[str, str]] = []
        queries = self.queries

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                asked = urlparse(self.path)
                # Chromium also asks for /favicon.ico: only the redirect URI's queries count.
                if asked.path == "/callback":
                    queries.append({k: v[0] for k, v in parse_qs(asked.query).items()})
                body = b"<!doctype html><title>callback</title><p>ok</p>"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callback"


@pytest.fixture(scope="module")
def callback() -> Iterator[Callback]:
    cb = Callback()
    thread = threading.Thread(target=cb.server.serve_forever, daemon=True)
    thread.start()
    yield cb
    cb.server.shutdown()
    cb.server.server_close()


@pytest.fixture(scope="module")
def idp(callback: Callback) -> Iterator[OidcProvider]:
    with running_oidc_provider([ANNA], callback.url) as provider:
        yield provider
        # A stack trace means the provider or our interaction code broke, whatever the test saw.
        assert not re.search(r"^\s+at ", provider.log_text(), re.M), provider.log_text()


def discovery(idp: OidcProvider) -> dict[str, Any]:
    response = httpx.get(f"{idp.issuer}/.well-known/openid-configuration")
    response.raise_for_status()
    return dict(response.json())


def authorization_url(idp: OidcProvider, callback: Callback, verifier: str | None) -> str:
    params = {
        "client_id": idp.client_id,
        "response_type": "code",
        "scope": "openid email profile",
        "redirect_uri": callback.url,
        "state": secrets.token_urlsafe(8),
        "nonce": secrets.token_urlsafe(8),
    }
    if verifier is not None:
        digest = hashlib.sha256(verifier.encode()).digest()
        params["code_challenge"] = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
        params["code_challenge_method"] = "S256"
    return f"{discovery(idp)['authorization_endpoint']}?{urlencode(params)}"


def jwt_payload(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


def test_discovery_names_the_issuer_and_s256(idp: OidcProvider) -> None:
    config = discovery(idp)
    assert config["issuer"] == idp.issuer
    assert "S256" in config["code_challenge_methods_supported"]


def test_authorization_without_pkce_is_refused(idp: OidcProvider, callback: Callback) -> None:
    response = httpx.get(authorization_url(idp, callback, verifier=None))
    location = response.headers["location"]
    assert location.startswith(callback.url)
    assert parse_qs(urlparse(location).query)["error"] == ["invalid_request"]


def test_sign_in_with_code_and_pkce(idp: OidcProvider, callback: Callback) -> None:
    verifier = secrets.token_urlsafe(48)
    with chromium_page() as page:
        page.goto(authorization_url(idp, callback, verifier))
        # The provider's own form must pass the same accessibility check as the app.
        assert axe_violations(page) == []
        page.fill("#login", ANNA["email"])
        page.fill("#password", ANNA["password"])
        page.get_by_role("button", name="Logga in").click()
        page.wait_for_url(f"{callback.url}?**")
    code = callback.queries[-1]["code"]

    config = discovery(idp)
    response = httpx.post(
        config["token_endpoint"],
        auth=(idp.client_id, idp.client_secret),
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": callback.url,
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200, response.text
    claims = jwt_payload(response.json()["id_token"])
    assert claims["iss"] == idp.issuer
    assert claims["aud"] == idp.client_id
    assert (claims["sub"], claims["email"], claims["name"]) == (
        ANNA["sub"],
        ANNA["email"],
        ANNA["name"],
    )


def test_wrong_password_shows_an_error_and_gives_no_code(
    idp: OidcProvider, callback: Callback
) -> None:
    before = len(callback.queries)
    with chromium_page() as page:
        page.goto(authorization_url(idp, callback, secrets.token_urlsafe(48)))
        page.fill("#login", ANNA["sub"])
        page.fill("#password", "fel")
        page.get_by_role("button", name="Logga in").click()
        assert "Fel användarnamn eller lösenord" in page.get_by_role("alert").inner_text()
        assert page.url.startswith(idp.issuer)
    assert len(callback.queries) == before


ACCESSIBLE = """<!doctype html><html lang="sv"><head><title>Prov</title></head><body><main>
<h1>Prov</h1><label for="namn">Namn</label><input id="namn" name="namn">
<button type="submit">Spara</button></main></body></html>"""


def test_axe_passes_an_accessible_page_and_fails_an_unlabelled_input() -> None:
    with chromium_page() as page:
        page.set_content(ACCESSIBLE)
        assert axe_violations(page) == []
        page.set_content(ACCESSIBLE.replace('<label for="namn">Namn</label>', ""))
        violations = axe_violations(page)
    assert [(v["id"], v["impact"]) for v in violations] == [("label", "critical")]
    assert violations[0]["targets"] == ["#namn"]
    assert violations[0]["help"]


def test_screenshot_writes_a_full_page_png(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(browser_support, "SCREENSHOTS", tmp_path / "screenshots")
    with chromium_page() as page:
        page.set_content(ACCESSIBLE)
        path = screenshot(page, "prov")
    assert path == tmp_path / "screenshots" / "prov.png"
    assert path.read_bytes().startswith(b"\x89PNG")
