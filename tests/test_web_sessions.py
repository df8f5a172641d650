"""Signing in and out of the web pages over plain HTTP: the session cookie, the server-side
session row, and the lock-out after repeated failures."""

from __future__ import annotations

import asyncio

from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from federation.social import accounts
from server.app import create_app
from server.appkeys import DATABASE, URLS
from storage.models import WebSession
from tests.clock import FakeClock
from tests.instances import free_port, prepare_database, settings_for
from tests.web_helpers import PASSWORD, browser_like, form_token, page_token, set_cookie_headers, sign_in, submit


async def _sessions(instance) -> list[WebSession]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(WebSession)))


async def test_sign_in_opens_a_server_side_session_and_sign_out_ends_it(instances):
    # Given a practitioner
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as http:
        # When she signs in with a wrong password, Then no session is opened
        response = await sign_in(http, a.base, "alice", "not my password")
        assert response.status == 400 and not set_cookie_headers(response, "rounds_session")
        assert await _sessions(a) == []
        # When she signs in with the right one, Then she is sent home with a session cookie
        response = await sign_in(http, a.base, "alice")
        assert response.status == 303 and response.headers["Location"] == "/home"
        [cookie] = set_cookie_headers(response, "rounds_session")
        token = cookie.split(";")[0].split("=", 1)[1]
        # And the cookie is HttpOnly and SameSite=Lax, and not Secure over plain http
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "samesite", "path"} <= attributes and "secure" not in attributes
        assert "samesite=lax" in cookie.lower()
        # And the server keeps only the token's digest
        [row] = await _sessions(a)
        assert row.token_hash != token and token not in row.token_hash and row.revoked_at is None
        # And the front page and the sign-in page now send her home
        async with http.get(f"{a.base}/", allow_redirects=False) as front:
            assert front.status == 303 and front.headers["Location"] == "/home"
        async with http.get(f"{a.base}/auth/sign_in", allow_redirects=False) as signed_in:
            assert signed_in.status == 303 and signed_in.headers["Location"] == "/home"

        # When she signs out
        out = await submit(http, a.base, "/auth/sign_out")
        assert out.status == 303 and out.headers["Location"] == "/auth/sign_in"
    # Then the session is revoked on the server, so a copy of the old cookie opens nothing
    [row] = await _sessions(a)
    assert row.revoked_at is not None
    async with browser_like() as thief:
        thief.cookie_jar.update_cookies({"rounds_session": token})
        async with thief.get(f"{a.base}/auth/sign_in", allow_redirects=False) as response:
            assert response.status == 200
        async with thief.get(f"{a.base}/", allow_redirects=False) as response:
            assert response.status == 200 and 'id="about"' in await response.text()


