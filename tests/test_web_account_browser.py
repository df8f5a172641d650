"""The account settings in a real headless Chromium: setting up a second factor and signing
in with a code (in French), editing the profile with an avatar and seeing it on the profile
page; every new page usable at phone and desktop widths, labelled, within the page policy."""

from __future__ import annotations

from PIL import Image

from federation.social.second_factor import code_at, step_at
from tests.browser import chromium, expect, watch_csp
from tests.web_helpers import PASSWORD

WIDTHS = {"phone": (375, 740), "desktop": (1280, 800)}
UNLABELLED = """[...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.id || control.name)"""


async def _sign_in(page, base: str) -> None:
    await page.goto(f"{base}/auth/sign_in")
    await page.fill("#username", "alice")
    await page.fill("#password", PASSWORD)
    await page.click("#submit")


async def test_she_sets_up_a_second_factor_and_signs_in_with_a_code(instances):
    # Given alice, who reads the pages in French
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        context = await browser.new_context(locale="fr-FR", extra_http_headers={"Accept-Language": "fr"})
        page = await context.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base)
        # When she opens her security settings and sets a second factor up
        await page.goto(f"{a.base}/settings/security")
        assert await page.inner_text("h1") == "Mot de passe et second facteur"
        await page.click("#begin-totp")
        # Then she sees the key as text and as an otpauth link for her app
        secret = await page.inner_text("#totp-secret")
        assert (await page.get_attribute("#totp-uri", "href")).startswith("otpauth://totp/")
        # When she types the code her app shows, Then it is on and she gets her recovery codes
        await page.fill("#otp_attempt", code_at(secret, step_at(a.clock.now())))
        await page.click("#confirm-totp")
        await expect(page.locator("#recovery-codes li")).to_have_count(10)
        # When she signs out and in again
        await page.click("#sign-out")
        a.clock.advance(seconds=30)
        await _sign_in(page, a.base)
        # Then she is asked for a code; a wrong one is refused, in French
        assert page.url == f"{a.base}/auth/second_factor"
        await page.fill("#otp_attempt", "000000" if code_at(secret, step_at(a.clock.now())) != "000000" else "111111")
        await page.click("#submit")
        assert await page.inner_text("#error") == "Code erroné ou déjà utilisé."
        # And the right one signs her in
        await page.fill("#otp_attempt", code_at(secret, step_at(a.clock.now())))
        await page.click("#submit")
        assert page.url == f"{a.base}/home"
        assert violations == []
        await context.close()


async def test_she_edits_her_profile_with_an_avatar_and_sees_it_on_her_profile(instances, tmp_path):
    # Given alice signed in, and a photo of hers
    a = await instances.start()
    await a.add_user("alice")
    photo = tmp_path / "alice.png"
    Image.new("RGB", (64, 64), (30, 90, 160)).save(photo, format="PNG")
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base)
        # When she fills in her profile with the photo as avatar and a field, and saves
        await page.goto(f"{a.base}/settings/profile")
        await page.fill("#display_name", "Dr Alice Martin")
        await page.fill("#note", "Infection control nurse")
        await page.set_input_files("#avatar", str(photo))
        await page.fill("#field-0-name", "Unit")
        await page.fill("#field-0-value", "ICU north")
        await page.click("#save")
        # Then she is told it is saved, with the avatar shown
        assert page.url == f"{a.base}/settings/profile?saved"
        assert await page.is_visible("#saved") and await page.is_visible("#current-avatar")
        # And her profile page shows her name, her field and the avatar, loaded
        await page.goto(f"{a.base}/@alice")
        assert await page.inner_text("#profile h1") == "Dr Alice Martin"
        assert "ICU north" in await page.inner_text("#profile-fields")
        assert await page.evaluate("document.querySelector('#profile-avatar').naturalWidth") == 64
        assert violations == []


async def test_the_account_pages_fit_a_phone_and_a_desktop_and_are_labelled(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        for width_name, (width, height) in WIDTHS.items():
            page = await browser.new_page(viewport={"width": width, "height": height})
            violations = await watch_csp(page)
            await _sign_in(page, a.base)
            await page.goto(f"{a.base}/settings/security")
            if await page.is_visible("#begin-totp"):  # then the enrolment form, with its long otpauth link
                await page.click("#begin-totp")
            for path in ("/settings/profile", "/settings/security", "/settings/apps", "/settings/export"):
                await page.goto(f"{a.base}{path}")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, width_name)
                assert await page.evaluate(UNLABELLED) == [], path
            await page.close()
            assert violations == [], width_name
