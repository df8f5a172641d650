"""OAuth 2 over raw HTTP against a real instance: app registration, the authorization-code flow
with PKCE driven by posting the login form (no browser), and every way it must refuse.

The helpers here are shared with tests/test_oauth_grants.py.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import AsyncIterator
from html import unescape
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest
from sqlalchemy import func, select

from federation.social.accounts import hash_token
from storage.models import OAuthApp, OAuthCode, OAuthToken

PASSWORD = "correct horse battery"
REDIRECT = "https://app.example/callback"
OOB = "urn:ietf:wg:oauth:2.0:oob"


def pkce() -> tuple[str, str]:
    """(verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def hidden_fields(html: str) -> dict[str, str]:
    return {unescape(name): unescape(value)
            for name, value in re.findall(r'<input type="hidden" name="([^"]*)" value="([^"]*)"', html)}


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


async def register(http: aiohttp.ClientSession, base: str, *, scopes: str = "read write follow",
                   redirect_uris: str = REDIRECT, name: str = "Ward App") -> dict:
    async with http.post(f"{base}/api/v1/apps", data={
        "client_name": name, "redirect_uris": redirect_uris, "scopes": scopes, "website": "https://app.example",
    }) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def open_form(http: aiohttp.ClientSession, base: str, app: dict, **query: str) -> tuple[int, str]:
    """GET the authorize page; (status, html). The CSRF cookie lands in the session's jar."""
    params = {"response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
              "scope": "read write", "state": "st-42"} | query
    async with http.get(f"{base}/oauth/authorize?{urlencode(params)}", allow_redirects=False) as response:
        return response.status, await response.text()


async def submit(http: aiohttp.ClientSession, base: str, html: str, *, username: str = "alice",
                 password: str = PASSWORD, decision: str = "approve", **override: str) -> aiohttp.ClientResponse:
    """POST the form found in `html` as a browser would; the response is read and returned unfollowed."""
    form = hidden_fields(html) | {"username": username, "password": password, "decision": decision} | override
    async with http.post(f"{base}/oauth/authorize", data=form, allow_redirects=False) as response:
        await response.read()
        return response


async def authorize(http: aiohttp.ClientSession, base: str, app: dict, **query: str) -> str:
    """Sign in and approve; the code from the redirect."""
    status, html = await open_form(http, base, app, **query)
    assert status == 200, html
    response = await submit(http, base, html)
    assert response.status == 302, await response.text()
    return query_of(response.headers["Location"])["code"]


async def exchange(http: aiohttp.ClientSession, base: str, app: dict, code: str, **extra: str) -> tuple[int, dict]:
    form = {"grant_type": "authorization_code", "client_id": app["client_id"],
            "client_secret": app["client_secret"], "code": code, "redirect_uri": REDIRECT} | extra
    async with http.post(f"{base}/oauth/token", data=form) as response:
        return response.status, await response.json()


async def token_request(http: aiohttp.ClientSession, base: str, app: dict, **form: str) -> tuple[int, dict]:
    body = {"client_id": app["client_id"], "client_secret": app["client_secret"]} | form
    async with http.post(f"{base}/oauth/token", data=body) as response:
        return response.status, await response.json()


async def get(http: aiohttp.ClientSession, url: str, token: str) -> tuple[int, dict]:
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, await response.json()


@pytest.fixture(name="client")
async def client_fixture() -> AsyncIterator[aiohttp.ClientSession]:
    """A session that keeps cookies for 127.0.0.1, as a browser does (aiohttp's default jar drops
    cookies set by IP addresses)."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


async def _count(instance, model) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(model))


# Registration ------------------------------------------------------------------------------------


async def test_app_registration_shows_the_secret_once_and_stores_its_digest(instances, http):
    a = await instances.start()
    # When an app registers with a form body
    app = await register(http, a.base, redirect_uris=f"{REDIRECT}\n{OOB}")
    # Then it gets Mastodon's CredentialApplication
    assert app["name"] == "Ward App" and app["website"] == "https://app.example"
    assert app["redirect_uris"] == [REDIRECT, OOB] and app["redirect_uri"] == f"{REDIRECT}\n{OOB}"
    assert app["scopes"] == ["read", "write", "follow"] and app["client_secret_expires_at"] == 0
    assert len(app["client_secret"]) >= 43 and "vapid_key" in app
    # And only the secret's digest is stored
    async with a.db.sessions() as session:
        stored = await session.scalar(select(OAuthApp).where(OAuthApp.client_id == app["client_id"]))
    assert stored.client_secret_hash == hash_token(app["client_secret"]) != app["client_secret"]

    # When another registers with JSON, an array of URIs, default scopes and a trailing slash
    async with http.post(f"{a.base}/api/v1/apps/", json={"client_name": "Tusky", "redirect_uris": [
            "tusky://oauth", OOB]}) as response:
        second = await response.json()
    assert response.status == 200 and second["redirect_uris"] == ["tusky://oauth", OOB]
    assert second["scopes"] == ["read"] and second["client_id"] != app["client_id"]

    # When a third registers with a form body of repeated name[] fields
    form = aiohttp.FormData([("client_name", "Ward Pad"), ("redirect_uris[]", REDIRECT), ("redirect_uris[]", OOB),
                             ("scopes[]", "read"), ("scopes[]", "write:statuses")])
    async with http.post(f"{a.base}/api/v1/apps", data=form) as response:
        third = await response.json()
    assert response.status == 200 and third["redirect_uris"] == [REDIRECT, OOB]
    assert third["scopes"] == ["read", "write:statuses"]


@pytest.mark.parametrize("form, complaint", [
    ({"redirect_uris": REDIRECT}, "client_name"),
    ({"client_name": "x", "redirect_uris": "javascript:alert(1)"}, "absolute URI"),
    ({"client_name": "x", "redirect_uris": "https://app.example/cb#frag"}, "absolute URI"),
    ({"client_name": "x", "redirect_uris": ""}, "redirect_uris"),
    ({"client_name": "x", "redirect_uris": "http://[::1/cb"}, "absolute URI"),
    ({"client_name": "x", "redirect_uris": OOB, "website": "https:"}, "website"),
    ({"client_name": "x", "redirect_uris": OOB, "scopes": "read sudo"}, "unknown scope"),
])
async def test_app_registration_refuses_bad_fields(instances, http, form, complaint):
    a = await instances.start()
    async with http.post(f"{a.base}/api/v1/apps", data=form) as response:
        body = await response.json()
    assert response.status == 422 and complaint in body["error"]
    assert await _count(a, OAuthApp) == 0


# The authorization-code flow ---------------------------------------------------------------------


async def test_authorization_code_flow_with_pkce_then_the_token_works(instances, client):
    # Given a practitioner and a registered app
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    verifier, challenge = pkce()

    # When she opens the authorize link, the page names the app and the scopes, and cannot be framed
    status, html = await open_form(client, a.base, app, code_challenge=challenge, code_challenge_method="S256")
    assert status == 200 and "Ward App" in html and "<code>read</code>" in html and "<code>write</code>" in html
    assert hidden_fields(html)["csrf_token"] and hidden_fields(html)["code_challenge"] == challenge

    # And she signs in and approves: she is sent back to the app with a code and the state
    response = await submit(client, a.base, html)
    assert response.status == 302
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?") and query_of(location)["state"] == "st-42"
    code = query_of(location)["code"]

    # Then the app exchanges the code (with its verifier) for a token, stored only as a digest
    status, issued = await exchange(client, a.base, app, code, code_verifier=verifier)
    assert status == 200, issued
    assert issued["token_type"] == "Bearer" and issued["scope"] == "read write"
    assert isinstance(issued["created_at"], int)
    async with a.db.sessions() as session:
        stored = await session.scalar(select(OAuthToken))
        stored_code = await session.scalar(select(OAuthCode))
    assert stored.token_hash == hash_token(issued["access_token"]) and stored.account_id is not None
    assert stored_code.code_hash == hash_token(code) and stored_code.used_at is not None

    # And the token verifies as this app's
    status, verified = await get(client, f"{a.base}/api/v1/apps/verify_credentials", issued["access_token"])
    assert status == 200 and verified["name"] == "Ward App" and "client_secret" not in verified

    # And the code cannot be used a second time
    status, again = await exchange(client, a.base, app, code, code_verifier=verifier)
    assert (status, again["error"]) == (400, "invalid_grant") and "already used" in again["error_description"]


async def test_wrong_redirect_uri_is_a_400_page_and_never_a_redirect(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    for uri in ("https://evil.example/steal", REDIRECT + "/", REDIRECT + "?x=1"):
        status, html = await open_form(client, a.base, app, redirect_uri=uri)
        assert status == 400 and "not one that Ward App registered" in html
    # Nor does a posted form with a valid CSRF token and a swapped redirect_uri get anywhere
    _, html = await open_form(client, a.base, app)
    response = await submit(client, a.base, html, redirect_uri="https://evil.example/steal")
    assert response.status == 400 and "Location" not in response.headers
    # And an unknown client is a page too
    status, html = await open_form(client, a.base, {"client_id": "nope"})
    assert status == 400 and "not registered" in html
    assert await _count(a, OAuthCode) == 0


async def test_pkce_verifier_mismatch_or_absence_is_invalid_grant(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    verifier, challenge = pkce()
    code = await authorize(client, a.base, app, code_challenge=challenge, code_challenge_method="S256")

    status, body = await exchange(client, a.base, app, code, code_verifier=pkce()[0])
    assert (status, body["error"]) == (400, "invalid_grant") and "code_verifier" in body["error_description"]
    status, body = await exchange(client, a.base, app, code)
    assert (status, body["error"]) == (400, "invalid_grant") and "PKCE" in body["error_description"]
    assert await _count(a, OAuthToken) == 0
    # The app holding the right verifier still can
    status, body = await exchange(client, a.base, app, code, code_verifier=verifier)
    assert status == 200, body

    # And a verifier for a code made without a challenge is a downgrade, refused
    plain = await authorize(client, a.base, app)
    status, body = await exchange(client, a.base, app, plain, code_verifier=verifier)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_plain_pkce_is_refused_back_to_the_app(instances, client):
    a = await instances.start()
    app = await register(client, a.base)
    status, _ = await open_form(client, a.base, app, code_challenge="x" * 43, code_challenge_method="plain")
    assert status == 302
    async with client.get(f"{a.base}/oauth/authorize?" + urlencode({
            "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT, "state": "s",
            "code_challenge": "x" * 43, "code_challenge_method": "plain"}), allow_redirects=False) as response:
        sent = query_of(response.headers["Location"])
    assert sent["error"] == "invalid_request" and sent["state"] == "s" and "S256" in sent["error_description"]


async def test_form_post_without_a_valid_csrf_token_is_403(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    _, html = await open_form(client, a.base, app)
    for token in ("", "forged-" + "x" * 36):
        response = await submit(client, a.base, html, csrf_token=token)
        assert response.status == 403 and "Location" not in response.headers
    # Nor does the right field help without the cookie (another site cannot read or set it)
    client.cookie_jar.clear()
    response = await submit(client, a.base, html)
    assert response.status == 403
    assert await _count(a, OAuthCode) == 0


async def test_expired_code_is_refused(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    code = await authorize(client, a.base, app)
    a.clock.advance(minutes=11)
    status, body = await exchange(client, a.base, app, code)
    assert (status, body["error"]) == (400, "invalid_grant") and "expired" in body["error_description"]


async def test_code_is_bound_to_its_app_and_redirect_uri(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base, redirect_uris=f"{REDIRECT}\nhttps://app.example/other")
    other = await register(client, a.base, name="Other")
    code = await authorize(client, a.base, app)
    status, body = await exchange(client, a.base, other, code)
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await exchange(client, a.base, app, code, redirect_uri="https://app.example/other")
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await exchange(client, a.base, app, code, client_secret="wrong")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await exchange(client, a.base, app, code)
    assert status == 200, body


async def test_deny_sends_access_denied_back(instances, client):
    a = await instances.start()
    app = await register(client, a.base)
    _, html = await open_form(client, a.base, app)
    response = await submit(client, a.base, html, username="", password="", decision="deny")
    assert response.status == 302
    sent = query_of(response.headers["Location"])
    assert sent["error"] == "access_denied" and sent["state"] == "st-42" and "code" not in sent


async def test_out_of_band_shows_the_code_on_a_page(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base, redirect_uris=OOB)
    _, html = await open_form(client, a.base, app, redirect_uri=OOB)
    response = await submit(client, a.base, html)
    page = await response.text()
    assert response.status == 200 and "Location" not in response.headers
    code = unescape(re.search(r'<code id="code"[^>]*>([^<]+)</code>', page).group(1))
    status, issued = await exchange(client, a.base, app, code, redirect_uri=OOB)
    assert status == 200 and issued["scope"] == "read write"


async def test_scopes_beyond_the_apps_registration_are_refused(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base, scopes="read write:statuses")
    for scope in ("read write", "admin:read", "write:follows"):
        status, _ = await open_form(client, a.base, app, scope=scope)
        assert status == 302
        async with client.get(f"{a.base}/oauth/authorize?" + urlencode({
                "response_type": "code", "client_id": app["client_id"], "redirect_uri": REDIRECT,
                "scope": scope}), allow_redirects=False) as response:
            assert query_of(response.headers["Location"])["error"] == "invalid_scope"
    # A granular scope within a registered one is fine
    code = await authorize(client, a.base, app, scope="read:statuses write:statuses")
    status, issued = await exchange(client, a.base, app, code)
    assert status == 200 and issued["scope"] == "read:statuses write:statuses"


async def test_wrong_password_shows_the_form_again_and_issues_nothing(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    _, html = await open_form(client, a.base, app)
    for username, password in (("alice", "wrong password"), ("nobody", PASSWORD), ("", "")):
        response = await submit(client, a.base, html, username=username, password=password)
        page = await response.text()
        assert response.status == 400 and "wrong username or password" in page
    assert await _count(a, OAuthCode) == 0


async def test_failed_logins_are_rate_limited_per_username_and_address(instances, client):
    a = await instances.start(api={"login_attempts_per_minute": 3})
    await a.add_user("alice")
    await a.add_user("bob")
    app = await register(client, a.base)
    _, html = await open_form(client, a.base, app)
    for _ in range(3):
        assert (await submit(client, a.base, html, password="guess")).status == 400
    # When the limit is reached, even the right password waits, and so does another name from here
    for username in ("alice", "bob"):
        response = await submit(client, a.base, html, username=username)
        assert response.status == 429 and int(response.headers["Retry-After"]) > 0
        assert "Too many failed sign-ins" in await response.text()
    # And a minute later the right password works again
    a.clock.advance(seconds=61)
    assert (await submit(client, a.base, html)).status == 302
