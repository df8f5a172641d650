"""The admin console in a real headless Chromium, between two real instances: B's admin sees
that A knocked (a follow B refused), allows A from the pending list, sees federation start
(the follow accepted, a delivery to A in A's health), blocks A, and downloads the block list.
Then every console page at phone width: labelled controls, no CSP violation."""

from __future__ import annotations

from sqlalchemy import select

from federation.outbox import relations
from federation.peers import decisions
from federation.peers.greeting import greet_allowed
from storage.models import Follow, FollowState, PeerState
from tests.browser import artifacts_dir, chromium, expect, watch_csp
from tests.instances import settle
from tests.test_allow_later import _bob_as_seen_by_a, _peer
from tests.test_web_layout_browser import UNLABELLED
from tests.web_helpers import PASSWORD

CONSOLE = ("/admin", "/admin/peers", "/admin/queues", "/admin/reports", "/admin/users", "/admin/audit", "/admin/settings")


async def _follow_state(instance) -> FollowState:
    async with instance.db.sessions() as session:
        return (await session.scalar(select(Follow))).state


async def test_an_admin_allows_a_peer_that_knocked_sees_it_federate_blocks_it_and_exports_the_list(
        instances, http, tmp_path):
    # Given A allows B, and B (allowlist) has not allowed A; alice at A follows bob at B
    a = await instances.start("a", federation={"mode": "allowlist"})
    b = await instances.start("b", federation={"mode": "allowlist"})
    await a.add_user("alice")
    await b.add_user("bob")
    await b.add_user("root", admin=True)
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.allowed, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    bob = await _bob_as_seen_by_a(a, b, http)
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), bob)
    await a.step()  # B refuses the delivery: A knocked
    await b.fed.contacts.flush(b.db)
    peer = a.urls.authority
    async with chromium() as browser:
        page = await browser.new_page(accept_downloads=True)
        violations = await watch_csp(page)
        await page.goto(f"{b.base}/auth/sign_in")
        await page.fill("#username", "root")
        await page.fill("#password", PASSWORD)
        await page.click("#submit")
        # When B's admin opens the console, Then A waits for a decision, with how it knocked
        await page.click("#nav-admin")
        assert await page.inner_text("#pending-count") == "1"
        await page.click("#tab-peers")
        row = page.locator(f'[id="pending-{peer}"]')
        assert await row.locator("td").first.inner_text() == "1"  # one refused request
        assert await row.locator(".signature").inner_text() == "not verified"
        # When the admin allows it in one click
        await row.locator("button.allow").click()
        # Then it is allowed, no longer pending, and B's policy lets A in at once
        assert await page.locator("#done").is_visible()
        await expect(page.locator(f'[id="pending-{peer}"]')).to_have_count(0)
        health = page.locator(f'[id="peer-{peer}"]')
        assert await health.locator(".state").inner_text() == "allowed"
        assert b.fed.policy.allows(peer)
        # And federation starts: B greets A, A delivers the follow, bob's Accept reaches A
        assert await greet_allowed(b.fed) == 1
        await settle(a, b)
        assert await _follow_state(a) is FollowState.accepted
        await page.reload()
        assert await health.locator(".last-success").inner_text() != "—"
        assert await health.locator(".backlog").inner_text() == "0 queued, 0 dead"
        await page.screenshot(path=artifacts_dir() / "admin-peers.png", full_page=True)

        # When the admin blocks A from its row
        await health.locator("button.block").click()
        # Then A is blocked, and the follows between them are severed
        assert await health.locator(".state").inner_text() == "blocked"
        assert not b.fed.policy.allows(peer)
        assert (await _peer(b, peer)).state is PeerState.blocked
        # When the admin downloads the block list, Then it is Mastodon's CSV, naming A
        async with page.expect_download() as download_info:
            await page.click("#export-blocked")
        download = await download_info.value
        assert download.suggested_filename.endswith("-blocked.csv")
        text = (tmp_path / "blocked.csv")
        await download.save_as(text)
        lines = text.read_text().splitlines()
        assert lines[0] == "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
        assert lines[1].startswith(f"{peer},suspend,")
        # And the audit log shows both decisions, by the admin
        await page.click("#tab-audit")
        await page.fill("#action", "peer.")
        await page.click("#filter")
        await expect(page.locator("#audit td.action")).to_have_text(["peer.blocked", "peer.allowed"])
        assert set(await page.locator("#audit td.actor").all_inner_texts()) == {"web:root"}

        # And every console page fits a phone, each control labelled
        await page.set_viewport_size({"width": 375, "height": 740})
        for path in CONSOLE:
            await page.goto(f"{b.base}{path}")
            assert await page.evaluate(UNLABELLED) == [], path
            assert await page.evaluate("document.documentElement.scrollWidth") <= 375, path
        await page.goto(f"{b.base}/admin/users")
        await page.screenshot(path=artifacts_dir() / "admin-users-phone.png", full_page=True)
    assert violations == []
