"""Invitations in a real headless Chromium: an admin makes one from the console's users page, a
new practitioner opens its link in another browser context, signs up and lands on her home
page; both pages pass axe-core at phone width, with no CSP violation."""

from __future__ import annotations

from tests.browser import axe_violations, chromium, expect, watch_csp
from tests.web_helpers import PASSWORD


async def test_an_admin_invites_and_the_newcomer_signs_up_and_lands_home(instances):
    a = await instances.start()
    await a.add_user("root", admin=True)
    async with chromium() as browser:
        admin = await (await browser.new_context()).new_page()
        admin_violations = await watch_csp(admin)
        await admin.goto(f"{a.base}/auth/sign_in")
        await admin.fill("#username", "root")
        await admin.fill("#password", PASSWORD)
        await admin.click("#submit")
        # When the admin makes a single-use invitation from the users page
        await admin.click("#nav-admin")
        await admin.click("#tab-users")
        await admin.fill("#invite-note", "for Dr Yang")
        await admin.select_option("#invite-expires", "7")
        await admin.select_option("#invite-max-uses", "1")
        await admin.click("#invite")
        # Then the page lists it, with its link
        await admin.wait_for_selector("#invite-done")
        link = await admin.inner_text("#invitation-list .invite-link")
        assert link.startswith(f"{a.base}/auth/invite/")
        assert "0 / 1" in await admin.inner_text("#invitation-list .uses")
        await admin.set_viewport_size({"width": 375, "height": 800})
        assert await axe_violations(admin) == []

        # When a new practitioner opens the link in another browser and signs up
        newcomer = await (await browser.new_context()).new_page()
        newcomer_violations = await watch_csp(newcomer)
        await newcomer.set_viewport_size({"width": 375, "height": 800})
        await newcomer.goto(link)
        assert await axe_violations(newcomer) == []
        await newcomer.fill("#username", "cristina")
        await newcomer.fill("#password", PASSWORD)
        await newcomer.fill("#password-confirmation", PASSWORD)
        await newcomer.click("#submit")
        # Then she lands on her home page, signed in
        await newcomer.wait_for_url(f"{a.base}/home")
        await expect(newcomer.locator("#nav-profile")).to_have_count(1)
        # And the admin sees the link used up: it leaves the list
        await admin.reload()
        await expect(admin.locator("#invitation-list")).to_have_count(0)
        await expect(admin.locator("#no-invitations")).to_have_count(1)
        # And the link, opened again, says it is used up
        await newcomer.goto(link)
        assert await newcomer.get_attribute("#reason", "data-reason") == "used_up"
        assert admin_violations == [] and newcomer_violations == []
