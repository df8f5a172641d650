"""A hostile community elsewhere (a Group on the fake peer that a user here joined) speaks only
for its own threads: it cannot pin a post it never announced (a private post of ours, whose
content its members here would then be shown in a notification), cannot slip one into its
threads through the context collection it serves for backfill, and cannot have a post of a third
server deleted here by announcing a Delete of it while that server still serves it."""

from __future__ import annotations

from sqlalchemy import select

from federation.communities import groups, moderation
from federation.outbox import relations
from federation.protocol.vocab import PUBLIC
from federation.remote.resolve import resolve_actor
from storage import communities as community_queries
from storage import community_threads as thread_queries
from federation.social.follows import follow_between
from storage.models import AuditEntry, FollowState, InboxState, Like, Notification, Object, Pin, Visibility
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.fakepeer import FakePeer, activity


async def _joined(scene, member: str = "bob"):
    """The peer's community `hostile`, which `member` here has joined; (group row, member row)."""
    peer = scene.peer
    featured = f"{peer.base}/c/hostile/featured"
    group_uri = peer.add_actor("hostile", key=2, type="Group", preferredUsername="hostile", featured=featured)
    await scene.a.add_user(member)
    me = await scene.a.actor(member)
    group = await resolve_actor(scene.a.fed, group_uri)
    async with scene.a.fed.transaction() as session:
        await relations.follow(scene.a.fed, session, me, group)
    [(_, follow)] = await scene.queued("Follow")
    await scene.send("hostile", "Accept", follow, "acc")
    await scene.run()
    return group, me


async def _notified(scene, member) -> int:
    async with scene.a.db.sessions() as session:
        return len(list(await session.scalars(select(Notification.id).where(Notification.recipient_id == member.id))))


async def test_a_community_elsewhere_cannot_pin_a_post_it_never_announced(scene):
    peer = scene.peer
    group, bob = await _joined(scene)
    featured = group.featured_url
    # Given alice's followers-only post, which bob (no follower of hers) may not read
    secret = await scene.local_post("alice", visibility=Visibility.private, content="<p>patient X, bed 4</p>")
    before = await _notified(scene, bob)

    # When the community pins it itself, or announces a moderator's Add of it to its featured
    direct = activity(peer, "hostile", "Add", secret.uri, "d1", target=featured)
    await scene.post("hostile", direct)
    inner = activity(peer, "mod", "Add", secret.uri, "p1", target=featured, audience=group.uri)
    announced = activity(peer, "hostile", "Announce", inner, "a1", to=[PUBLIC])
    await scene.post("hostile", announced)
    await scene.run()

    # Then both are ignored: nothing is pinned, and bob is told nothing about it
    for document in (direct, announced):
        state, reason = await scene.outcome(document)
        assert state is InboxState.ignored and "not in the threads" in reason, reason
    assert await scene.count(Pin) == 0
    assert await _notified(scene, bob) == before


async def test_a_context_collection_cannot_slip_a_private_post_into_the_threads(scene):
    peer = scene.peer
    group, bob = await _joined(scene)
    secret = await scene.local_post("alice", visibility=Visibility.private, content="<p>patient X, bed 4</p>")
    # Given a thread begun before we followed, whose context lists alice's private post too
    first = scene.note("zed", "1", content="<p>first</p>")
    reply = scene.note("zed", "2", content="<p>reply</p>", inReplyTo=first["id"])
    context = f"{peer.base}/c/hostile/context/1"
    peer.serve("/c/hostile/context/1", {"id": context, "type": "OrderedCollection",
                                        "orderedItems": [first["id"], secret.uri, reply["id"]]})
    # When the community announces the reply, naming the context, and then pins the private post
    boost = activity(peer, "hostile", "Announce", reply["id"], "b1", to=[PUBLIC], context=context)
    await scene.post("hostile", boost)
    await scene.run()
    assert (await scene.outcome(boost))[0] is InboxState.done
    stored_first = await scene.one(Object, Object.uri == first["id"])
    inner = activity(peer, "mod", "Add", secret.uri, "p2", target=group.featured_url, audience=group.uri)
    pin = activity(peer, "hostile", "Announce", inner, "a2", to=[PUBLIC])
    await scene.post("hostile", pin)
    await scene.run()

    # Then the thread's public first post was backfilled into its threads, the private post was
    # not, and it is not pinned
    async with scene.a.db.sessions() as session:
        assert await thread_queries.is_announced_by(session, group.id, stored_first.id)
        assert not await thread_queries.is_announced_by(session, group.id, secret.id)
    assert (await scene.outcome(pin))[0] is InboxState.ignored
    assert await scene.count(Pin) == 0


