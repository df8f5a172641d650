"""Audience, signature schemes, key rotation, give-up age, and the follow/block/actor lifecycle,
against a fake peer that records what it receives."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from federation.outbox import actions, relations
from federation.remote.resolve import resolve_actor
from storage.models import (
    Actor,
    Announce,
    Block,
    Delivery,
    DeliveryState,
    Follow,
    FollowState,
    InboxItem,
    InboxState,
    Object,
    Peer,
    Visibility,
)
from tests.api_helpers import token_for
from tests.fakepeer import FakePeer, activity, fixture_keys
from tests.instances import Instance, settle


async def _with_followers(a: Instance, peer: FakePeer, names: list[str], *, shared: bool) -> list[Actor]:
    """Remote followers of alice on `peer` (rows written directly; the peer serves their actors)."""
    alice = await a.actor("alice")
    followers = []
    for name in names:
        uri = peer.add_actor(name, **({} if shared else {"endpoints": {}}))
        actor = await resolve_actor(a.fed, uri)
        async with a.db.sessions.begin() as session:
            session.add(Follow(follower_id=actor.id, followee_id=alice.id, state=FollowState.accepted))
        followers.append(actor)
    return followers


async def _inboxes(a: Instance) -> list[str]:
    async with a.db.sessions() as session:
        return sorted(await session.scalars(select(Delivery.inbox)))


async def test_followers_deduplicated_by_shared_inbox_and_direct_goes_only_to_the_mentioned(instances):
    a = await instances.start()
    await a.add_user("alice")
    one, two = await FakePeer().start(), await FakePeer().start()
    try:
        await _with_followers(a, one, ["p", "q", "r"], shared=True)
        (s,) = await _with_followers(a, two, ["s"], shared=False)
        alice = await a.actor("alice")
        # a public post: one delivery per shared inbox, one to the follower without one
        async with a.db.sessions.begin() as session:
            await actions.post(a.fed, session, alice, content="<p>hello</p>")
        assert await _inboxes(a) == sorted([f"{one.base}/inbox", f"{two.base}/users/s/inbox"])
        # a direct post mentioning s: only s's server, nothing to the other followers' server
        async with a.db.sessions.begin() as session:
            await session.execute(Delivery.__table__.delete())
            await actions.post(a.fed, session, alice, content="<p>private</p>", visibility=Visibility.direct,
                              mentions=[s])
        assert await _inboxes(a) == [f"{two.base}/users/s/inbox"]
    finally:
        await one.stop()
        await two.stop()


async def test_double_knocking_learns_the_peer_scheme(instances):
    # Given a peer that only accepts RFC 9421 signatures
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        await _with_followers(a, peer, ["p"], shared=True)
        peer.accepted_schemes = frozenset({"rfc9421"})
        alice = await a.actor("alice")
        for text in ("first", "second"):
            async with a.db.sessions.begin() as session:
                await actions.post(a.fed, session, alice, content=f"<p>{text}</p>")
            await a.delivery.run_once()
        # Then the first delivery knocked twice, the second went straight to RFC 9421
        schemes = ["rfc9421" if "Signature-Input" in headers else "cavage"
                   for method, _, headers, _ in peer.received if method == "POST"]
        assert schemes == ["cavage", "rfc9421", "rfc9421"]
        async with a.db.sessions() as session:
            assert await session.scalar(select(Peer.signature_scheme).where(Peer.domain == peer.authority)) == "rfc9421"
            assert set(await session.scalars(select(Delivery.state))) == {DeliveryState.delivered}
    finally:
        await peer.stop()


async def test_undeliverable_activity_ends_as_a_visible_dead_row(instances):
    a = await instances.start(federation={"delivery_max_age_days": 1})
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        await _with_followers(a, peer, ["p"], shared=True)
        peer.inbox_status = 503
        async with a.db.sessions.begin() as session:
            await actions.post(a.fed, session, await a.actor("alice"), content="<p>hi</p>")
        await a.delivery.run_once()
        a.clock.advance(days=1, hours=1)
        await a.delivery.run_once()
        async with a.db.sessions() as session:
            row = await session.scalar(select(Delivery))
        assert row.state is DeliveryState.dead and "gave up after 1 days" in row.last_error
    finally:
        await peer.stop()


async def test_rotated_key_is_refetched_once_and_refetches_are_rate_limited(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        inbox = f"{a.base}/users/alice/inbox"
        peer.add_actor("mallory", key=0)
        first = activity(peer, "mallory", "Follow", f"{a.base}/users/alice", "k1")
        assert (await peer.post(http, "mallory", inbox, first, a.clock.now()))[0] == 202
        # When the peer rotates its key and signs with the new one
        peer.add_actor("mallory", key=1)
        fetches_before = sum(1 for m, p, _, _ in peer.received if m == "GET")
        second = activity(peer, "mallory", "Like", f"{a.base}/users/alice", "k2")
        assert (await peer.post(http, "mallory", inbox, second, a.clock.now()))[0] == 202
        assert sum(1 for m, p, _, _ in peer.received if m == "GET") == fetches_before + 1
        # And a forgery with yet another key right after gets no second refetch
        third = activity(peer, "mallory", "Like", f"{a.base}/users/alice", "k3")
        status, _ = await peer.post(http, "mallory", inbox, third, a.clock.now(), key=fixture_keys(7))
        assert status == 401
        assert sum(1 for m, p, _, _ in peer.received if m == "GET") == fetches_before + 1
    finally:
        await peer.stop()


async def test_unfollow_block_and_actor_delete(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        inbox = f"{a.base}/users/alice/inbox"
        zed = peer.add_actor("zed")
        follow = activity(peer, "zed", "Follow", f"{a.base}/users/alice", "f")
        assert (await peer.post(http, "zed", inbox, follow, a.clock.now()))[0] == 202
        note = {"id": f"{peer.base}/users/zed/statuses/1", "type": "Note", "attributedTo": zed,
                "content": "<p>hi</p>", "to": ["https://www.w3.org/ns/activitystreams#Public"]}
        assert (await peer.post(http, "zed", inbox, activity(peer, "zed", "Create", note, "c"), a.clock.now()))[0] == 202
        await a.step()
        async with a.db.sessions() as session:
            assert (await session.scalar(select(Follow))).state is FollowState.accepted
        # an Accept went back to the peer
        accepts = [json.loads(body) for m, p, _, body in peer.received if m == "POST"]
        assert accepts and accepts[-1]["type"] == "Accept" and accepts[-1]["object"]["id"] == follow["id"]

        # Undo Follow ends the follow
        undo = activity(peer, "zed", "Undo", follow, "u")
        assert (await peer.post(http, "zed", inbox, undo, a.clock.now()))[0] == 202
        await a.step()
        async with a.db.sessions() as session:
            assert (await session.scalar(select(Follow))).state is FollowState.undone

        # Block: recorded, and follows in both directions end
        block = activity(peer, "zed", "Block", f"{a.base}/users/alice", "b")
        assert (await peer.post(http, "zed", inbox, block, a.clock.now()))[0] == 202
        await a.step()
        async with a.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Block)) == 1

        # Delete of the actor: its posts and follows go, it stays as a tombstone
        gone = activity(peer, "zed", "Delete", zed, "d")
        assert (await peer.post(http, "zed", inbox, gone, a.clock.now()))[0] == 202
        await a.step()
        async with a.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Object)) == 0
            assert await session.scalar(select(func.count()).select_from(Follow)) == 0
            assert (await session.scalar(select(Actor).where(Actor.uri == zed))).deleted_at is not None
            assert set(await session.scalars(select(InboxItem.state))) == {InboxState.done}
    finally:
        await peer.stop()


async def test_actor_profile_update(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        zed = peer.add_actor("zed")
        inbox = f"{a.base}/inbox"
        assert (await peer.post(http, "zed", inbox, activity(peer, "zed", "Follow", f"{a.base}/users/alice"), a.clock.now()))[0] == 202
        changed = {**peer.actors["zed"], "name": "Dr Zed", "summary": "<p>ICU</p>"}
        update = activity(peer, "zed", "Update", changed, "u")
        assert (await peer.post(http, "zed", inbox, update, a.clock.now()))[0] == 202
        await a.step()
        async with a.db.sessions() as session:
            actor = await session.scalar(select(Actor).where(Actor.uri == zed))
        assert actor.display_name == "Dr Zed" and actor.summary == "<p>ICU</p>"
    finally:
        await peer.stop()


async def test_a_block_reaches_the_blocked_server_and_an_unblock_undoes_it(instances):

    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    await b.add_user("bob")
    bob = await resolve_actor(a.fed, f"{b.base}/users/bob")
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), bob)
    await settle(a, b)
    # When alice blocks bob, Then B records the block and the follow ends on both sides
    async with a.fed.transaction() as session:
        await relations.block(a.fed, session, await a.actor("alice"), bob)
    await settle(a, b)
    for instance in (a, b):
        async with instance.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Block)) == 1
            assert (await session.scalar(select(Follow))).state is FollowState.undone
    # When she unblocks, Then B forgets the block
    async with a.fed.transaction() as session:
        await relations.unblock(a.fed, session, await a.actor("alice"), bob)
    await settle(a, b)
    async with b.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Block)) == 0


async def test_a_boost_of_a_non_public_post_is_ignored(instances, http):
    # Given alice's direct post, whose URI a remote actor has learned
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        peer.add_actor("mallory")
        async with a.fed.transaction() as session:
            secret = await actions.post(a.fed, session, await a.actor("alice"), content="<p>secret</p>",
                                       visibility=Visibility.direct)
        # When the remote actor sends an Announce of it
        boost = activity(peer, "mallory", "Announce", secret.uri, to=["https://www.w3.org/ns/activitystreams#Public"])
        assert (await peer.post(http, "mallory", f"{a.base}/inbox", boost, a.clock.now()))[0] == 202
        await a.step()
        # Then no boost is stored, so nothing can show the post through it
        async with a.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Announce)) == 0
            item = await session.scalar(select(InboxItem).where(InboxItem.activity_uri == boost["id"]))
        assert item.state is InboxState.ignored and "not public" in item.last_error
    finally:
        await peer.stop()


async def test_blocking_removes_the_blockers_posts_from_the_blocked_home(instances, http):
    a = await instances.start()
    await token_for(a, "alice")
    bob_token = await token_for(a, "bob")
    alice, bob = await a.actor("alice"), await a.actor("bob")
    async with a.fed.transaction() as session:
        await relations.follow(a.fed, session, bob, alice)
        await actions.post(a.fed, session, alice, content="<p>for followers</p>", visibility=Visibility.private)
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=bob_token) as r:
        assert "for followers" in (await r.text())
    async with a.fed.transaction() as session:
        await relations.block(a.fed, session, alice, bob)
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=bob_token) as r:
        assert "for followers" not in (await r.text())
