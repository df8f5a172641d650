"""The people pages in a real headless Chromium: a practitioner finds a colleague at another
hospital by her handle, opens her profile, follows her and sees her among those she follows;
then answers a follow request from her notifications; the pages fit a phone and a desktop."""

from __future__ import annotations

from federation.outbox import drafts, relations
from federation.social.compose import Draft
from tests.browser import axe_violations, chromium, expect, watch_csp
from tests.instances import settle
from tests.test_web_layout_browser import UNLABELLED, WIDTHS
from tests.web_helpers import PASSWORD


async def _sign_in(page, base: str, username: str) -> None:
    await page.goto(f"{base}/auth/sign_in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    await page.click("#submit")


async def test_search_a_remote_handle_open_the_profile_follow_and_see_it_in_following(instances, tmp_path):
    # Given alice at hospital A, and bob at hospital B with a post, unknown to A
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    _, bob = await b.add_user("bob")
    await drafts.publish(b.fed, bob, Draft(text="Our ward's falls-prevention checklist"))
    handle = f"@bob@{b.urls.authority}"
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base, "alice")
        # When she searches for his handle from the navigation
        await page.click("#nav-search")
        await page.fill("#q", handle)
        await page.click("#search-submit")
        # Then B's bob is found, and she opens his profile
        found = page.locator("#found-accounts .account a.author")
        await expect(found).to_have_count(1)
        await found.click()
        assert await page.inner_text("#profile-handle") == handle
        assert await axe_violations(page) == []
        await page.screenshot(path=tmp_path / "remote-profile.png", full_page=True)
        # When she follows him, Then the profile says it is requested, with a way to cancel
        await page.click("#follow")
        assert await page.inner_text("#requested") == "Requested"
        assert await page.inner_text("#unfollow") == "Cancel request"
        # And once hospital B has accepted, she follows him
        await settle(a, b)
        await page.reload()
        assert await page.inner_text("#unfollow") == "Unfollow"
        assert await page.inner_text("#count-followers") == "1"
        # And he is among those she follows, on her own profile
        await page.click("#nav-profile")
        await page.click("#tab-following")
        await expect(page.locator("#following .account .handle")).to_have_text([handle])
        await page.screenshot(path=tmp_path / "following.png", full_page=True)
    assert violations == []


async def test_accept_a_follow_request_from_the_notifications(instances):
    # Given carol approves each follower, and alice asked to follow her
    a = await instances.start()
    _, alice = await a.add_user("alice")
    _, carol = await a.add_user("carol")
    async with a.fed.transaction() as session:
        carol.manually_approves_followers = True
        await session.merge(carol)
    async with a.fed.transaction() as session:
        await relations.follow(a.fed, session, alice, carol)
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base, "carol")
        # Then her navigation shows one unread notification
        assert await page.inner_text("#unread-count") == "1"
        assert await axe_violations(page) == []
        # When she opens her notifications and accepts the request
        await page.click("#nav-notifications")
        await expect(page.locator("#unread-count")).to_have_count(0)
        assert await axe_violations(page) == []  # the request and its buttons
        await page.click(f"#authorize-{alice.id}")
        # Then the request is answered, and alice is among her followers
        assert page.url == f"{a.base}/notifications"
        await expect(page.locator(f"#authorize-{alice.id}")).to_have_count(0)
        await page.click("#nav-profile")
        await page.click("#tab-followers")
        await expect(page.locator("#followers .account a.author")).to_have_text(["alice"])
    assert violations == []


async def test_the_people_pages_fit_a_phone_and_a_desktop_with_labelled_controls(instances, tmp_path):
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    await drafts.publish(a.fed, bob, Draft(text="@alice " + "handoverchecklist" * 12 + " #handover"))
    async with chromium() as browser:
        for width_name, (width, height) in WIDTHS.items():
            page = await browser.new_page(viewport={"width": width, "height": height}, locale="fr-FR")
            violations = await watch_csp(page)
            await _sign_in(page, a.base, "alice")
            for path in (f"/accounts/{bob.id}", f"/accounts/{bob.id}/following", "/notifications",
                         "/search?q=hand&resolve=true", "/search"):
                await page.goto(f"{a.base}{path}")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, width_name)
                assert await page.evaluate(UNLABELLED) == [], path
            await page.goto(f"{a.base}/accounts/{bob.id}")
            assert await page.inner_text("#follow") == "Suivre"
            await page.screenshot(path=tmp_path / f"profile-{width_name}.png", full_page=True)
            await page.close()
            assert violations == [], width_name