async def test_a_community_cannot_delete_here_a_post_a_third_server_still_serves(scene):
    peer = scene.peer
    group, _bob = await _joined(scene)
    other = await FakePeer().start()
    try:
        other.add_actor("olga", key=3)
        # Given olga's public post on a third server, which the community boosted (we hold a copy)
        uri = f"{other.base}/users/olga/statuses/1"
        note = {"id": uri, "type": "Note", "attributedTo": f"{other.base}/users/olga", "content": "<p>guideline</p>",
                "to": [PUBLIC], "cc": []}
        other.serve("/users/olga/statuses/1", note)
        boost = activity(peer, "hostile", "Announce", uri, "b1", to=[PUBLIC])
        await scene.post("hostile", boost)
        await scene.run()
        assert (await scene.outcome(boost))[0] is InboxState.done

        # When the community announces a Delete of it, which olga's server still serves
        inner = activity(peer, "mod", "Delete", uri, "d1", audience=group.uri)
        removal = activity(peer, "hostile", "Announce", inner, "a1", to=[PUBLIC])
        await scene.post("hostile", removal)
        await scene.run()

        # Then it leaves the community's threads here, but the post itself stays: the community
        # does not speak for olga's server
        assert (await scene.outcome(removal))[0] is InboxState.done
        stored = await scene.one(Object, Object.uri == uri)
        assert stored.deleted_at is None
        async with scene.a.db.sessions() as session:
            assert not await thread_queries.is_announced_by(session, group.id, stored.id)

        # When olga's server no longer serves it and the community announces her Delete, Then
        # our copy goes
        other.serve("/users/olga/statuses/1", None)
        boost2 = activity(peer, "hostile", "Announce", uri, "b2", to=[PUBLIC])
        await scene.post("hostile", boost2)
        await scene.run()
        inner2 = activity(peer, "mod", "Delete", uri, "d2", audience=group.uri)
        removal2 = activity(peer, "hostile", "Announce", inner2, "a2", to=[PUBLIC])
        await scene.post("hostile", removal2)
        await scene.run()
        assert (await scene.outcome(removal2))[0] is InboxState.done, await scene.outcome(removal2)
        assert (await scene.one(Object, Object.uri == uri)).deleted_at is not None
    finally:
        await other.stop()


async def test_a_community_cannot_forge_a_third_servers_like_of_our_post(scene):
    peer = scene.peer
    group, _bob = await _joined(scene)
    other = await FakePeer().start()
    try:
        olga = other.add_actor("olga", key=3)
        await resolve_actor(scene.a.fed, olga)
        # Given alice's public post, which the community boosted into its threads
        mine = await scene.local_post("alice", content="<p>our protocol</p>")
        alice = await scene.a.actor("alice")
        boost = activity(peer, "hostile", "Announce", mine.uri, "b1", to=[PUBLIC])
        await scene.post("hostile", boost)
        await scene.run()
        assert (await scene.outcome(boost))[0] is InboxState.done
        before = await scene.notifications(alice)

        # When it announces a Like of it by olga, on a third server (which never sent us one)
        forged = activity(peer, "hostile", "Announce",
                          activity(other, "olga", "Like", mine.uri, "l1"), "a1", to=[PUBLIC])
        await scene.post("hostile", forged)
        await scene.run()
        # Then it is ignored: no like, and alice is not told olga favourited her post
        state, reason = await scene.outcome(forged)
        assert state is InboxState.ignored and "first-hand" in reason, reason
        assert await scene.count(Like) == 0
        assert await scene.notifications(alice) == before

        # When it announces a Like by zed, one of its own server's users, Then it counts
        relayed = activity(peer, "hostile", "Announce", activity(peer, "zed", "Like", mine.uri, "l2"), "a2",
                           to=[PUBLIC])
        await scene.post("hostile", relayed)
        await scene.run()
        assert (await scene.outcome(relayed))[0] is InboxState.done
        assert await scene.count(Like) == 1
    finally:
        await other.stop()


