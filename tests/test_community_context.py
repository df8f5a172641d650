"""A community's threads across three real instances and a Mastodon-like follower: a thread's
first post reaches the Mastodon-like follower as a boost, a reply only wrapped in its Create
(FEP-1b12), which Rounds members read; each thread has a context collection (FEP-7888) that the
community serves, and a member who joins after the thread began backfills it from there."""

from __future__ import annotations

import json

from sqlalchemy import select

from federation.communities import backfill
from federation.outbox import drafts
from federation.peers import decisions
from federation.protocol.vocab.community import context_url
from federation.social.compose import Draft
from storage.actors import actor_by_uri
from storage.models import Announce, Object, PeerState
from tests.community_helpers import follow_remote, make_community
from tests.fakepeer import FakePeer, activity
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}


async def _object(instance: Instance, uri: str) -> Object | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def _in_threads(instance: Instance, group_uri: str, post_uri: str) -> bool:
    async with instance.db.sessions() as session:
        group = await actor_by_uri(session, group_uri)
        post = await session.scalar(select(Object).where(Object.uri == post_uri))
        return group is not None and post is not None and await session.scalar(
            select(Announce.id).where(Announce.actor_id == group.id, Announce.object_id == post.id)) is not None


async def _publish(instance: Instance, username: str, text: str, in_reply_to: Object | None = None) -> Object:
    return await drafts.publish(instance.fed, await instance.actor(username), Draft(
        text=text, in_reply_to_id=str(in_reply_to.id) if in_reply_to is not None else None))


def _announces(peer: FakePeer) -> list[dict]:
    return [doc for method, path, _, body in peer.received if method == "POST"
            for doc in [json.loads(body)] if doc.get("type") == "Announce"]


async def test_threads_reach_mastodon_followers_as_boosts_and_members_backfill_from_context(instances, http):
    a, b, c = [await instances.start(name) for name in "abc"]
    await a.add_user("alice")
    await b.add_user("bob")
    await c.add_user("carol")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    handle = f"@wound-care@{a.urls.authority}"
    # Given bob@B joined, and a Mastodon-like server's user follows the community
    await follow_remote(b, "bob", handle)
    masto = await FakePeer().start()
    try:
        masto.add_actor("mia")
        follow = activity(masto, "mia", "Follow", group.uri)
        status, _ = await masto.post(http, "mia", f"{a.base}/inbox", follow, a.clock.now())
        assert status == 202
        await settle(a, b, c)

        # When bob starts a thread, alice (on A) replies, and bob answers her
        first = await _publish(b, "bob", f"{handle} Negative pressure dressings: when?")
        await settle(a, b, c)
        reply = await _publish(a, "alice", "After debridement", in_reply_to=await _object(a, first.uri))
        await settle(a, b, c)
        # And carol@C joins only now
        await follow_remote(c, "carol", handle)
        await settle(a, b, c)
        answer = await _publish(b, "bob", "Thanks", in_reply_to=await _object(b, reply.uri))
        await settle(a, b, c)

        # Then the Mastodon-like follower got the thread's first post as a boost, and each reply
        # only wrapped in its Create, which Mastodon does not read as a boost
        announces = _announces(masto)
        boosted = {doc["object"] for doc in announces if isinstance(doc["object"], str)}
        wrapped = {doc["object"]["object"]["id"] for doc in announces if isinstance(doc["object"], dict)
                   and doc["object"]["type"] == "Create"}
        assert boosted == {first.uri}
        assert wrapped == {first.uri, reply.uri, answer.uri}
        # And every Announce names the thread's context, which the community owns
        root = await _object(a, first.uri)
        context = context_url(group, root.id)
        assert {doc.get("context") for doc in announces if doc["object"] != group.uri} == {context}
        # And alice's reply, served by A, names it
        async with http.get(reply.uri, headers={**AP, **b.fed.sign_get("GET", reply.uri)}) as r:
            assert (await r.json(content_type=None))["context"] == context

        # And A serves the context collection: the thread, first post first
        async with http.get(context, headers={**AP, **b.fed.sign_get("GET", context)}) as r:
            assert r.status == 200
            document = await r.json(content_type=None)
        assert document["type"] == "OrderedCollection" and document["attributedTo"] == group.uri
        assert document["orderedItems"] == [first.uri, reply.uri, answer.uri]

        # And carol's server, which joined late, backfilled the thread from it: bob's first post and
        # alice's reply are there, fetched from their origins, and count among the community's threads
        for post in (first, reply, answer):
            assert await _object(c, post.uri) is not None, post.uri
            assert await _in_threads(c, group.uri, post.uri), post.uri
        assert (await _object(c, answer.uri)).in_reply_to_uri == reply.uri

        # And B (a member from the start) has every post through A, as before
        assert await _in_threads(b, group.uri, reply.uri)
    finally:
        await masto.stop()


