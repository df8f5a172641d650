"""A practitioner's day on the web pages, across two real hospitals, in headless Chromium:
alice at A signs in, posts a photo with its alt text and sees it at home, finds bob at B by his
handle and follows him, sees his next post arrive on her home page live, replies to it and
boosts it; B receives the reply and the boost. Screenshots at phone and desktop width go to
test-artifacts/."""

from __future__ import annotations

from sqlalchemy import select

from federation.outbox import drafts
from federation.social.compose import Draft
from storage.models import Object
from tests.api_helpers import token_for
from tests.browser import artifacts_dir, axe_violations, chromium, watch_csp
from tests.instances import settle
from tests.test_web_actions_browser import _png
from tests.web_helpers import PASSWORD


async def test_a_practitioner_posts_a_photo_follows_a_colleague_elsewhere_and_answers_his_post_live(
        instances, http, tmp_path):
    # Given alice at hospital A, and bob at hospital B
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    _, bob = await b.add_user("bob")
    handle = f"@bob@{b.urls.authority}"
    shots = artifacts_dir() / "journey"
    shots.mkdir(exist_ok=True)
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 375, "height": 740})
        violations = await watch_csp(page)
        # When she signs in
        await page.goto(f"{a.base}/auth/sign_in")
        await page.fill("#username", "alice")
        await page.fill("#password", PASSWORD)
        async with page.expect_navigation():
            await page.click("#submit")
        assert page.url == f"{a.base}/home"
        # And posts a photo, described for those who cannot see it
        await page.fill("#status", "Our ward's new pressure-ulcer turning chart")
        await page.set_input_files("#file", _png(tmp_path / "chart.png"))
        await page.fill("#description", "A chart of two-hourly turns, left side, back, right side")
        async with page.expect_navigation():
            await page.click("#post")
        # Then it is first on her home page, with its alt text
        first = page.locator("ol.timeline > li").first
        assert "turning chart" in await first.locator(".content").inner_text()
        assert await first.locator("img").get_attribute("alt") == \
            "A chart of two-hourly turns, left side, back, right side"
        await page.screenshot(path=shots / "home-with-photo-phone.png", full_page=True)

        # When she finds bob at B by his handle, and follows him
        await page.set_viewport_size({"width": 1280, "height": 800})
        await page.click("#nav-search")
        await page.fill("#q", handle)
        await page.click("#search-submit")
        await page.locator("#found-accounts .account a.author").click()
        assert await page.inner_text("#profile-handle") == handle
        await page.click("#follow")
        await settle(a, b)  # B accepts
        await page.reload()
        assert await page.inner_text("#unfollow") == "Unfollow"

        # And goes back to her home page, which listens for new posts
        await page.click("#nav-home")
        await page.locator("#timeline[data-connected=true]").wait_for()
        # When bob posts at B
        await drafts.publish(b.fed, bob, Draft(text="Sedation audit results are in: see the thread"))
        await settle(a, b)
        # Then it arrives on her page without a reload
        news = page.locator("ol.timeline > li").first
        await news.locator(".content", has_text="Sedation audit results").wait_for()
        assert await news.locator(".author").inner_text() == "bob"
        await page.screenshot(path=shots / "home-live-desktop.png", full_page=True)

        # When she boosts it in place
        await news.locator("button[data-kind=boost]").click()
        await page.locator("ol.timeline > li").first.locator("button[data-kind=boost].on").wait_for()
        # And replies to it from its page
        await page.locator("ol.timeline > li").first.get_by_role("link", name="Reply").click()
        await page.fill("#status", f"{handle} thank you, sharing with our sedation team")
        async with page.expect_navigation():
            await page.click("#post")
        assert "sharing with our sedation team" in await page.inner_text("main")
        assert await axe_violations(page) == []
        await page.screenshot(path=shots / "thread-desktop.png", full_page=True)
    assert violations == []

    # Then hospital B has her reply in bob's thread, and her boost on his post
    await settle(a, b)
    async with b.db.sessions() as session:
        original = await session.scalar(select(Object).where(Object.actor_id == bob.id))
        reply = await session.scalar(select(Object).where(Object.in_reply_to_uri == original.uri))
    assert reply is not None and "sharing with our sedation team" in reply.content
    headers = await token_for(b, "bob", create=False)
    async with http.get(f"{b.base}/api/v1/statuses/{original.id}", headers=headers) as response:
        status = await response.json()
    assert status["reblogs_count"] == 1 and status["replies_count"] == 1
