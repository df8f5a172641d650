"""Institution-only (`local_only`) posts between two real instances on loopback: A's users read
them, and nothing of them reaches B: no delivery, no ActivityPub answer (unsigned, signed by B,
signed by a mentioned user of B), no remote timeline; nor an anonymous caller on A (API,
timelines, public pages). Posted and read through Mastodon.py."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from federation.outbox import relations
from federation.protocol.keys import load_private_key
from federation.protocol.signatures import sign_request
from federation.remote.resolve import resolve_account
from storage.models import Activity, Delivery, InboxItem, Object
from tests.api_helpers import mastodon_client, token_for
from tests.instances import Instance, settle
from tests.test_api_streaming import listening, next_sse, post

SECRET = "SECRET-4b1d"
AP = {"Accept": "application/activity+json"}


async def _deliveries(instance: Instance) -> list[str]:
    """The documents of every delivery row, as JSON text."""
    async with instance.db.sessions() as session:
        rows = await session.scalars(select(Activity.raw).join(Delivery, Delivery.activity_id == Activity.id))
        return [json.dumps(raw) for raw in rows]


async def _text(http, url: str, headers=None) -> tuple[int, str]:
    async with http.get(url, headers=headers or {}) as r:
        return r.status, await r.text()


async def test_an_institution_only_post_never_leaves_the_instance(instances, http):
    a = await instances.start("a", web={"public_pages": "all"})
    b = await instances.start("b")
    alice = await mastodon_client(a, "alice")
    carla = await mastodon_client(a, "carla")
    await b.add_user("bob")
    bob_on_b = await b.actor("bob")
    call = asyncio.to_thread
    # Given bob@B follows alice@A
    remote_alice = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.db.sessions.begin() as session:
        await relations.follow(b.fed, session, bob_on_b, remote_alice)
    await settle(a, b)

    # When alice posts an ordinary post, and an institution-only one that mentions bob and is
    # tagged; carla replies to it (so the reply is institution-only too), boosts it, takes the
    # boost back and boosts it again, and likes it; alice edits it
    ordinary = await call(alice.status_post, "Ordinary handover notes")
    secret = await call(alice._Mastodon__api_request, "POST", "/api/v1/statuses", {
        "status": f"{SECRET} ward 4 staffing @bob@{b.urls.authority} #rota", "local_only": True})
    reply = await call(carla.status_post, f"{SECRET} noted", in_reply_to_id=secret["id"])
    await call(carla.status_reblog, secret["id"])
    await call(carla.status_unreblog, secret["id"])
    await call(carla.status_reblog, secret["id"])
    await call(carla.status_favourite, secret["id"])
    await call(alice.status_update, secret["id"], f"{SECRET} ward 4 staffing, revised @bob@{b.urls.authority} #rota")
    await settle(a, b)

    # Then the entity says so, and the reply inherited it; A's users read it
    assert secret["local_only"] is True and ordinary["local_only"] is False
    assert reply["local_only"] is True
    assert (await call(carla.status, secret["id"]))["content"].count(SECRET) == 1
    assert secret["id"] in [s["id"] for s in await call(carla.timeline_public)]
    assert secret["id"] in [s["id"] for s in await call(carla.timeline_hashtag, "rota")]

    # And no delivery row carries it (the ordinary post was delivered: the path works)
    delivered = await _deliveries(a)
    assert any(ordinary["uri"] in doc for doc in delivered)
    assert not any(SECRET in doc or secret["uri"] in doc for doc in delivered)

    # And B has nothing of it: no object, no inbox item, nothing in bob's timelines
    async with b.db.sessions() as session:
        uris = set(await session.scalars(select(Object.uri)))
        items = [json.dumps(raw) for raw in await session.scalars(select(InboxItem.raw))]
    assert ordinary["uri"] in uris and secret["uri"] not in uris and reply["uri"] not in uris
    assert not any(SECRET in item for item in items)
    bob_token = await token_for(b, "bob", create=False)
    for path in ("/api/v1/timelines/home", "/api/v1/timelines/public", "/api/v1/timelines/tag/rota"):
        status, body = await _text(http, b.base + path, bob_token)
        assert status == 200 and SECRET not in body, path

    # And A serves no ActivityPub document of it: unsigned, signed by B's instance actor,
    # signed by bob (whom it mentions), the post or its activity
    signed_by_bob = sign_request("GET", secret["uri"], {}, None, key_id=bob_on_b.key_id,
                                 private_key=load_private_key(bob_on_b.private_key_pem), now=a.clock.now())
    for url in (secret["uri"], f"{secret['uri']}/activity", reply["uri"]):
        for headers in ({}, b.fed.sign_get("GET", url), signed_by_bob if url == secret["uri"] else {}):
            assert (await _text(http, url, {**AP, **headers}))[0] == 404, url
    status, outbox = await _text(http, f"{a.base}/users/alice/outbox?page=true", {**AP, **b.fed.sign_get(
        "GET", f"{a.base}/users/alice/outbox?page=true")})
    assert status == 200 and ordinary["uri"] in outbox and SECRET not in outbox and secret["uri"] not in outbox
    status, carla_outbox = await _text(http, f"{a.base}/users/carla/outbox?page=true")
    assert status == 200 and secret["uri"] not in carla_outbox  # her boost of it is not public

    # And an anonymous caller on A sees nothing of it: the status, timelines, the author's
    # statuses, carla's boost, the public pages
    alice_id = secret["account"]["id"]
    carla_id = reply["account"]["id"]
    for path in (f"/api/v1/statuses/{secret['id']}", f"/api/v1/statuses/{reply['id']}"):
        assert (await _text(http, a.base + path))[0] == 404, path
    for path in ("/api/v1/timelines/public", "/api/v1/timelines/public?local=true", "/api/v1/timelines/tag/rota",
                 f"/api/v1/accounts/{alice_id}/statuses", f"/api/v1/accounts/{carla_id}/statuses",
                 "/@alice", "/tags/rota"):
        status, body = await _text(http, a.base + path)
        assert status == 200 and SECRET not in body, path
    assert (await _text(http, f"{a.base}/@alice/{secret['id']}"))[0] == 404
    assert (await _text(http, f"{a.base}/@alice/{ordinary['id']}"))[0] == 200

    # When alice deletes it, Then still nothing is delivered
    await call(alice.status_delete, secret["id"])
    await settle(a, b)
    assert not any(secret["uri"] in doc for doc in await _deliveries(a))


async def test_the_public_stream_carries_it_to_users_only(instances, http):
    # Given an anonymous client and carla (signed in) on A's public stream
    a = await instances.start("a")
    await a.add_user("alice")
    carla = await token_for(a, "carla", "read")
    await listening(a)
    async with http.get(f"{a.base}/api/v1/streaming/public") as anonymous, \
            http.get(f"{a.base}/api/v1/streaming/public?access_token={carla['Authorization'][7:]}") as signed_in:
        # When alice posts an institution-only post, then an ordinary one
        secret = await post(a, "alice", f"<p>{SECRET}</p>", local_only=True)
        ordinary = await post(a, "alice", "<p>for everyone</p>")
        # Then carla hears both, the anonymous client only the ordinary one
        heard = [json.loads((await next_sse(signed_in))[1])["id"] for _ in range(2)]
        assert heard == [str(secret), str(ordinary)]
        assert json.loads((await next_sse(anonymous))[1])["id"] == str(ordinary)