async def test_a_context_is_the_communitys_own_and_bounded(instances, http):
    a = await instances.start("a")
    await a.add_user("alice")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    post = await _publish(a, "alice", "@wound-care hello")
    # A context on another host than the announcing community's is not its own
    assert backfill.owned_context(group.uri, {"context": "https://elsewhere.example/c/1"}) is None
    assert backfill.owned_context(group.uri, {"context": f"{group.uri}/context/1"}) == f"{group.uri}/context/1"
    assert backfill.owned_context(group.uri, {"object": {"object": {"context": f"{group.uri}/context/2"}}}) \
        == f"{group.uri}/context/2"
    # A post that is not a thread of the community has no context there
    other = await _publish(a, "alice", "not in a community")
    for path in (f"{group.uri}/context/{other.id}", f"{group.uri}/context/999",
                 f"{a.base}/users/alice/context/{post.id}"):
        async with http.get(path, headers=AP) as r:
            assert r.status == 404, path
    # And a thread's context lists what the reader may see: an institution-only reply is not for
    # a peer (nor an anonymous reader)
    reply = await _publish(a, "alice", "answered", in_reply_to=post)
    hidden = await drafts.publish(a.fed, await a.actor("alice"), Draft(
        text="for colleagues here only", in_reply_to_id=str(post.id), local_only=True))
    async with a.db.sessions() as session:
        assert await session.scalar(select(Announce.id).where(Announce.actor_id == group.id,
                                                              Announce.object_id == hidden.id)) is not None
    async with http.get(context_url(group, post.id), headers=AP) as r:
        assert r.status == 200
        assert (await r.json(content_type=None))["orderedItems"] == [post.uri, reply.uri]


async def test_a_context_leaves_out_a_blocked_peers_posts_and_keeps_the_replies_to_them(instances, http):
    a, b = [await instances.start(name) for name in "ab"]
    await a.add_user("alice")
    await b.add_user("bob")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    await follow_remote(b, "bob", f"@wound-care@{a.urls.authority}")
    await settle(a, b)
    # Given alice's thread, bob's reply from B, and alice's answer to him
    first = await _publish(a, "alice", "@wound-care Negative pressure dressings: when?")
    await settle(a, b)
    reply = await _publish(b, "bob", "After debridement", in_reply_to=await _object(b, first.uri))
    await settle(a, b)
    answer = await _publish(a, "alice", "Thanks", in_reply_to=await _object(a, reply.uri))
    await settle(a, b)
    context = context_url(group, first.id)
    async with http.get(context, headers=AP) as r:
        assert (await r.json(content_type=None))["orderedItems"] == [first.uri, reply.uri, answer.uri]
    # When A's admin blocks B
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.blocked, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    # Then the context no longer lists bob's reply, and still lists alice's answer to it
    async with http.get(context, headers=AP) as r:
        assert (await r.json(content_type=None))["orderedItems"] == [first.uri, answer.uri]
