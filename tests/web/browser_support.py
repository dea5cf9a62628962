"""A real browser for the web tests: Playwright driving Debian's Chromium, axe-core checks
and screenshots for the documentation.

Playwright's own browser download does not work offline, so the system Chromium is
launched (`playwright install` is never needed). axe-core comes from tests/web_support.
"""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
AXE_JS = ROOT / "tests" / "web_support" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "docs" / "screenshots"


@contextlib.contextmanager
def chromium_page(base_url: str | None = None) -> Iterator[Page]:
    """A page in a fresh headless context (no cookies), Swedish locale, 1280x900."""
    with sync_playwright() as pw:
        # --no-sandbox: the tests may run as root in a container, where the sandbox fails.
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        try:
            # bypass_csp: axe-core is injected as an inline script, which the product's
            # Content-Security-Policy (rightly) forbids on its pages.
            context = browser.new_context(
                base_url=base_url,
                locale="sv-SE",
                viewport={"width": 1280, "height": 900},
                bypass_csp=True,
            )
            try:
                yield context.new_page()
            finally:
                context.close()
        finally:
            browser.close()


def axe_violations(
    page: Page, *, impacts: tuple[str, ...] = ("serious", "critical")
) -> list[dict[str, Any]]:
    """The axe-core violations of the page as it is now, of the given impacts:
    [{"id", "impact", "help", "targets": [css selectors]}]."""
    if not AXE_JS.is_file():
        subprocess.run([str(ROOT / "scripts" / "ensure-node-deps")], check=True)
    page.add_script_tag(path=str(AXE_JS))
    violations = page.evaluate(
        """async () => (await axe.run(document)).violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            targets: v.nodes.map(n => n.target.join(' ')),
        }))"""
    )
    return [v for v in violations if v["impact"] in impacts]


def screenshot(page: Page, name: str) -> Path:
    """A full-page PNG at docs/screenshots/NAME.png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
