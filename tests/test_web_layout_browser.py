"""The web pages' layout in a real headless Chromium: the page policy on every page, usable at
phone width and at desktop width, labelled controls and a visible focus."""

from __future__ import annotations

from federation.outbox import drafts
from federation.social.compose import Draft
from tests.browser import chromium, watch_csp
from tests.web_helpers import PASSWORD

WIDTHS = {"phone": (375, 740), "desktop": (1280, 800)}
# every visible control without a label, by its id or name
UNLABELLED = """[...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.id || control.name)"""


async def test_pages_fit_a_phone_and_a_desktop_with_labels_and_visible_focus(instances, tmp_path):
    a = await instances.start()
    _, alice = await a.add_user("alice")
    post = await drafts.publish(a.fed, alice, Draft(
        text="A long line without spaces: " + "antimicrobialstewardship" * 8))
    async with chromium() as browser:
        for width_name, (width, height) in WIDTHS.items():
            page = await browser.new_page(viewport={"width": width, "height": height})
            violations = await watch_csp(page)
            for path in ("/auth/sign_in", "/about"):
                response = await page.goto(f"{a.base}{path}")
                # Then the page policy allows no inline script or style
                policy = response.headers["content-security-policy"]
                assert "'unsafe-inline'" not in policy and "script-src 'self'" in policy
                # And nothing is wider than the window
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, width_name)
                assert await page.evaluate(UNLABELLED) == [], path
                await page.screenshot(path=tmp_path / f"{path.strip('/').replace('/', '-')}-{width_name}.png",
                                      full_page=True)
            # And the keyboard's focus is visible: the first Tab shows the skip link, outlined
            await page.goto(f"{a.base}/auth/sign_in")
            await page.keyboard.press("Tab")
            focused = await page.evaluate("""(() => { const e = document.activeElement;
                const s = getComputedStyle(e); return [e.className, s.outlineStyle, s.outlineWidth, e.offsetWidth]; })()""")
            assert focused[0] == "skip" and focused[1] == "solid" and focused[2] == "3px" and focused[3] > 0
            for _ in range(3):  # the instance's name, the sign-in link, then the form
                await page.keyboard.press("Tab")
            assert await page.evaluate("document.activeElement.id") == "username"
            outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
            assert outline == "solid"
            # And the sign-in form works from the keyboard alone
            await page.keyboard.type("alice")
            await page.keyboard.press("Tab")
            await page.keyboard.type(PASSWORD)
            async with page.expect_navigation():
                await page.keyboard.press("Enter")
            assert page.url == f"{a.base}/home"
            # And her signed-in pages fit and are labelled too: home with its composer, a thread
            for path in ("/home", "/local", f"/posts/{post.id}", "/settings/sessions", "/settings/preferences"):
                await page.goto(f"{a.base}{path}")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, width_name)
                assert await page.evaluate(UNLABELLED) == [], path
            await page.screenshot(path=tmp_path / f"thread-{width_name}.png", full_page=True)
            await page.goto(f"{a.base}/home")
            await page.screenshot(path=tmp_path / f"home-{width_name}.png", full_page=True)
            await page.close()
            assert violations == [], width_name