async def test_a_group_cannot_claim_another_servers_featured_collection(scene):
    peer = scene.peer
    # Given a community here, and a Group on the peer whose document names its featured
    # collection as its own
    _, ours = await make_community(scene.a, "wound-care", moderators=("alice",))
    impostor = peer.add_actor("impostor", key=2, type="Group", preferredUsername="impostor",
                              featured=ours.featured_url)
    stored = await resolve_actor(scene.a.fed, impostor)
    # Then the claim is not kept, and that collection is still our community's alone
    assert stored.featured_url is None
    async with scene.a.db.sessions() as session:
        assert (await thread_queries.group_by_featured(session, ours.featured_url)).id == ours.id


async def _with_peers(scene):
    """A federated community here, wound-care, moderated by alice; zed on the peer asks to join
    (his Follow queued), mallory on the peer one of its moderators: (its Group, mallory)."""
    _, group = await make_community(scene.a, "wound-care", moderators=("alice",))
    await scene.send("zed", "Follow", group.uri, "f1")
    mallory = await scene.remote("mallory")
    async with scene.a.db.sessions.begin() as session:
        await groups.add_moderator(session, "wound-care", mallory, by="test", now=scene.a.clock.now())
    return group, mallory


async def test_a_community_made_institution_only_is_closed_to_its_peers(scene):
    peer = scene.peer
    # Given a federated community here with zed on the peer a member and mallory a moderator
    group, mallory = await _with_peers(scene)
    await scene.run()
    first = scene.note("zed", "4", content="<p>dressing protocol</p>", cc=(group.uri,), audience=group.uri)
    await scene.send("zed", "Create", first, "c0")
    await scene.run()
    thread = await scene.one(Object, Object.uri == first["id"])
    async with scene.a.db.sessions() as session:
        assert await thread_queries.is_announced_by(session, group.id, thread.id)
    # When an admin makes it institution-only
    async with scene.a.db.sessions.begin() as session:
        await groups.update(session, "wound-care", by="test", now=scene.a.clock.now(), local_only=True)

    # Then zed's post to it is not relayed, and mallory's removal of a thread is refused
    note = scene.note("zed", "5", content="<p>hello community</p>", cc=(group.uri,), audience=group.uri)
    await scene.send("zed", "Create", note, "c1")
    removal = await scene.send("mallory", "Delete", thread.uri, "d1", audience=group.uri)
    pin = await scene.send("mallory", "Add", thread.uri, "p1", target=group.featured_url)
    await scene.run()
    async with scene.a.db.sessions() as session:
        posted = await session.scalar(select(Object).where(Object.uri == note["id"]))
        assert posted is not None and not await thread_queries.is_announced_by(session, group.id, posted.id)
        assert await thread_queries.is_announced_by(session, group.id, thread.id)
    for refused in (removal, pin):
        state, reason = await scene.outcome(refused)
        assert state is InboxState.ignored and "moderator" in reason, reason
    assert await scene.count(Pin) == 0
    # And no one elsewhere is made a moderator of it any more
    zed = await scene.remote("zed")
    headers = await token_for(scene.a, "alice", create=False)
    async with scene.http.post(f"{scene.a.base}/api/rounds/v1/communities/{group.id}/moderators",
                               json={"account_id": str(zed.id)}, headers=headers) as response:
        assert response.status == 422, await response.text()
    async with scene.a.db.sessions() as session:
        assert not await community_queries.is_moderator(session, group.id, zed.id)