async def test_a_made_up_or_expired_session_signs_in_nobody(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as http:
        http.cookie_jar.update_cookies({"rounds_session": "x" * 43})
        async with http.get(f"{a.base}/auth/sign_in", allow_redirects=False) as response:
            assert response.status == 200
        assert (await sign_in(http, a.base, "alice")).status == 303
        async with http.get(f"{a.base}/auth/sign_in", allow_redirects=False) as response:
            assert response.status == 303
        # When two weeks pass, Then the session has expired
        a.clock.advance(days=15)
        async with http.get(f"{a.base}/auth/sign_in", allow_redirects=False) as response:
            assert response.status == 200


async def test_repeated_failures_lock_the_username_out_for_a_while(instances):
    # Given an instance that allows two failed sign-ins a minute
    a = await instances.start(api={"login_attempts_per_minute": 2})
    await a.add_user("alice")
    async with browser_like() as http:
        for _ in range(2):
            assert (await sign_in(http, a.base, "alice", "guess")).status == 400
        # When the limit is reached, Then even the right password is refused for now
        response = await sign_in(http, a.base, "alice")
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert not set_cookie_headers(response, "rounds_session")
        # And a minute later it works
        a.clock.advance(seconds=61)
        assert (await sign_in(http, a.base, "alice")).status == 303


async def test_guesses_sent_in_parallel_are_counted_before_any_is_checked(instances):
    # Given an instance that allows five failed sign-ins a minute
    a = await instances.start(api={"login_attempts_per_minute": 5})
    await a.add_user("alice")
    async with browser_like() as http:
        token = await page_token(http, f"{a.base}/auth/sign_in")

        async def guess(n: int) -> int:
            async with http.post(f"{a.base}/auth/sign_in", allow_redirects=False, data={
                    "csrf_token": token, "username": "alice", "password": f"guess {n}"}) as response:
                return response.status

        # When 30 wrong passwords arrive at once
        statuses = await asyncio.gather(*(guess(n) for n in range(30)))
        # Then five are checked, and the others refused unchecked
        assert sorted(statuses) == [400] * 5 + [429] * 25
        # And a right password a minute later works, and does not count as a failure
        a.clock.advance(seconds=61)
        for _ in range(6):
            assert (await sign_in(http, a.base, "alice")).status == 303


async def test_failures_on_the_oauth_form_count_towards_the_web_lockout(instances):
    # Given two failed password grants (the client API's sign-in) for alice
    a = await instances.start(api={"login_attempts_per_minute": 2, "password_grant": True})
    await a.add_user("alice")
    async with browser_like() as http:
        async with http.post(f"{a.base}/api/v1/apps", data={
                "client_name": "x", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": "read"}) as response:
            app = await response.json()
        for _ in range(2):
            async with http.post(f"{a.base}/oauth/token", data={
                    "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                    "username": "alice", "password": "guess", "scope": "read"}) as response:
                assert response.status == 400
        # Then the web form is locked too: one limit, whichever door is tried
        assert (await sign_in(http, a.base, "alice")).status == 429


async def test_the_session_cookie_is_secure_under_an_https_public_url(tmp_path):
    # Given an instance whose public URL is https (behind a TLS-terminating proxy)
    port = free_port()
    settings = settings_for(tmp_path, "https://social.chu-example.org", None, port)
    await prepare_database(settings)
    app = create_app(settings, clock=FakeClock(), workers=False)
    async with TestClient(TestServer(app, port=port)) as client:
        async with app[DATABASE].sessions.begin() as session:
            await accounts.create_user(session, app[URLS], "alice", password=PASSWORD)
        # When she signs in
        async with client.get("/auth/sign_in") as response:
            [csrf_cookie] = set_cookie_headers(response, "__Host-rounds_csrf")
            token = form_token(await response.text())
        async with client.post("/auth/sign_in", allow_redirects=False,
                               headers={"Cookie": csrf_cookie.split(";")[0]},
                               data={"csrf_token": token, "username": "alice", "password": PASSWORD}) as response:
            assert response.status == 303
            [cookie] = set_cookie_headers(response, "__Host-rounds_session")
    # Then both cookies are Secure, HttpOnly and SameSite=Lax, with the __Host- name
    for value in (cookie, csrf_cookie):
        lowered = value.lower()
        assert "; secure" in lowered and "; httponly" in lowered and "samesite=lax" in lowered and "path=/" in lowered


async def test_pages_with_a_form_token_are_never_cached_and_a_strangers_about_page_may_be(instances):
    # Given alice, and public pages on
    a = await instances.start(web={"public_pages": "all"})
    await a.add_user("alice")
    async with browser_like() as http:
        # When a stranger reads the about page and the sign-in form
        async with http.get(f"{a.base}/about") as response:
            assert "Cache-Control" not in response.headers
        async with http.get(f"{a.base}/auth/sign_in") as response:
            assert response.headers["Cache-Control"] == "no-store"
        # Then, signed in, every page she reads (each carries her sign-out form) is no-store
        await sign_in(http, a.base, "alice")
        for page in ("/home", "/about", "/@alice", "/settings/preferences", "/notifications", "/search?q=x"):
            async with http.get(f"{a.base}{page}") as response:
                assert response.status == 200 and response.headers["Cache-Control"] == "no-store", page
