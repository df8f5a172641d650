"""Pins and moderation across two real instances: a community on A, bob on B one of its
moderators (FEP-1b12 lets a moderator live elsewhere), dave on B a member. A pin by A's
moderator reaches B (the community's featured collection, the pinned statuses, a notification
to its members there); bob pins, unpins, removes a post and bans a member through B's own
/api/rounds/v1 routes, which A accepts from him, audits and announces; dave, no moderator, is
refused on B before anything is sent. A change of the community reaches B as an Update."""

from __future__ import annotations

from sqlalchemy import select

from federation.outbox import drafts, sending
from federation.protocol.vocab.community import featured_change_to_ap, removal_to_ap
from federation.social.compose import Draft
from storage import communities as community_queries
from storage.actors import actor_by_uri
from storage.models import Announce, AuditEntry, Notification, NotificationType, Object, Pin
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.handler_helpers import delivery_rows
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}
API = "/api/rounds/v1/communities"


async def _row(instance: Instance, uri: str):
    async with instance.db.sessions() as session:
        return await actor_by_uri(session, uri)


async def _post(instance: Instance, uri: str) -> Object:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def _pinned(instance: Instance, group_uri: str) -> set[str]:
    async with instance.db.sessions() as session:
        group = await actor_by_uri(session, group_uri)
        return set(await session.scalars(select(Object.uri).join(Pin, Pin.object_id == Object.id)
                                         .where(Pin.actor_id == group.id)))


async def _in_threads(instance: Instance, group_uri: str, post_uri: str) -> bool:
    async with instance.db.sessions() as session:
        group = await actor_by_uri(session, group_uri)
        post = await session.scalar(select(Object).where(Object.uri == post_uri))
        return await session.scalar(select(Announce.id).where(Announce.actor_id == group.id,
                                                              Announce.object_id == post.id)) is not None


async def test_pins_and_a_moderator_elsewhere(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    dave = await token_for(b, "dave")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    handle = f"@wound-care@{a.urls.authority}"
    for name in ("bob", "dave"):
        await follow_remote(b, name, handle)
    await settle(a, b)
    first = await drafts.publish(b.fed, await b.actor("bob"), Draft(text=f"{handle} Pressure ulcers: staging"))
    second = await drafts.publish(b.fed, await b.actor("dave"), Draft(text=f"{handle} Honey dressings?"))
    await settle(a, b)
    # Given alice makes bob, on B, a moderator (through A's API: a person elsewhere may moderate)
    bob_on_a = await _row(a, (await b.actor("bob")).uri)
    async with http.post(f"{a.base}{API}/{group.id}/moderators", json={"account_id": str(bob_on_a.id)},
                         headers=alice) as r:
        assert r.status == 200, await r.text()
    group_on_b = await _row(b, group.uri)

    # When alice pins bob's thread on A
    async with http.post(f"{a.base}{API}/{group.id}/pins/{(await _post(a, first.uri)).id}", headers=alice) as r:
        assert r.status == 200, await r.text()
    await settle(a, b)
    # Then the community's featured collection lists it
    async with http.get(group_on_b.featured_url, headers={**AP, **b.fed.sign_get("GET", group_on_b.featured_url)}) as r:
        assert (await r.json(content_type=None))["orderedItems"] == [first.uri]
    # And on B it is pinned: the community's pinned statuses, and its members there are told
    assert await _pinned(b, group.uri) == {first.uri}
    async with http.get(f"{b.base}/api/v1/accounts/{group_on_b.id}/statuses", params={"pinned": "true"},
                        headers=bob) as r:
        assert [s["uri"] for s in await r.json()] == [first.uri]
    async with b.db.sessions() as session:
        told = set(await session.scalars(select(Notification.recipient_id).where(
            Notification.type == NotificationType.status, Notification.from_actor_id == group_on_b.id)))
    assert told == {(await b.actor("bob")).id, (await b.actor("dave")).id}

    # When dave, who does not moderate it, tries to pin through B, Then B refuses, sending nothing
    before = len(await delivery_rows(b))
    async with http.post(f"{b.base}{API}/{group_on_b.id}/pins/{second.id}", headers=dave) as r:
        assert r.status == 403
    assert len(await delivery_rows(b)) == before

    # And when dave's server sends his pin and his removal of bob's post to A all the same, Then A,
    # where he moderates nothing, changes nothing
    async with b.fed.transaction() as session:
        dave_actor = await b.actor("dave")
        for document in (featured_change_to_ap(sending.activity_uri(dave_actor, "Add"), dave_actor, second.uri,
                                               group_on_b, pinned=True),
                         removal_to_ap(sending.activity_uri(dave_actor, "Delete"), dave_actor, first.uri, group_on_b)):
            await sending.send(b.fed, session, dave_actor, document, [group_on_b])
    await settle(a, b)
    assert await _pinned(a, group.uri) == {first.uri}
    assert await _in_threads(a, group.uri, first.uri)

    # When bob, on B, pins dave's thread and unpins his own through B's API
    async with http.post(f"{b.base}{API}/{group_on_b.id}/pins/{second.id}", headers=bob) as r:
        assert r.status == 200, await r.text()
        assert (await r.json())["remote"] is True
    async with http.delete(f"{b.base}{API}/{group_on_b.id}/pins/{first.id}", headers=bob) as r:
        assert r.status == 200, await r.text()
    await settle(a, b)
    # Then A accepted both from him, audited them, and B hears of them from the community
    assert await _pinned(a, group.uri) == {second.uri}
    assert await _pinned(b, group.uri) == {second.uri}
    async with a.db.sessions() as session:
        audited = [(e.action, e.actor) for e in await session.scalars(
            select(AuditEntry).where(AuditEntry.subject == group.uri).order_by(AuditEntry.id))]
    assert ("community.pin", f"moderator:{bob_on_a.uri}") in audited
    assert ("community.unpin", f"moderator:{bob_on_a.uri}") in audited

    # When bob removes dave's post from the community through B
    async with http.delete(f"{b.base}{API}/{group_on_b.id}/statuses/{second.id}", headers=bob) as r:
        assert r.status == 200, await r.text()
    await settle(a, b)
    # Then it leaves the community on A and, announced by A, on B
    assert not await _in_threads(a, group.uri, second.uri)
    assert not await _in_threads(b, group.uri, second.uri)

    # When bob bans dave through B, Then A bans him: his membership ends and he may not rejoin
    dave_on_b = await b.actor("dave")
    async with http.post(f"{b.base}{API}/{group_on_b.id}/members/{dave_on_b.id}/ban", headers=bob) as r:
        assert r.status == 200, await r.text()
    await settle(a, b)
    async with a.db.sessions() as session:
        dave_on_a = await actor_by_uri(session, dave_on_b.uri)
        assert await community_queries.is_banned(session, group.id, dave_on_a.id)
        assert not await community_queries.is_member(session, group.id, dave_on_a.id)

    # When alice changes the community's title through A's API, Then B shows the new one
    async with http.patch(f"{a.base}{API}/{group.id}", json={"title": "Wound & tissue care"}, headers=alice) as r:
        assert r.status == 200, await r.text()
    await settle(a, b)
    assert (await _row(b, group.uri)).display_name == "Wound & tissue care"
