"""The portfolio report as an officer sees it: in the Prefect dashboard, in a real browser.

The flows run on the examples against the session's Prefect server (the portfolio report
last, as at 07:30); then headless Chromium opens the dashboard, a single-page app served
by that server, and the rendered page must show the report. A screenshot is kept in
var/test-artifacts/ for a human to look at.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flow_support import (
    ROOT,
    RUNNING_MJOLBY,
    artifacts_of,
    flow_run_id,
    new_database,
    product_database,
)
from websockets.sync.client import connect

from flows.daily_sweep import daily_sweep
from flows.payout_run import payout_run
from flows.portfolio_report import portfolio_report

DAY = date(2027, 4, 30)
SCREENSHOTS = ROOT / "var" / "test-artifacts"


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.fail(
            "Chromium is not installed: run scripts/ensure-system-deps (Debian package "
            "'chromium'); the dashboard test needs a real browser",
            pytrace=False,
        )
    return found


class Browser:
    """Headless Chromium driven over the DevTools protocol (a websocket).

    `--dump-dom` is not enough here: it returns when its virtual time runs out, and the
    dashboard renders artifact timelines in a virtual scroller that fills in on its own
    schedule (the same page came back with and without its content). Polling the page's
    text in real time until the report is there is what a person looking at it does.
    """

    def __init__(self, profile: Path) -> None:
        profile.mkdir(parents=True, exist_ok=True)
        self.log = open(profile / "chromium.log", "wb")  # noqa: SIM115 (closed in close())
        self.process = subprocess.Popen(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--no-first-run",
                f"--user-data-dir={profile}",
                "--remote-debugging-port=0",
                "--window-size=1400,1000",
                "about:blank",
            ],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not port_file.exists() or not port_file.read_text().strip():
            assert self.process.poll() is None, f"chromium exited; see {profile}/chromium.log"
            assert time.monotonic() < deadline, "chromium did not open its DevTools port"
            time.sleep(0.1)
        port = port_file.read_text().split()[0]
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as r:
            page = next(target for target in json.load(r) if target["type"] == "page")
        self.socket = connect(page["webSocketDebuggerUrl"], max_size=None, proxy=None)
        self.ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        message_id = next(self.ids)
        self.socket.send(json.dumps({"id": message_id, "method": method, "params": params}))
        while True:  # skip the events the page sends meanwhile
            reply = json.loads(self.socket.recv(timeout=60))
            if reply.get("id") == message_id:
                assert "error" not in reply, reply
                result: dict[str, Any] = reply["result"]
                return result

    def evaluate(self, expression: str) -> Any:
        return self.call("Runtime.evaluate", expression=expression, returnByValue=True)[
            "result"
        ].get("value")

    def open(self, url: str, wanted: list[str], timeout: float = 60) -> str:
        """Navigate to `url`; the page's text once everything in `wanted` shows."""
        self.call("Page.navigate", url=url)
        deadline = time.monotonic() + timeout
        text = ""
        while time.monotonic() < deadline:
            text = self.evaluate("document.body ? document.body.innerText : ''") or ""
            if all(w in text for w in wanted):
                return str(text)
            time.sleep(0.5)
        missing = [w for w in wanted if w not in text]
        pytest.fail(f"{url} never showed {missing} in {timeout:.0f} s; it showed:\n{text}")

    def links(self) -> list[str]:
        return list(self.evaluate("[...document.querySelectorAll('a')].map(a => a.href)"))

    def screenshot(self, path: Path) -> None:
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.write_bytes(base64.b64decode(data))

    def close(self) -> None:
        try:
            self.socket.close()
        finally:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.log.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Browser]:
    opened = Browser(tmp_path / "chromium-profile")
    try:
        yield opened
    finally:
        opened.close()


def test_the_dashboard_shows_the_portfolio_report_with_blocked_payouts(
    prefect_api: Any, browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'iop.db'}"
    new_database(url)
    with product_database(url, monkeypatch):
        daily_sweep(as_of=DAY)
        payout_run(as_of=DAY)
        report = portfolio_report(as_of=DAY, return_state=True)
    artifact = artifacts_of(flow_run_id(report))["portfolio-overall"]

    # Artifacts → portfolio-overall: the key's page lists this run's artifact ...
    browser.open(
        f"{prefect_api.url}/artifacts/key/portfolio-overall",
        ["IOP portfolio summary, overall, 2027-04-30", str(artifact.id)[:8]],
    )
    page = f"{prefect_api.url}/artifacts/artifact/{artifact.id}"
    assert page in browser.links()

    # ... and the artifact's page renders the markdown report.
    text = browser.open(
        page,
        [
            "IOP portfolio — overall — 2027-04-30",
            RUNNING_MJOLBY,
            "Blocked payouts (3)",
            "unblocked by approval of follow-up 2026",
        ],
    )
    assert "**" not in text and "|---|" not in text  # rendered, not markdown source
    assert browser.evaluate("document.querySelectorAll('table').length") >= 2  # real tables

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    shot = SCREENSHOTS / "dashboard-portfolio-overall.png"
    shot.unlink(missing_ok=True)
    browser.screenshot(shot)
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000  # a rendered page, not a blank one
