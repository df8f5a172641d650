"""A seeded instance for the read-access tests (tests/test_read_access*.py).

Alice posts a public post (edited, so it has a history, and tagged #sepsis), an unlisted post
and a poll, and uploads an image; bob follows her, favourites the public post (so she has a
notification and her lists are not empty) and replies to it (so it has a context). Carol, on an allowed fake peer, has a post cached
here. Every post's text holds MARKER, so a test can check that no answer carries any of it.
The readers: no credentials, an app-only token (client credentials: anyone can get one),
alice's token, an admin's token, and GETs signed by carol's key.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

import aiohttp
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from PIL import Image
from sqlalchemy import select
from yarl import URL

from federation.peers import decisions

from federation.social import oauth, web_sessions
from federation.protocol.keys import load_private_key
from federation.remote.resolve import resolve_actor
from federation.protocol.signatures import sign_request
from storage import actors as actor_queries
from storage.models import CustomEmoji, Object, Peer, PeerState, Quote, Visibility
from tests.api_helpers import token_for
from tests.fakepeer import FakePeer
from tests.instances import Instance, InstanceFactory

MARKER = "MARKER-7f3a"
ALLOWLIST_NO_PAGES = {"federation": {"mode": "allowlist"}, "web": {"public_pages": "off"}}


@dataclass
class World:
    instance: Instance
    peer: FakePeer                     # allowed; carol's signed GETs read ActivityPub documents
    # "anonymous", "app", "user" (alice), "admin", "session" (alice's web cookie), "admin_session" (root's)
    readers: dict[str, dict[str, str]]
    ids: dict[str, str]

    def signed(self, url: str, method: str = "GET") -> dict[str, str]:
        """Headers of a GET (or `method`) of `url` signed by carol, on the allowed peer (`url` as the client
        sends it: yarl's normal form)."""
        keys = self.peer.keys["carol"]
        url = str(URL(url))
        return {"Accept": "application/activity+json",
                **sign_request(method, url, {}, None, key_id=f"{self.peer.base}/users/carol#main-key",
                               private_key=load_private_key(keys.private_pem), now=self.instance.clock.now())}


async def _call(http: aiohttp.ClientSession, method: str, url: str, headers: dict[str, str], **body) -> dict:
    async with http.request(method, url, headers=headers, **body) as response:
        assert response.status == 200, (method, url, response.status, await response.text())
        return await response.json()


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def app_only_token(instance: Instance, at: datetime) -> dict[str, str]:
    """What anyone gets from POST /api/v1/apps and the client-credentials grant."""
    async with instance.db.sessions.begin() as session:
        app = (await oauth.register_app(session, name="Stranger App", redirect_uris=["urn:ietf:wg:oauth:2.0:oob"],
                                        scopes="read write follow", website=None, at=at)).app
        token = await oauth.issue_token(session, app, None, "read write follow", at=at)
    return {"Authorization": f"Bearer {token.token}"}


async def seed(instances: InstanceFactory, http: aiohttp.ClientSession, **sections) -> World:
    """The world, on an instance started with `sections` (allowlist, public pages off, unless told)."""
    a = await instances.start(**(sections or ALLOWLIST_NO_PAGES))
    alice = await token_for(a, "alice", "read write follow push")
    bob = await token_for(a, "bob")
    admin = await token_for(a, "root", "read write follow admin:read admin:write", admin=True)
    api = f"{a.base}/api/v1"

    public = await _call(http, "POST", f"{api}/statuses", alice, json={"status": f"{MARKER} public #sepsis"})
    await _call(http, "PUT", f"{api}/statuses/{public['id']}", alice, json={"status": f"{MARKER} public, edited #sepsis"})
    unlisted = await _call(http, "POST", f"{api}/statuses", alice,
                           json={"status": f"{MARKER} unlisted", "visibility": "unlisted"})
    poll = await _call(http, "POST", f"{api}/statuses", alice,
                       json={"status": f"{MARKER} poll", "poll": {"options": ["gel", "foam"], "expires_in": 3600}})
    form = aiohttp.FormData()
    form.add_field("file", _png(), filename="ward.png", content_type="image/png")
    media = await _call(http, "POST", f"{a.base}/api/v2/media", alice, data=form)
    account = await _call(http, "GET", f"{api}/accounts/verify_credentials", alice)
    bob_account = await _call(http, "GET", f"{api}/accounts/verify_credentials", bob)
    await _call(http, "POST", f"{api}/accounts/{account['id']}/follow", bob)
    await _call(http, "POST", f"{api}/statuses/{public['id']}/favourite", bob)
    await _call(http, "POST", f"{api}/statuses", bob, json={"status": f"{MARKER} reply", "in_reply_to_id": public["id"]})
    notifications = await _call(http, "GET", f"{api}/notifications", alice)
    device = ec.generate_private_key(ec.SECP256R1()).public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    await _call(http, "POST", f"{api}/push/subscription", alice, json={"subscription": {
        "endpoint": "http://127.0.0.1:9/push", "keys": {"p256dh": base64.urlsafe_b64encode(device).decode(),
                                                         "auth": base64.urlsafe_b64encode(b"0" * 16).decode()}}})
    # issue 17: a filter of alice's, and a notification request (bob, whom she does not follow)
    kept = await _call(http, "POST", f"{a.base}/api/v2/filters", alice, json={
        "title": "never matches", "context": ["home"], "keywords_attributes": [{"keyword": "zz-no-match"}]})
    kept_status = await _call(http, "POST", f"{a.base}/api/v2/filters/{kept['id']}/statuses", alice,
                              json={"status_id": unlisted["id"]})
    await _call(http, "PATCH", f"{a.base}/api/v2/notifications/policy", alice, json={"for_not_following": "filter"})
    await _call(http, "POST", f"{api}/statuses", bob, json={"status": f"{MARKER} held @alice"})
    requests = await _call(http, "GET", f"{api}/notifications/requests", alice)
    quoting = await _call(http, "POST", f"{api}/statuses", bob, json={"status": f"{MARKER} quote",
                                                                        "quoted_status_id": public["id"]})
    async with a.db.sessions() as session:
        quote = await session.scalar(select(Quote).where(Quote.object_id == int(quoting["id"])))
    community = await _call(http, "POST", f"{a.base}/api/rounds/v1/communities", admin,
                            json={"name": "wound-care", "summary": f"{MARKER} community"})
    await _call(http, "POST", f"{a.base}/api/rounds/v1/communities/{community['id']}/moderators", admin,
                json={"account_id": account["id"]})
    thread = await _call(http, "POST", f"{api}/statuses", alice, json={"status": f"@wound-care {MARKER} thread"})

    # issue 16: an article of alice's, published and revised once (its version 1 kept)
    article = await _call(http, "POST", f"{a.base}/api/rounds/v1/articles", alice, json={
        "title": f"{MARKER} article", "body": f"{MARKER} body", "state": "published"})
    await _call(http, "PUT", f"{a.base}/api/rounds/v1/articles/{article['id']}", alice, json={
        "title": f"{MARKER} article", "body": f"{MARKER} body, revised", "change_note": "revised"})

    peer = await FakePeer().start()
    carol_uri = peer.add_actor("carol")
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, peer.authority, PeerState.allowed, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    carol = await resolve_actor(a.fed, carol_uri)
    async with a.db.sessions.begin() as session:
        remote = Object(uri=f"{peer.base}/notes/1", type="Note", actor_id=carol.id, local=False,
                        visibility=Visibility.public, content=f"<p>{MARKER} remote, cached here</p>")
        session.add(remote)
        await session.flush()
        peer_row = await session.scalar(select(Peer).where(Peer.domain == peer.authority))
    ward_list = await _call(http, "POST", f"{a.base}/api/v1/lists", alice, json={"title": "Ward"})
    later = await _call(http, "POST", f"{a.base}/api/v1/statuses", alice, json={
        "status": f"{MARKER} scheduled", "scheduled_at": (a.clock.now() + timedelta(days=1)).isoformat()})
    emoji_form = aiohttp.FormData({"shortcode": "handwash"})
    emoji_form.add_field("file", _png(), filename="handwash.png", content_type="image/png")
    await _call(http, "POST", f"{a.base}/api/rounds/v1/admin/custom_emojis", admin, data=emoji_form)
    async with a.db.sessions() as session:
        emoji_id = await session.scalar(select(CustomEmoji.id).where(CustomEmoji.shortcode == "handwash"))

    async with a.db.sessions.begin() as session:
        signed_in = await web_sessions.open_session(
            session, await actor_queries.account_by_username(session, "alice"), at=a.clock.now())
        admin_signed_in = await web_sessions.open_session(
            session, await actor_queries.account_by_username(session, "root"), at=a.clock.now())

    return World(
        instance=a, peer=peer,
        readers={"anonymous": {}, "app": await app_only_token(a, a.clock.now()), "user": alice, "admin": admin,
                 "session": {"Cookie": f"rounds_session={signed_in}"},
                 "admin_session": {"Cookie": f"rounds_session={admin_signed_in}"}},
        ids={"public": public["id"], "unlisted": unlisted["id"], "poll": poll["id"], "remote": str(remote.id),
             "alice": account["id"], "bob": bob_account["id"], "carol": str(carol.id), "notification": notifications[0]["id"],
             "media": media["id"], "media_name": media["url"].rsplit("/", 1)[1], "peer": str(peer_row.id),
             "emoji": str(emoji_id), "list": ward_list["id"], "scheduled": later["id"],
             "tag": "sepsis", "filter": kept["id"], "filter_keyword": kept["keywords"][0]["id"],
             "filter_status": kept_status["id"], "request": requests[0]["id"], "quote": str(quote.id), "community": community["id"],
             "thread": thread["id"], "article": article["id"],
             "article_post": article["status"]["id"]},
    )


@pytest.fixture
async def world(instances, http):
    """The world on an allowlist instance with public pages off."""
    seeded = await seed(instances, http)
    try:
        yield seeded
    finally:
        await seeded.peer.stop()
