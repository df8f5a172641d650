"""Three real instances on loopback federate over real HTTP: follow, post, reply, like, boost,
edit and delete, and a followers-only post that reaches only followers."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.outbox import actions, relations
from federation.protocol.keys import load_private_key
from federation.remote.resolve import resolve_account
from federation.protocol.signatures import sign_request
from federation.protocol.vocab import PUBLIC
from storage.models import (
    Announce,
    Delivery,
    Follow,
    FollowState,
    InboxItem,
    Like,
    Object,
    ObjectEdit,
    Visibility,
)
from tests.instances import Instance, settle


async def _count(instance: Instance, query) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(query.subquery()))


async def _object(instance: Instance, uri: str) -> Object | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def _follow(a: Instance, follower: str, target_acct: str) -> None:
    remote = await resolve_account(a.fed, target_acct)
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor(follower), remote)


async def _post(instance: Instance, username: str, text: str, **options) -> Object:
    async with instance.db.sessions.begin() as session:
        return await actions.post(instance.fed, session, await instance.actor(username), content=f"<p>{text}</p>", **options)


async def test_follow_post_reply_like_boost_edit_delete(instances):
    a, b, c = [await instances.start(name) for name in "abc"]
    await a.add_user("alice")
    await b.add_user("bob")
    await c.add_user("carol")

    # Given alice@A follows bob@B (resolved through WebFinger), and the Accept comes back
    await _follow(a, "alice", f"bob@{b.urls.authority}")
    await settle(a, b)
    async with a.db.sessions() as session:
        follow = await session.scalar(select(Follow))
    assert follow.state is FollowState.accepted
    assert await _count(b, select(Follow).where(Follow.state == FollowState.accepted)) == 1

    # When bob posts publicly, Then it reaches alice's server
    post = await _post(b, "bob", "Hand hygiene audit results #infectioncontrol")
    await settle(a, b, c)
    copy = await _object(a, post.uri)
    assert copy is not None and "Hand hygiene" in copy.content and copy.visibility is Visibility.public
    assert await _object(c, post.uri) is None  # C follows nobody

    # When alice replies, Then the reply reaches bob, threaded
    async with a.db.sessions.begin() as session:
        reply = await actions.post(a.fed, session, await a.actor("alice"), content="<p>Thanks, sharing this</p>",
                                  in_reply_to=await session.get(Object, copy.id))
    await settle(a, b)
    reply_on_b = await _object(b, reply.uri)
    assert reply_on_b is not None and reply_on_b.in_reply_to_uri == post.uri

    # When alice likes and boosts it, Then both sides count them
    async with a.db.sessions.begin() as session:
        target = await session.get(Object, copy.id)
        await actions.like(a.fed, session, await a.actor("alice"), target)
        await actions.boost(a.fed, session, await a.actor("alice"), target)
    await settle(a, b)
    for instance, object_id in ((a, copy.id), (b, post.id)):
        assert await _count(instance, select(Like).where(Like.object_id == object_id)) == 1
        assert await _count(instance, select(Announce).where(Announce.object_id == object_id)) == 1

    # When bob edits it, Then alice's copy changes and keeps the old version
    async with b.db.sessions.begin() as session:
        await actions.edit(b.fed, session, await b.actor("bob"), await session.get(Object, post.id),
                          content="<p>Hand hygiene audit results, corrected</p>")
    await settle(a, b)
    edited = await _object(a, post.uri)
    assert "corrected" in edited.content and edited.updated is not None
    assert await _count(a, select(ObjectEdit).where(ObjectEdit.object_id == copy.id)) == 1

    # When bob deletes it, Then alice's copy becomes a tombstone
    async with b.db.sessions.begin() as session:
        await actions.delete(b.fed, session, await b.actor("bob"), await session.get(Object, post.id))
    await settle(a, b)
    gone = await _object(a, post.uri)
    assert gone.deleted_at is not None and gone.content == ""

    # And nothing was dead-lettered on the way
    for instance in (a, b):
        assert await _count(instance, select(Delivery).where(Delivery.state != "delivered")) == 0
        assert await _count(instance, select(InboxItem).where(InboxItem.state.in_(("failed", "dead")))) == 0


async def test_followers_only_post_reaches_followers_and_nobody_else(instances, http):
    a, b, c = [await instances.start(name) for name in "abc"]
    await a.add_user("alice")
    await b.add_user("bob")
    await c.add_user("carol")
    await _follow(a, "alice", f"bob@{b.urls.authority}")
    await _follow(c, "carol", f"alice@{a.urls.authority}")  # C knows A, not B's followers
    await settle(a, b, c)
    c.received.clear()

    # When bob posts to followers only
    post = await _post(b, "bob", "Internal: staffing rota", visibility=Visibility.private)
    await settle(a, b, c)

    # Then A has it and C got nothing of it: no delivery, no inbox item, no object
    assert (await _object(a, post.uri)).visibility is Visibility.private
    assert await _object(c, post.uri) is None
    assert not any(path.endswith("inbox") for method, path in c.received if method == "POST")
    assert await _count(c, select(InboxItem).where(InboxItem.actor_uri.startswith(b.base))) == 0

    # And C cannot fetch it, signed (by C's instance actor) or not; A (a follower's server) can
    headers = c.fed.sign_get("GET", post.uri)
    async with http.get(post.uri, headers={"Accept": "application/activity+json", **headers}) as r:
        assert r.status == 404
    async with http.get(post.uri, headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 404
    alice = await a.actor("alice")
    signed = sign_request("GET", post.uri, {}, None, key_id=alice.key_id,
                          private_key=load_private_key(alice.private_key_pem), now=a.clock.now())
    async with http.get(post.uri, headers={"Accept": "application/activity+json", **signed}) as r:
        assert r.status == 200
        note = await r.json(content_type=None)
    assert PUBLIC not in note["to"] + note["cc"] and note["to"] == [f"{b.base}/users/bob/followers"]
