"""The OAuth login and consent page in a real headless Chromium: the CSRF cookie, the form and
the out-of-band code page work in a browser, not only for a hand-made HTTP client."""

from __future__ import annotations

from urllib.parse import urlencode

from tests.browser import chromium
from tests.test_oauth import OOB, PASSWORD, exchange, get, register


async def test_sign_in_and_authorize_in_a_browser(instances, http, tmp_path):
    # Given a practitioner and an app that uses the out-of-band redirect
    a = await instances.start()
    await a.add_user("alice")
    app = await register(http, a.base, redirect_uris=OOB, scopes="read write")
    link = f"{a.base}/oauth/authorize?" + urlencode({
        "response_type": "code", "client_id": app["client_id"], "redirect_uri": OOB, "scope": "read write:statuses"})
    async with chromium() as browser:
        page = await browser.new_page()
        # When she opens the link, Then the page names the app and what it may do
        response = await page.goto(link)
        assert response.status == 200
        assert await page.inner_text("#app-name") == "Ward App"
        assert "write:statuses: change your statuses" in await page.inner_text("#scopes")

        # When she mistypes her password, Then she is told so and may try again
        await page.fill("#username", "alice")
        await page.fill("#password", "not my password")
        await page.click("#approve")
        assert "wrong username or password" in await page.inner_text("#error")

        # When she signs in and approves, Then she sees a code to paste into the app
        await page.fill("#password", PASSWORD)
        await page.click("#approve")
        code = (await page.inner_text("#code")).strip()
        await page.screenshot(path=tmp_path / "oauth-code.png")

    # And the app can exchange that code for a working token
    status, issued = await exchange(http, a.base, app, code, redirect_uri=OOB)
    assert status == 200 and issued["scope"] == "read write:statuses"
    assert (await get(http, f"{a.base}/api/v1/apps/verify_credentials", issued["access_token"]))[0] == 200
