"""Mastodon.py, the real client library, end to end against two real Rounds instances.

Mastodon.py is synchronous (requests), and the servers run in this test's event loop, so every
client call runs in a thread (`asyncio.to_thread`). The authorization-code flow with PKCE is done
by posting the login form over HTTP, as a person would, with no browser.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import re
import secrets
import threading
from urllib.parse import parse_qs, urlsplit

import aiohttp
import requests
from mastodon import Mastodon
from mastodon.streaming import CallbackStreamListener
from PIL import Image

from sqlalchemy import select

from federation.outbox import actions
from storage.models import Notification, NotificationType
from tests.instances import settle

REDIRECT = "http://127.0.0.1:9/callback"  # never contacted: the code is read from the Location header
SCOPES = ["read", "write", "follow"]


class PkceSession(requests.Session):
    """Adds the PKCE code_verifier to the token request, which Mastodon.py does not send itself."""

    def __init__(self, verifier: str) -> None:
        super().__init__()
        self.verifier = verifier

    def request(self, method, url, *args, **kwargs):
        if url.endswith("/oauth/token") and isinstance(kwargs.get("data"), dict):
            kwargs["data"] = {**kwargs["data"], "code_verifier": self.verifier}
        return super().request(method, url, *args, **kwargs)


async def _authorize(http, base: str, url: str, username: str, password: str) -> str:
    """Log in on the authorization page and approve; return the code from the redirect."""
    async with http.get(url) as r:
        assert r.status == 200, await r.text()
        page = await r.text()
    form = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', page))
    form.update(username=username, password=password)
    action = re.search(r'<form[^>]*action="([^"]+)"', page)
    target = action.group(1).replace("&amp;", "&") if action else "/oauth/authorize"
    async with http.post(base + target if target.startswith("/") else target, data=form, allow_redirects=False) as r:
        assert r.status in (302, 303), await r.text()
        location = r.headers["Location"]
    assert location.startswith(REDIRECT)
    return parse_qs(urlsplit(location).query)["code"][0]


async def test_mastodon_py_end_to_end(instances):
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice", password="alice password 1")
    await b.add_user("bob", password="bob password 22")
    call = asyncio.to_thread

    # Register an app and run the authorization-code flow with PKCE over plain HTTP
    client_id, client_secret = await call(Mastodon.create_app, "Rounds test", scopes=SCOPES,
                                          redirect_uris=REDIRECT, api_base_url=a.base)
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    alice = Mastodon(client_id=client_id, client_secret=client_secret, api_base_url=a.base,
                     session=PkceSession(verifier))
    url = await call(alice.auth_request_url, redirect_uris=REDIRECT, scopes=SCOPES, allow_http=True)
    url += f"&code_challenge={challenge}&code_challenge_method=S256"
    # a browser keeps the login page's CSRF cookie; aiohttp needs `unsafe` to keep one from an IP host
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        code = await _authorize(browser, a.base, url, "alice", "alice password 1")
    await call(alice.log_in, code=code, redirect_uri=REDIRECT, scopes=SCOPES, allow_http=True)
    assert (await call(alice.account_verify_credentials))["username"] == "alice"

    # Post with a content warning; upload an image and attach it
    warned = await call(alice.status_post, "Case discussion: near-miss with look-alike ampoules",
                        spoiler_text="medication error")
    assert warned["spoiler_text"] == "medication error" and warned["sensitive"] is True
    png = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png, "PNG")
    media = await call(alice.media_post, io.BytesIO(png.getvalue()), mime_type="image/png", description="labels")
    with_image = await call(alice.status_post, "The two labels side by side", media_ids=[media])
    assert [m["description"] for m in with_image["media_attachments"]] == ["labels"]

    # Follow bob on the second instance through search(resolve=True)
    found = await call(alice.search_v2, f"bob@{b.urls.authority}", resolve=True)
    bob_account = found["accounts"][0]
    await call(alice.account_follow, bob_account)
    await settle(a, b)
    relationship = (await call(alice.account_relationships, bob_account))[0]
    assert relationship["following"] is True

    # Listen on the user stream, then bob posts on B
    updates: list = []
    arrived = threading.Event()

    def on_update(status):
        updates.append(status)
        arrived.set()

    handle = await call(alice.stream_user, CallbackStreamListener(update_handler=on_update), run_async=True)
    try:
        await asyncio.sleep(0.5)  # the stream is open before bob posts
        async with b.fed.transaction() as session:
            bob_post = await actions.post(b.fed, session, await b.actor("bob"), content="<p>New ICU checklist</p>")
        await settle(a, b)
        home = await call(alice.timeline_home)
        mine = next(s for s in home if s["uri"] == bob_post.uri)
        assert "ICU checklist" in mine["content"]
        assert await call(arrived.wait, 10)
        assert any(s["uri"] == bob_post.uri for s in updates)
    finally:
        await call(handle.close)  # it waits for the stream thread, which needs the loop running

    # Favourite it; bob's server notifies bob
    await call(alice.status_favourite, mine)
    await settle(a, b)
    async with b.db.sessions() as session:
        kinds = list(await session.scalars(select(Notification.type)))
    assert NotificationType.favourite in kinds

    # Edit and delete her own post
    edited = await call(alice.status_update, with_image, "The two labels, side by side (edited)")
    assert "(edited)" in edited["content"] and edited["edited_at"]
    await call(alice.status_delete, with_image)
    assert with_image["id"] not in [s["id"] for s in await call(alice.timeline_home)]
