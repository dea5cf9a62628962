"""`iop users password` and `iop tokens` as an operator runs them, and `iop web` serving."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.request

import pytest
from cli_runner import iop_command
from web_app import ANNA, PASSWORD, prepared_app

from iop_workflow.bootstrap import App
from iop_workflow.service.identity import SignInRefused, sign_in_with_password
from iop_workflow.service.views import list_agreements


@pytest.fixture(scope="module")
def product(tmp_path_factory: pytest.TempPathFactory) -> App:
    return prepared_app(tmp_path_factory.mktemp("cli"))


def iop(app: App, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOP_")}
    env["IOP_DATABASE_URL"] = str(app.settings.database_url)
    return subprocess.run(
        [*iop_command(), *args], input=stdin, env=env, capture_output=True, text=True, timeout=60
    )


def test_a_password_is_read_from_standard_input_and_signs_in(product: App) -> None:
    done = iop(product, "users", "password", ANNA, stdin="ett helt nytt lösenord\n")
    assert done.returncode == 0, done.stderr
    assert "ett helt nytt" not in done.stdout + done.stderr
    viewer = sign_in_with_password(
        product.database, ANNA, "ett helt nytt lösenord", now=product.clock.now()
    )
    assert viewer.name == ANNA
    with pytest.raises(SignInRefused):
        sign_in_with_password(product.database, ANNA, PASSWORD, now=product.clock.now())


def test_a_short_password_or_an_unknown_person_is_one_clear_error(product: App) -> None:
    short = iop(product, "users", "password", ANNA, stdin="kort\n")
    assert short.returncode == 2
    assert "password" in short.stderr and "12 characters" in short.stderr
    assert "Traceback" not in short.stderr
    unknown = iop(product, "users", "password", "Ingen Alls", stdin="ett långt lösenord igen\n")
    assert unknown.returncode == 4 and "Ingen Alls" in unknown.stderr


def test_a_token_is_shown_once_listed_without_itself_and_revoked(product: App) -> None:
    made = iop(product, "tokens", "create", ANNA, "--label", "diariet", "--json")
    assert made.returncode == 0, made.stderr
    token = json.loads(made.stdout)
    listed = iop(product, "tokens", "list", "--json")
    rows = json.loads(listed.stdout)
    assert token["token"] not in listed.stdout
    assert any(r["id"] == token["id"] and r["label"] == "diariet" for r in rows)
    assert iop(product, "tokens", "revoke", str(token["id"])).returncode == 0
    again = iop(product, "tokens", "revoke", str(token["id"]))
    assert again.returncode == 4 and "no live token" in again.stderr


def test_iop_web_serves_the_health_check_and_the_login_page(product: App) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("IOP_")}
    env["IOP_DATABASE_URL"] = str(product.settings.database_url)
    server = subprocess.Popen(
        [*iop_command(), "web", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as r:
                    assert r.status == 200
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None, "iop web is down"
                time.sleep(0.3)
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/login", timeout=5) as r:
            page = r.read().decode("utf-8")
        assert 'lang="sv"' in page and "Logga in" in page
        assert list_agreements(product.database)
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert "Traceback" not in output, output
