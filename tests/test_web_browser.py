"""A practitioner's day on the web pages, in a real headless Chromium: sign in (a wrong
password first), read home, post behind a content warning, page to older posts, sign out; the
form token against a page from another origin on the same host; the cookie's flags; French."""

from __future__ import annotations

from aiohttp import web

from federation.outbox import drafts
from federation.social.compose import Draft
from server.web.timelines import PAGE_SIZE
from tests.browser import chromium, expect, watch_csp
from tests.instances import side_server
from tests.web_helpers import PASSWORD


async def _seed_posts(instance, actor, count: int) -> None:
    for n in range(count):
        await drafts.publish(instance.fed, actor, Draft(text=f"Earlier note {n}"))


async def _sign_in(page, base: str, password: str = PASSWORD) -> None:
    await page.goto(f"{base}/auth/sign_in")
    await page.fill("#username", "alice")
    await page.fill("#password", password)
    await page.click("#submit")


async def test_a_practitioner_signs_in_posts_pages_and_signs_out(instances, tmp_path):
    # Given alice, with 21 earlier posts (more than a page)
    a = await instances.start()
    _, alice = await a.add_user("alice")
    await _seed_posts(a, alice, PAGE_SIZE + 1)
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        # When she opens her home page unsigned, Then she is sent to sign in
        await page.goto(f"{a.base}/home")
        assert page.url == f"{a.base}/auth/sign_in"
        # When she mistypes her password, Then she is told so, and her username is kept
        await _sign_in(page, a.base, "not my password")
        assert await page.inner_text("#error") == "Wrong username or password."
        assert await page.input_value("#username") == "alice"
        # When she signs in, Then she sees her home timeline, a page of it
        await _sign_in(page, a.base)
        assert page.url == f"{a.base}/home"
        assert await page.inner_text("#timeline-title") == "Home"
        await expect(page.locator("ol.timeline > li")).to_have_count(PAGE_SIZE)

        # When she posts behind a content warning
        await page.fill("#spoiler_text", "Case details")
        text = "Sepsis bundle started within the hour, lactate repeated."
        await page.fill("#status", text)
        assert await page.inner_text("#status-counter") == f"{5000 - len(text)} characters left"
        await page.click("#post")
        # Then it is first in her home, its text folded under the warning until she opens it
        assert page.url == f"{a.base}/home"
        first = page.locator("ol.timeline > li").first
        assert await first.locator("summary.spoiler").inner_text() == "Case details"
        content = first.locator(".content")
        assert not await content.is_visible()
        await first.locator("summary.spoiler").click()
        assert "Sepsis bundle started" in await content.inner_text()
        await page.screenshot(path=tmp_path / "home.png", full_page=True)

        # When she pages to older posts, Then she sees the two oldest, and can come back
        await page.click("#older")
        assert "max_id=" in page.url
        await expect(page.locator("ol.timeline .content")).to_have_text(["Earlier note 1", "Earlier note 0"])
        await page.click("#newer")
        await expect(page.locator("ol.timeline > li")).to_have_count(PAGE_SIZE)

        # When she signs out, Then her pages are closed to this browser
        await page.click("#sign-out")
        assert page.url == f"{a.base}/auth/sign_in"
        await page.goto(f"{a.base}/home")
        assert page.url == f"{a.base}/auth/sign_in"
    assert violations == []


async def test_the_session_cookie_is_http_only_and_same_site_lax(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        context = await browser.new_context()
        page = await context.new_page()
        await _sign_in(page, a.base)
        cookies = {cookie["name"]: cookie for cookie in await context.cookies()}
        session = cookies["rounds_session"]
        assert session["httpOnly"] is True and session["sameSite"] == "Lax" and session["path"] == "/"
        assert session["secure"] is False  # plain http here; tests/test_web_sessions.py checks https
        # And no script on the page can read it
        assert "rounds_session" not in await page.evaluate("document.cookie")


async def test_a_form_from_another_origin_on_the_same_site_is_refused(instances):
    # Given alice signed in, and a page on another port of the same host (same site, so her
    # SameSite=Lax cookie goes along) with a copy of the compose form but no token of hers
    a = await instances.start()
    await a.add_user("alice")
    forged = f"""<!doctype html><form method="post" action="{a.base}/posts">
      <input name="status" value="forged post"><button id="go">go</button></form>"""

    async def attacker_page(request: web.Request) -> web.Response:
        return web.Response(text=forged, content_type="text/html")

    async with side_server({"/": attacker_page}) as attacker:
        async with chromium() as browser:
            page = await browser.new_page()
            await _sign_in(page, a.base)
            # When she opens the attacker's page and its form is submitted
            await page.goto(f"{attacker}/")
            async with page.expect_navigation() as navigation:
                await page.click("#go")
            response = await navigation.value
            # Then the server refuses it, and nothing was posted
            assert response.status == 403
            assert "This form was refused" in await page.inner_text("main")
            await page.goto(f"{a.base}/home")
            assert "forged post" not in await page.inner_text("main")
            # And the same form, with the token her own page carries, would have worked
            await page.fill("#status", "a real post")
            await page.click("#post")
            assert "a real post" in await page.inner_text("ol.timeline")


async def test_a_french_browser_gets_the_pages_in_french(instances, tmp_path):
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        context = await browser.new_context(locale="fr-FR")
        page = await context.new_page()
        violations = await watch_csp(page)
        await page.goto(f"{a.base}/auth/sign_in")
        assert await page.get_attribute("html", "lang") == "fr"
        assert await page.inner_text("label[for=password]") == "Mot de passe"
        assert await page.inner_text("#submit") == "Se connecter"
        await _sign_in(page, a.base, "faux")
        assert await page.inner_text("#error") == "Nom d’utilisateur ou mot de passe incorrect."
        await _sign_in(page, a.base)
        assert await page.inner_text("#timeline-title") == "Accueil"
        assert await page.inner_text("#post") == "Publier"
        assert await page.inner_text("#sign-out") == "Se déconnecter"
        await page.fill("#status", "Bonjour")
        assert await page.inner_text("#status-counter") == "4993 caractères restants"
        await page.screenshot(path=tmp_path / "home-fr.png", full_page=True)
    assert violations == []
