"""The OAuth login and consent page in a real headless Chromium: the CSRF cookie, the form and
the out-of-band code page work in a browser, not only for a hand-made HTTP client."""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode

from aiohttp import web

from tests.browser import chromium, watch_csp
from tests.instances import side_server
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
        violations = await watch_csp(page)
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
    # And the page policy refused nothing on the way
    assert violations == []

    # And the app can exchange that code for a working token
    status, issued = await exchange(http, a.base, app, code, redirect_uri=OOB)
    assert status == 200 and issued["scope"] == "read write:statuses"
    assert (await get(http, f"{a.base}/api/v1/apps/verify_credentials", issued["access_token"]))[0] == 200


async def test_sign_in_redirects_back_to_the_app_under_the_page_policy(instances, http):
    # Given an app whose redirect_uri is its own small web server on loopback
    a = await instances.start()
    await a.add_user("alice")
    callbacks: list[str] = []

    async def callback(request: web.Request) -> web.Response:
        callbacks.append(request.query_string)
        return web.Response(text="back in the app", content_type="text/plain")

    async with side_server({"/callback": callback}) as app_base:
        redirect_uri = f"{app_base}/callback"
        app = await register(http, a.base, redirect_uris=redirect_uri, scopes="read")
        link = f"{a.base}/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": app["client_id"], "redirect_uri": redirect_uri,
            "scope": "read", "state": "s1"})
        async with chromium() as browser:
            page = await browser.new_page()
            violations = await watch_csp(page)
            # When she signs in and approves
            await page.goto(link)
            await page.fill("#username", "alice")
            await page.fill("#password", PASSWORD)
            async with page.expect_navigation(url=f"{redirect_uri}*"):
                await page.click("#approve")
            # Then the browser follows the redirect to the app, with a code and her state,
            # because the page policy lets this form lead to the app's origin
            assert await page.inner_text("body") == "back in the app"
            # And when she denies another request, the app hears that too
            await page.goto(link)
            async with page.expect_navigation(url=f"{redirect_uri}*"):
                await page.click("#deny")
        assert violations == []
    approved, denied = (parse_qs(query) for query in callbacks)
    assert approved["state"] == ["s1"] and approved["code"][0]
    assert denied["error"] == ["access_denied"] and denied["state"] == ["s1"]
    status, issued = await exchange(http, a.base, app, approved["code"][0], redirect_uri=redirect_uri)
    assert status == 200 and issued["scope"] == "read"
