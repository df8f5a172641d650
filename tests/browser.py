"""Headless Chromium (Debian's `chromium` package, installed by `./dev test`) via Playwright."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    assert path, "Chromium is missing: './dev test' installs Debian's chromium package"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


_REPORT_VIOLATIONS = """document.addEventListener("securitypolicyviolation", (event) =>
  console.error(`CSP violation: ${event.violatedDirective} refused ${event.blockedURI || "inline"}`));"""


async def watch_csp(page: Page) -> list[str]:
    """The Content-Security-Policy violations `page` reports from now on, as text: each event,
    and each refusal Chromium writes to the console (a refused form redirect has no event)."""
    seen: list[str] = []

    def on_console(message) -> None:
        if message.text.startswith("CSP violation") or "Content Security Policy" in message.text:
            seen.append(message.text)

    page.on("console", on_console)
    await page.add_init_script(_REPORT_VIOLATIONS)  # runs outside the page's policy
    return seen


AXE = Path(__file__).parent / "vendor" / "axe-core" / "axe.min.js"  # axe-core, MPL-2.0, a test dependency
SERIOUS = ("serious", "critical")
_AXE_RUN = """async (impacts) => (await axe.run(document, {resultTypes: ["violations"]})).violations
  .filter((violation) => impacts.includes(violation.impact))
  .map((violation) => `${violation.impact} ${violation.id}: ${violation.help} at ` +
       violation.nodes.slice(0, 3).map((node) => node.target.join(" ")).join(", "))"""


async def axe_violations(page: Page, impacts: tuple[str, ...] = SERIOUS) -> list[str]:
    """axe-core's violations of the page as it is now, at these impacts, one line each. The
    script is evaluated through the DevTools protocol, which the page's policy does not govern,
    so the page keeps its real CSP while it is checked."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.evaluate(AXE.read_text())
    return await page.evaluate(_AXE_RUN, list(impacts))


def artifacts_dir() -> Path:
    """Where browser tests save screenshots for people to look at: test-artifacts/ in the
    checkout (kept by CI), or $ROUNDS_TEST_ARTIFACTS."""
    directory = Path(os.environ.get("ROUNDS_TEST_ARTIFACTS") or Path(__file__).parents[1] / "test-artifacts")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
