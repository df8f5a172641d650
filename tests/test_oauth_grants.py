"""The token endpoint's other grants, revocation, bad tokens, scope refusals and the discovery
document, over raw HTTP against a real instance. Helpers live in tests/test_oauth.py."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from sqlalchemy import select

from federation.social.accounts import disable_user
from server.appkeys import SETTINGS
from server.client_address import client_address
from server.config import load_settings
from storage.models import OAuthToken
from tests.test_oauth import (
    PASSWORD,
    authorize,
    client_fixture,  # noqa: F401  (provides the `client` fixture)
    exchange,
    get,
    register,
    token_request,
)

VERIFY = "/api/v1/apps/verify_credentials"


async def test_client_credentials_gives_an_app_only_token(instances, http):
    a = await instances.start()
    app = await register(http, a.base)
    status, issued = await token_request(http, a.base, app, grant_type="client_credentials", scope="read")
    assert status == 200 and issued["scope"] == "read" and issued["token_type"] == "Bearer"
    async with a.db.sessions() as session:
        stored = await session.scalar(select(OAuthToken))
    assert stored.account_id is None and stored.app_id is not None
    status, verified = await get(http, f"{a.base}{VERIFY}/", issued["access_token"])
    assert status == 200 and verified["name"] == "Ward App" and verified["scopes"] == ["read", "write", "follow"]
    # It reads what is public, but nothing that belongs to a user
    status, _ = await get(http, f"{a.base}/api/v1/timelines/public", issued["access_token"])
    assert status == 200
    for path in ("/api/v1/timelines/home", "/api/v1/notifications", "/api/v1/accounts/verify_credentials"):
        status, body = await get(http, f"{a.base}{path}", issued["access_token"])
        assert (status, body["error"]) == (403, "This method requires an authenticated user"), path
    # Beyond the app's scopes, refused
    status, body = await token_request(http, a.base, app, grant_type="client_credentials", scope="read push")
    assert (status, body["error"]) == (400, "invalid_scope")


async def test_in_allowlist_mode_public_reads_need_a_user_not_just_an_app(instances, http):
    # Given an allowlist instance, where anyone can still register an app and get an app-only token
    a = await instances.start(federation={"mode": "allowlist"})
    await a.add_user("alice", password=PASSWORD)
    app = await register(http, a.base)
    _, issued = await token_request(http, a.base, app, grant_type="client_credentials", scope="read")
    _, user = await token_request(http, a.base, app, grant_type="password", username="alice",
                                  password=PASSWORD, scope="read")
    # Then the public timelines and streams are refused to the app, and served to alice
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/sepsis", "/api/v1/streaming/public"):
        status, body = await get(http, f"{a.base}{path}", issued["access_token"])
        assert status == 403 and "authenticated user" in body["error"], path
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/tag/sepsis"):
        status, _ = await get(http, f"{a.base}{path}", user["access_token"])
        assert status == 200, path


async def test_client_authentication_by_basic_header_or_body(instances, http):
    a = await instances.start()
    app = await register(http, a.base)
    basic = base64.b64encode(f"{quote(app['client_id'])}:{quote(app['client_secret'])}".encode()).decode()
    async with http.post(f"{a.base}/oauth/token/", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {basic}"}) as response:
        assert response.status == 200 and response.headers["Cache-Control"] == "no-store"
    wrong = base64.b64encode(f"{app['client_id']}:nope".encode()).decode()
    async with http.post(f"{a.base}/oauth/token", data={"grant_type": "client_credentials"},
                         headers={"Authorization": f"Basic {wrong}"}) as response:
        body = await response.json()
        assert (response.status, body["error"]) == (401, "invalid_client") and "WWW-Authenticate" in response.headers
    status, body = await token_request(http, a.base, app | {"client_id": "unknown"}, grant_type="client_credentials")
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await token_request(http, a.base, app, grant_type="implicit")
    assert (status, body["error"]) == (400, "unsupported_grant_type")


async def test_password_grant_with_json_and_multipart_bodies(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(http, a.base)
    form = {"grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "alice", "password": PASSWORD, "scope": "read write"}
    async with http.post(f"{a.base}/oauth/token", json=form) as response:
        issued = await response.json()
    assert response.status == 200 and issued["scope"] == "read write"
    multipart = aiohttp.FormData(form, default_to_multipart=True)
    async with http.post(f"{a.base}/oauth/token", data=multipart) as response:
        assert response.status == 200, await response.text()
    async with a.db.sessions() as session:
        assert len((await session.scalars(select(OAuthToken))).all()) == 2

    status, body = await token_request(http, a.base, app, grant_type="password", username="alice", password="no")
    assert (status, body["error"]) == (400, "invalid_grant")
    async with a.db.sessions.begin() as session:
        await disable_user(session, "alice")
    status, body = await token_request(http, a.base, app, grant_type="password", username="alice", password=PASSWORD)
    assert (status, body["error"]) == (400, "invalid_grant") and "disabled" in body["error_description"]


async def test_password_grant_can_be_turned_off(instances, http):
    a = await instances.start(api={"password_grant": False})
    await a.add_user("alice")
    app = await register(http, a.base)
    status, body = await token_request(http, a.base, app, grant_type="password", username="alice", password=PASSWORD)
    assert (status, body["error"]) == (400, "unsupported_grant_type") and "turned off" in body["error_description"]
    async with http.get(f"{a.base}/.well-known/oauth-authorization-server") as response:
        assert "password" not in (await response.json())["grant_types_supported"]


async def test_password_grant_failures_are_rate_limited(instances, http):
    a = await instances.start(api={"login_attempts_per_minute": 2})
    await a.add_user("alice")
    app = await register(http, a.base)
    for _ in range(2):
        status, _ = await token_request(http, a.base, app, grant_type="password", username="alice", password="x")
        assert status == 400
    async with http.post(f"{a.base}/oauth/token", data={
            "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
            "username": "alice", "password": PASSWORD}) as response:
        body = await response.json()
        assert response.status == 429 and body["error"] == "too_many_attempts" and response.headers["Retry-After"]
    a.clock.advance(minutes=1, seconds=1)
    status, _ = await token_request(http, a.base, app, grant_type="password", username="alice", password=PASSWORD)
    assert status == 200


async def test_revoked_token_is_refused(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(http, a.base)
    other = await register(http, a.base, name="Other")
    _, issued = await token_request(http, a.base, app, grant_type="password", username="alice", password=PASSWORD)
    token = issued["access_token"]
    assert (await get(http, f"{a.base}{VERIFY}", token))[0] == 200

    # Another app cannot revoke it
    async with http.post(f"{a.base}/oauth/revoke", data={
            "client_id": other["client_id"], "client_secret": other["client_secret"], "token": token}) as response:
        assert response.status == 403 and (await response.json())["error"] == "unauthorized_client"
    assert (await get(http, f"{a.base}{VERIFY}", token))[0] == 200

    # Its own app can, and then the token is refused
    async with http.post(f"{a.base}/oauth/revoke/", json={
            "client_id": app["client_id"], "client_secret": app["client_secret"], "token": token}) as response:
        assert response.status == 200 and await response.json() == {}
    status, body = await get(http, f"{a.base}{VERIFY}", token)
    assert status == 401 and body["error"] == "The access token is invalid"
    # Revoking again, or an unknown token, is not an error (RFC 7009)
    for value in (token, "never-issued"):
        async with http.post(f"{a.base}/oauth/revoke", data={
                "client_id": app["client_id"], "client_secret": app["client_secret"], "token": value}) as response:
            assert response.status == 200


async def test_bad_tokens_are_401(instances, http):
    a = await instances.start()
    for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"},
                    {"Authorization": "Bearer "}):
        async with http.get(f"{a.base}{VERIFY}", headers=headers) as response:
            body = await response.json()
            assert response.status == 401 and body == {"error": "The access token is invalid"}
            assert response.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'
    # a valid token refused for what it is (here, an app's where a user is needed) is not called invalid
    app = await register(http, a.base)
    _, issued = await token_request(http, a.base, app, grant_type="client_credentials", scope="read")
    async with http.get(f"{a.base}/api/v2/search?q=x&resolve=true",
                        headers={"Authorization": f"Bearer {issued['access_token']}"}) as response:
        assert response.status == 401 and response.headers["WWW-Authenticate"] == "Bearer"


async def test_oauth_tokens_are_held_to_their_scopes(instances, client):
    # Given an admin who authorized one app for read only, and another for admin:read
    a = await instances.start()
    await a.add_user("root", admin=True)
    app = await register(client, a.base, scopes="read admin:read")
    tokens = {}
    for scope in ("read", "admin:read:domain_allows"):
        _, issued = await token_request(client, a.base, app, grant_type="password", username="root",
                                        password=PASSWORD, scope=scope)
        tokens[scope] = issued["access_token"]
    # Then the admin endpoint refuses the read token, and takes the admin one
    status, body = await get(client, f"{a.base}/api/v1/admin/domain_allows", tokens["read"])
    assert status == 403 and "scope" in body["error"]
    status, _ = await get(client, f"{a.base}/api/v1/admin/domain_allows", tokens["admin:read:domain_allows"])
    assert status == 200


async def test_authorization_server_metadata(instances, http):
    a = await instances.start()
    for path in ("/.well-known/oauth-authorization-server", "/.well-known/oauth-authorization-server/"):
        async with http.get(a.base + path) as response:
            meta = await response.json()
        assert response.status == 200
    assert meta["issuer"] == a.base and meta["token_endpoint"] == f"{a.base}/oauth/token"
    assert meta["authorization_endpoint"] == f"{a.base}/oauth/authorize"
    assert meta["revocation_endpoint"] == f"{a.base}/oauth/revoke"
    assert meta["app_registration_endpoint"] == f"{a.base}/api/v1/apps"
    assert meta["code_challenge_methods_supported"] == ["S256"] and meta["response_types_supported"] == ["code"]
    assert set(meta["grant_types_supported"]) == {"authorization_code", "client_credentials", "password"}
    assert {"read", "write:statuses", "admin:read:domain_blocks", "profile"} <= set(meta["scopes_supported"])
    assert "client_secret_basic" in meta["token_endpoint_auth_methods_supported"]


async def test_a_code_for_a_disabled_account_is_refused(instances, client):
    a = await instances.start()
    await a.add_user("alice")
    app = await register(client, a.base)
    code = await authorize(client, a.base, app)
    async with a.db.sessions.begin() as session:
        await disable_user(session, "alice")
    status, body = await exchange(client, a.base, app, code)
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_login_limits_count_usernames_and_addresses_separately(instances, http):
    # Given a reverse proxy on loopback that reports two clients' addresses
    a = await instances.start(api={"login_attempts_per_minute": 2})
    for name in ("alice", "bob", "carol"):
        await a.add_user(name)
    app = await register(http, a.base)

    async def attempt(username: str, password: str, address: str) -> int:
        async with http.post(f"{a.base}/oauth/token", headers={"X-Forwarded-For": f"203.0.113.9, {address}"}, data={
                "grant_type": "password", "client_id": app["client_id"], "client_secret": app["client_secret"],
                "username": username, "password": password}) as response:
            return response.status

    # When one address fails twice for alice
    assert [await attempt("alice", "guess", "198.51.100.1") for _ in range(2)] == [400, 400]
    # Then alice is held from everywhere, and that address for everyone
    assert await attempt("alice", PASSWORD, "198.51.100.2") == 429
    assert await attempt("bob", PASSWORD, "198.51.100.1") == 429
    # But another person from another address signs in
    assert await attempt("carol", PASSWORD, "198.51.100.2") == 200


async def test_api_rate_limits_count_each_client_behind_a_trusted_proxy(instances, http):
    # Given an address allowance of 5 x 2 requests, and two clients behind a proxy on loopback
    a = await instances.start(api={"requests_per_5_minutes": 2})

    async def read(forwarded_for: str) -> int:
        async with http.get(f"{a.base}/api/v1/instance", headers={"X-Forwarded-For": forwarded_for}) as response:
            return response.status

    # When one client uses up its allowance, even claiming other addresses to the left
    assert [await read(f"10.9.9.{n}, 198.51.100.1") for n in range(10)] == [200] * 10
    assert await read("198.51.100.1") == 429
    # Then the other client still gets answers: the proxy's own address is not the bucket
    assert await read("198.51.100.2") == 200


@pytest.mark.parametrize(("remote", "forwarded", "trusted", "expected"), [
    ("127.0.0.1", "198.51.100.1", ("127.0.0.1", "::1"), "198.51.100.1"),
    ("127.0.0.1", "6.6.6.6, 198.51.100.1", ("127.0.0.1",), "198.51.100.1"),  # the client's own claim is ignored
    ("203.0.113.5", "198.51.100.1", ("127.0.0.1",), "203.0.113.5"),  # not from a trusted proxy: header ignored
    ("127.0.0.1", "198.51.100.1, 10.0.0.7", ("127.0.0.1", "10.0.0.0/8"), "198.51.100.1"),  # two proxies
    ("127.0.0.1", "198.51.100.1, 10.0.0.7", ("127.0.0.1",), "10.0.0.7"),  # the inner proxy is not trusted
    ("127.0.0.1", "", ("127.0.0.1",), "127.0.0.1"),
])
def test_client_address_walks_back_through_trusted_proxies(tmp_path, remote, forwarded, trusted, expected):
    config = tmp_path / "rounds.toml"
    config.write_text(f'public_url = "https://h.example"\n[server]\ntrusted_proxies = {json.dumps(list(trusted))}\n')
    app = web.Application()
    app[SETTINGS] = load_settings(config)
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    request = make_mocked_request("GET", "/", headers=headers, app=app, transport=_Transport(remote))
    assert client_address(request) == expected


class _Transport:
    def __init__(self, address: str) -> None:
        self._address = address

    def get_extra_info(self, name: str, default=None):
        return (self._address, 40000) if name == "peername" else default

