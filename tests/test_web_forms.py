"""The form token over plain HTTP: a browser's POST to the web pages without the right token is
refused, 403, with a log line; and no route that browsers' cookies authenticate escapes it."""

from __future__ import annotations

import logging
import re

from tests.web_helpers import PASSWORD, browser_like, page_token, set_cookie_headers, sign_in, submit

UNSAFE = ("POST", "PUT", "PATCH", "DELETE")
TOKEN_AUTHENTICATED = ("/api/", "/oauth/")  # bearer tokens and client secrets, never cookies
SIGNED = re.compile(r"(^|/)inbox$")         # ActivityPub inboxes: HTTP signatures


async def test_a_sign_in_without_the_form_token_is_refused_and_logged(instances, caplog):
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as http:
        token = await page_token(http, f"{a.base}/auth/sign_in")
        for sent in ({}, {"csrf_token": ""}, {"csrf_token": token[:-2] + "xx"}):
            caplog.clear()
            with caplog.at_level(logging.WARNING, logger="server.web.forms"):
                async with http.post(f"{a.base}/auth/sign_in", allow_redirects=False,
                                     data={"username": "alice", "password": PASSWORD, **sent}) as response:
                    assert response.status == 403
                    assert not set_cookie_headers(response, "rounds_session")
                    assert "This form was refused" in await response.text()
            assert any("form token is missing or wrong" in record.getMessage() for record in caplog.records)
        # And the right token still works
        assert (await sign_in(http, a.base, "alice")).status == 303


async def test_another_browsers_token_does_not_fit(instances):
    # Given a page opened by someone else's browser (an attacker's page could embed its token)
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as attacker:
        stolen = await page_token(attacker, f"{a.base}/auth/sign_in")
    async with browser_like() as http:
        await page_token(http, f"{a.base}/auth/sign_in")
        # When alice's browser posts the attacker's token, Then it is refused
        async with http.post(f"{a.base}/auth/sign_in", allow_redirects=False,
                             data={"csrf_token": stolen, "username": "alice", "password": PASSWORD}) as response:
            assert response.status == 403


async def test_signing_out_needs_the_token_too(instances):
    # Given alice signed in
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as http:
        assert (await sign_in(http, a.base, "alice")).status == 303
        # When another site's page posts the sign-out form (no token), Then she stays signed in
        async with http.post(f"{a.base}/auth/sign_out", allow_redirects=False) as response:
            assert response.status == 403
        async with http.get(f"{a.base}/auth/sign_in", allow_redirects=False) as response:
            assert response.status == 303
        # And the token her signed-in pages carry is a new one, tied to her session
        assert (await submit(http, a.base, "/auth/sign_out")).status == 303


async def test_every_route_a_cookie_could_authenticate_checks_the_token(instances):
    # Given every route that takes a write and is not authenticated by a token or a signature
    a = await instances.start()
    await a.add_user("alice")
    paths = sorted({re.sub(r"\{[^}]+\}", "1", route.resource.canonical) for route in a.app.router.routes()
                    if route.method in UNSAFE and route.resource is not None
                    and not route.resource.canonical.startswith(TOKEN_AUTHENTICATED)
                    and not SIGNED.search(route.resource.canonical)})
    assert "/auth/sign_in" in paths and "/auth/sign_out" in paths
    async with browser_like() as http:
        assert (await sign_in(http, a.base, "alice")).status == 303
        # When a signed-in browser posts to each without the token, Then each refuses
        for path in paths:
            async with http.post(f"{a.base}{path}", data={"status": "forged"}, allow_redirects=False) as response:
                assert response.status == 403, path
