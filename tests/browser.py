"""Headless Chromium (Debian's `chromium` package, installed by `./dev test`) via Playwright.

One Chromium per test process, started on first use and reused: launching one costs about three
quarters of a second of CPU, and a test makes its pages in browser contexts of its own (each an
isolated profile: cookies, storage, cache), which `chromium()` closes when the test is done.
Playwright connects to it over the DevTools protocol, since its own connection lives in the
test's event loop, which ends with the test.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright
# A click that loads a page returns once the page has begun to arrive, and Chromium shows a long
# list as it parses it: a count taken then may see part of it. `expect` waits for what it asserts.
from playwright.async_api import expect  # noqa: F401 (for the tests)

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
# What Playwright's own launch() would also have set, so that pages behave as they did when each
# test launched its browser: headless with hover and a fine pointer reported to CSS, no timers
# slowed in pages of other contexts, no back-forward cache, popups allowed, cookies unpartitioned,
# no stray updates or prompts
_LAUNCH_ARGS = [
    "--headless", "--hide-scrollbars", "--mute-audio",
    "--blink-settings=primaryHoverType=2,availableHoverTypes=2,primaryPointerType=4,availablePointerTypes=4",
    "--disable-background-timer-throttling", "--disable-backgrounding-occluded-windows",
    "--disable-renderer-backgrounding", "--disable-back-forward-cache", "--disable-popup-blocking",
    "--disable-prompt-on-repost", "--disable-hang-monitor", "--disable-ipc-flooding-protection",
    "--disable-extensions", "--disable-default-apps", "--disable-component-extensions-with-background-pages",
    "--disable-field-trial-config", "--disable-breakpad", "--no-default-browser-check",
    "--disable-dev-shm-usage", "--force-color-profile=srgb", "--metrics-recording-only",
    "--password-store=basic", "--use-mock-keychain", "--allow-pre-commit-input",
    "--disable-features=ThirdPartyStoragePartitioning,PaintHolding,HttpsUpgrades,MediaRouter,"
    "DestroyProfileOnBrowserClose,AvoidUnnecessaryBeforeUnloadCheckSync,AvoidCorsURLLoaderRestartOnRedirect,"
    "OptimizationHints",
    "--remote-debugging-port=0",
]


class _SharedChromium:
    """This test process's Chromium: its DevTools address, started again if it died."""

    def __init__(self) -> None:
        self.process: subprocess.Popen | None = None
        self.endpoint = ""
        self.profile: Path | None = None

    def address(self) -> str:
        if self.process is not None and self.process.poll() is None:
            return self.endpoint
        self.close()
        path = shutil.which("chromium") or shutil.which("chromium-browser")
        assert path, "Chromium is missing: './dev test' installs Debian's chromium package"
        self.profile = Path(tempfile.mkdtemp(prefix="rounds-chromium-"))
        self.process = subprocess.Popen(
            [path, *CHROMIUM_ARGS, *_LAUNCH_ARGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent)
        active_port = self.profile / "DevToolsActivePort"  # Chromium writes its port there once listening
        deadline = time.monotonic() + 60
        while not active_port.exists() or len(active_port.read_text().split()) < 2:
            assert self.process.poll() is None, f"Chromium exited with status {self.process.returncode}"
            assert time.monotonic() < deadline, "Chromium did not open its DevTools port within 60 s"
            time.sleep(0.05)
        port, ws_path = active_port.read_text().split()[:2]
        self.endpoint = f"ws://127.0.0.1:{port}{ws_path}"
        return self.endpoint

    def close(self) -> None:
        if self.process is not None:
            if self.process.poll() is None:
                self.process.terminate()
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.process = None
        if self.profile is not None:
            shutil.rmtree(self.profile, ignore_errors=True)
            self.profile = None


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # looked up here: the forked child only calls it
_PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the child before exec: Linux kills Chromium if the test process dies without atexit."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)


_SHARED = _SharedChromium()
atexit.register(_SHARED.close)


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """The process's Chromium, for this test: every context (and page) made through it is closed
    at the end."""
    async with async_playwright() as playwright:
        browser = await playwright.chromium.connect_over_cdp(_SHARED.address())
        default = set(browser.contexts)
        try:
            yield browser
        finally:
            for context in browser.contexts:
                if context not in default:
                    await context.close()
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
