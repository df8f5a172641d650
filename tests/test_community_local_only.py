"""Institution-only posts and communities, between two real instances on loopback: a community on
A with a member on B. An institution-only post to it reaches A's users through the community and
nothing of it reaches B: no delivery (of the post, the community's Announce, a reply, a like, an
edit), no ActivityPub answer to B (the post, the community's outbox and featured collection), no
copy on B; nor an anonymous caller on A. And a post to an institution-only community is itself
institution-only, whoever then replies to it or boosts it."""

from __future__ import annotations

import json

from sqlalchemy import select

from federation.communities import moderation
from federation.outbox import relations
from storage.models import Activity, Delivery, InboxItem, Object
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.instances import Instance, settle

SECRET = "SECRET-7c2e"
AP = {"Accept": "application/activity+json"}


async def _deliveries(instance: Instance) -> list[str]:
    """The documents of every delivery row, as JSON text."""
    async with instance.db.sessions() as session:
        rows = await session.scalars(select(Activity.raw).join(Delivery, Delivery.activity_id == Activity.id))
        return [json.dumps(raw) for raw in rows]


async def _on(instance: Instance) -> tuple[set[str], list[str]]:
    """Every object's uri on `instance`, and every inbox item, as JSON text."""
    async with instance.db.sessions() as session:
        return (set(await session.scalars(select(Object.uri))),
                [json.dumps(raw) for raw in await session.scalars(select(InboxItem.raw))])


async def _get(http, url: str, headers=None) -> tuple[int, str]:
    async with http.get(url, headers=headers or {}) as r:
        return r.status, await r.text()


async def _post(http, instance: Instance, headers, status: str, **options) -> dict:
    async with http.post(f"{instance.base}/api/v1/statuses", headers=headers,
                         json={"status": status, **options}) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_an_institution_only_post_to_a_community_stays_with_the_instance_users(instances, http):
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    carla = await token_for(a, "carla")
    dave = await token_for(a, "dave")
    bob = await token_for(b, "bob")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    # Given bob@B and carla@A joined the (federated) community on A
    await follow_remote(b, "bob", f"wound-care@{a.urls.authority}")
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("carla"), group)
    await settle(a, b)

    # When alice posts to it an ordinary post and an institution-only one; carla replies to the
    # latter and likes it, alice edits it and pins it in the community
    ordinary = await _post(http, a, alice, "@wound-care Ordinary dressing audit")
    secret = await _post(http, a, alice, f"@wound-care {SECRET} ward 4 infection cluster", local_only=True)
    reply = await _post(http, a, carla, f"{SECRET} seen on ward 5 too", in_reply_to_id=secret["id"])
    async with http.post(f"{a.base}/api/v1/statuses/{secret['id']}/favourite", headers=carla) as r:
        assert r.status == 200
    async with http.put(f"{a.base}/api/v1/statuses/{secret['id']}", headers=alice,
                        json={"status": f"@wound-care {SECRET} ward 4 infection cluster, revised"}) as r:
        assert r.status == 200, await r.text()
    async with a.db.sessions.begin() as session:
        await moderation.pin(a.fed, session, group, await session.get(Object, int(secret["id"])),
                             await a.actor("alice"), pinned=True)
    await settle(a, b)

    # Then the community relayed it on A (the reply too, which is institution-only as well)
    assert secret["local_only"] is True and reply["local_only"] is True and ordinary["local_only"] is False
    # And A's users see it in the community: a member and someone who is not
    for token in (carla, dave):
        status, threads = await _get(http, f"{a.base}/api/v1/accounts/{group.id}/statuses", token)
        assert status == 200
        assert {s["reblog"]["uri"] for s in json.loads(threads) if s["reblog"]} >= {secret["uri"], ordinary["uri"]}
    status, home = await _get(http, f"{a.base}/api/v1/timelines/home", carla)
    assert secret["uri"] in home
    # But no delivery row carries it, its reply, the like or the edit (the ordinary post's
    # Announce was delivered to B: the path works)
    delivered = await _deliveries(a)
    assert any(ordinary["uri"] in doc for doc in delivered)
    assert not any(SECRET in doc or secret["uri"] in doc or reply["uri"] in doc for doc in delivered)
    # And B has nothing of it: no copy, no inbox item, nothing in bob's home
    uris, items = await _on(b)
    assert ordinary["uri"] in uris and secret["uri"] not in uris and reply["uri"] not in uris
    assert not any(SECRET in item or secret["uri"] in item for item in items)
    assert SECRET not in (await _get(http, f"{b.base}/api/v1/timelines/home", bob))[1]
    # And A answers B with nothing of it: the post, the community's outbox or featured collection
    status, document = await _get(http, group.uri, AP)
    assert status == 200
    for url in (secret["uri"], reply["uri"], json.loads(document)["outbox"] + "?page=true",
                json.loads(document)["featured"]):
        status, body = await _get(http, url, {**AP, **b.fed.sign_get("GET", url)})
        assert status == 404 or (status == 200 and SECRET not in body and secret["uri"] not in body), url
    # And an anonymous caller on A sees nothing of it either
    assert (await _get(http, f"{a.base}/api/v1/statuses/{secret['id']}"))[0] == 404
    status, threads = await _get(http, f"{a.base}/api/v1/accounts/{group.id}/statuses")
    assert status == 200 and ordinary["uri"] in threads and secret["uri"] not in threads


async def test_a_post_to_an_institution_only_community_is_institution_only(instances, http):
    a, b = await instances.start("a"), await instances.start("b")
    alice = await token_for(a, "alice")
    carla = await token_for(a, "carla")
    await b.add_user("bob")
    await make_community(a, "night-shift", local_only=True, moderators=("alice",))
    # Given bob@B follows alice and carla on A
    for name in ("alice", "carla"):
        await follow_remote(b, "bob", f"{name}@{a.urls.authority}")
    await settle(a, b)

    # When alice posts to the institution-only community (without asking for institution-only),
    # and carla replies to it, boosts it and likes it; and carla posts an ordinary post
    post = await _post(http, a, alice, f"@night-shift {SECRET} rota for the weekend")
    reply = await _post(http, a, carla, f"{SECRET} I can take Saturday", in_reply_to_id=post["id"])
    for action in ("reblog", "favourite"):
        async with http.post(f"{a.base}/api/v1/statuses/{post['id']}/{action}", headers=carla) as r:
            assert r.status == 200, await r.text()
    ordinary = await _post(http, a, carla, "Ordinary handover notes")
    await settle(a, b)

    # Then the post is institution-only, and so is the reply
    assert post["local_only"] is True and reply["local_only"] is True
    # And nothing of it was delivered to bob, carla's ordinary post was
    delivered = await _deliveries(a)
    assert any(ordinary["uri"] in doc for doc in delivered)
    assert not any(SECRET in doc or post["uri"] in doc or reply["uri"] in doc for doc in delivered)
    uris, items = await _on(b)
    assert ordinary["uri"] in uris and post["uri"] not in uris and reply["uri"] not in uris
    assert not any(post["uri"] in item for item in items)
    # And an anonymous caller on A (an open instance) does not read it, nor the reply
    for status_id in (post["id"], reply["id"]):
        assert (await _get(http, f"{a.base}/api/v1/statuses/{status_id}"))[0] == 404
    assert SECRET not in (await _get(http, f"{a.base}/api/v1/timelines/public"))[1]