async def test_a_community_about_to_become_institution_only_first_ends_its_memberships_elsewhere(scene):
    # Given a federated community here with alice a member here, zed on the peer a member,
    # mallory on the peer a moderator
    group, mallory = await _with_peers(scene)
    await scene.run()
    await scene.a.add_user("bob")
    await follow_remote(scene.a, "bob", f"@wound-care@{scene.a.urls.authority}")
    zed = await scene.remote("zed")

    # When an admin makes it institution-only, closing it to its peers first
    async with scene.a.fed.transaction() as session:
        ended = await moderation.close_to_peers(scene.a.fed, session, group, by="cli:admin")
        await groups.update(session, "wound-care", by="cli:admin", now=scene.a.clock.now(), local_only=True)

    # Then zed's membership ended, and his server is told so (a Reject of his Follow), while bob's stays
    assert ended == (1, 1)
    async with scene.a.db.sessions() as session:
        assert (await follow_between(session, zed, group)).state is FollowState.rejected
        assert (await follow_between(session, await scene.a.actor("bob"), group)).state is FollowState.accepted
        assert [m.username for m in await community_queries.moderators(session, group.id)] == ["alice"]
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "community.close_to_peers"))
    [(inbox, reject)] = await scene.queued("Reject")
    assert inbox.startswith(scene.peer.base) and reject["actor"] == group.uri and reject["object"]["actor"] == zed.uri
    assert entry.before == {"members": [zed.uri], "moderators": [mallory.uri]} and entry.after is None
    # And nothing more goes to the peer from it: its Update reaches no one elsewhere
    async with scene.a.fed.transaction() as session:
        community, actor = await groups.find(session, "wound-care")
        assert await groups.tell_members(scene.a.fed, session, community, actor) == 0


async def test_a_delete_naming_our_community_touches_only_its_threads_and_only_by_its_moderators(scene):
    # Given a community here, zed on the peer a member, mallory on the peer one of its moderators,
    # and zed's thread in it
    group, mallory = await _with_peers(scene)
    first = scene.note("zed", "4", content="<p>dressing protocol</p>", cc=(group.uri,), audience=group.uri)
    await scene.send("zed", "Create", first, "c0")
    await scene.run()
    thread = await scene.one(Object, Object.uri == first["id"])
    secret = await scene.local_post("alice", visibility=Visibility.private, content="<p>patient X</p>")

    # When mallory deletes alice's private post naming the community, and zed (no moderator)
    # does the same
    outside = await scene.send("mallory", "Delete", secret.uri, "d1", audience=group.uri)
    forged = await scene.send("zed", "Delete", secret.uri, "d2", audience=group.uri)
    await scene.run()
    # Then both are ignored and alice's post is untouched; zed's thread is still the community's
    state, reason = await scene.outcome(outside)
    assert state is InboxState.ignored and "not in" in reason, reason
    state, reason = await scene.outcome(forged)
    assert state is InboxState.ignored and "moderator" in reason, reason
    assert (await scene.one(Object, Object.id == secret.id)).deleted_at is None
    async with scene.a.db.sessions() as session:
        assert await thread_queries.is_announced_by(session, group.id, thread.id)

    # When mallory removes zed's thread, Then it leaves the community (her right as its moderator)
    removal = await scene.send("mallory", "Delete", thread.uri, "d3", audience=group.uri)
    await scene.run()
    assert (await scene.outcome(removal))[0] is InboxState.done
    async with scene.a.db.sessions() as session:
        assert not await thread_queries.is_announced_by(session, group.id, thread.id)
