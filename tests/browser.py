"""Headless Chromium (Debian's `chromium` package, installed by `./dev test`) via Playwright."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

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
