"""The public HTML pages as a person sees them, in a real headless Chromium."""

from __future__ import annotations

from tests.browser import chromium, watch_csp


async def test_profile_about_and_not_found_pages_render(instances, tmp_path):
    # Given an instance with a practitioner
    a = await instances.start(instance={"name": "CHU Example", "contact_email": "it@chu.example"})
    await a.add_user("alice")
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        # When a browser opens her profile (the actor URL, negotiated to HTML)
        response = await page.goto(f"{a.base}/users/alice")
        # Then it shows her name and handle, and links the ActivityPub document
        assert response.status == 200
        assert await page.inner_text("#profile h1") == "alice"
        assert await page.inner_text("#profile .p-nickname") == f"@alice@{a.urls.authority}"
        assert await page.get_attribute('link[rel="alternate"]', "href") == f"{a.base}/users/alice"
        assert "CHU Example" in await page.title()
        await page.screenshot(path=tmp_path / "profile.png")

        # And the about page counts practitioners and shows the contact
        response = await page.goto(f"{a.base}/about")
        assert response.status == 200
        assert await page.inner_text("#user-count") == "1"
        assert await page.inner_text("#post-count") == "0"
        assert await page.get_attribute('a[href^="mailto:"]', "href") == "mailto:it@chu.example"

        # And an unknown profile is a 404 page, not an error dump
        response = await page.goto(f"{a.base}/@nobody")
        assert response.status == 404
        assert "There is no @nobody" in await page.inner_text("main")

        # And every page was styled by the stylesheet, with nothing refused by the page policy
        assert await page.evaluate("getComputedStyle(document.body).maxWidth") != "none"
    assert violations == []
