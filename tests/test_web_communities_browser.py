"""The communities' pages in a real headless Chromium, across two real instances: a moderator at
hospital A creates an approval community from the directory; a practitioner at hospital B finds
it by its handle and asks to join, as does a colleague at A from its page; the moderator approves
both on the community's page; B's member posts a thread from B, which A's community relays; the
moderator pins it (it comes first) and removes another post; a member who moderates nothing sees
no tools."""

from __future__ import annotations

from tests.browser import axe_violations, chromium, expect, watch_csp
from tests.instances import settle
from tests.web_helpers import PASSWORD


async def _sign_in(page, base: str, username: str) -> None:
    await page.goto(f"{base}/auth/sign_in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("#submit")


async def test_create_join_approve_post_pin_and_remove_across_two_hospitals(instances, tmp_path):
    # Given alice, an admin at hospital A, carol at A, and bob at hospital B
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice", admin=True)
    await a.add_user("carol")
    await b.add_user("bob")
    async with chromium() as browser:
        alice, carol, bob = (await browser.new_page(), await browser.new_page(), await browser.new_page())
        violations = [*await watch_csp(alice), *await watch_csp(bob)]
        await _sign_in(alice, a.base, "alice")
        await _sign_in(carol, a.base, "carol")
        await _sign_in(bob, b.base, "bob")

        # When alice creates an approval community from the directory
        await alice.click("#nav-communities")
        await alice.fill("#community-name", "wound-care")
        await alice.fill("#community-title", "Wound care")
        await alice.fill("#community-summary", "Dressings, debridement, pressure ulcers")
        await alice.fill("#community-rules", "No patient data\nCite your sources")
        await alice.check("#join-policy-approval")
        async with alice.expect_navigation():
            await alice.click("#create-submit")
        # Then she is on its page, which says what it is and that she moderates it
        assert alice.url.endswith("/communities/wound-care")
        assert await alice.inner_text("#community-name") == "Wound care"
        await expect(alice.locator("#rules li")).to_have_text(["No patient data", "Cite your sources"])
        assert await alice.inner_text("#join-policy") == "A moderator approves each member"
        assert "alice" in await alice.inner_text("#moderators")
        assert await alice.inner_text("#no-applicants") == "No one is waiting."

        # When bob, at B, finds it by its handle and asks to join
        await bob.click("#nav-search")
        await bob.fill("#q", f"@wound-care@{a.urls.authority}")
        await bob.click("#search-submit")
        await bob.locator("#found-accounts .account a.author").click()
        await bob.click("#follow")
        assert await bob.inner_text("#requested") == "Requested"
        # And carol asks from the directory
        await carol.click("#nav-communities")
        await carol.click("#join-wound-care")
        assert await carol.inner_text("#pending-wound-care") == "Request pending"
        await settle(a, b)

        # Then alice sees both requests on the page, and approves them
        await alice.reload()
        applicants = alice.locator("#applicants > li")
        assert sorted(text.split()[0] for text in await applicants.all_inner_texts()) == ["bob", "carol"]
        assert f"@bob@{b.urls.authority}" in await applicants.filter(has_text="bob").inner_text()
        for name in ("bob", "carol"):
            async with alice.expect_navigation():
                await applicants.filter(has_text=name).locator("[id^=approve-]").click()
        assert await alice.inner_text("#no-applicants") == "No one is waiting."
        assert await alice.inner_text("#member-count") == "2"
        await settle(a, b)
        # And bob is a member, as B's pages say
        await bob.reload()
        assert await bob.inner_text("#unfollow") == "Unfollow"
        await bob.click("#nav-communities")
        assert "Wound care" in await bob.inner_text("#elsewhere")

        # When bob posts a thread to it from B, mentioning it
        await bob.click("#nav-home")
        await bob.fill("#status", f"@wound-care@{a.urls.authority} Heel ulcers: foam or hydrocolloid?")
        async with bob.expect_navigation():
            await bob.click("#compose button[type=submit]")
        await settle(a, b)
        # And carol posts one from the community's page
        await carol.goto(f"{a.base}/communities/wound-care")
        await carol.fill("#status", "Anyone selling a bike?")
        async with carol.expect_navigation():
            await carol.click("#post-thread")
        await settle(a, b)
        # Then both are threads on A's page, newest first; carol, who moderates nothing, has no tools
        threads = carol.locator("#thread-list > li")
        await expect(threads).to_have_count(2)
        assert "Anyone selling a bike?" in await threads.nth(0).inner_text()
        await expect(carol.locator("#moderation")).to_have_count(0)
        await expect(carol.locator("[id^=pin-]")).to_have_count(0)

        # When alice pins bob's thread
        await alice.reload()
        bobs = alice.locator("#thread-list > li", has_text="Heel ulcers")
        async with alice.expect_navigation():
            await bobs.locator("[id^=pin-]").click()
        # Then it comes first, pinned
        first = alice.locator("#thread-list > li").first
        assert "Heel ulcers" in await first.inner_text()
        assert await first.locator(".badge.pin").inner_text() == "Pinned"
        assert await axe_violations(alice) == []
        await alice.screenshot(path=tmp_path / "community.png", full_page=True)
        # When she removes carol's post from the community
        carols = alice.locator("#thread-list > li", has_text="selling a bike")
        async with alice.expect_navigation():
            await carols.locator("[id^=remove-]").click()
        # Then it is no longer among its threads, and bob's pinned thread stays
        assert await alice.locator("#thread-list > li").all_inner_texts() != []
        await expect(alice.locator("#thread-list > li", has_text="selling a bike")).to_have_count(0)
        await expect(alice.locator("#thread-list > li")).to_have_count(1)
        await carol.reload()
        await expect(carol.locator("#thread-list > li", has_text="selling a bike")).to_have_count(0)
        assert "Heel ulcers" in await carol.locator("#thread-list > li").first.inner_text()
    assert violations == []
