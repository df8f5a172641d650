"""The relay, across three real instances: a community on A with members on B and C. A member's
post to the community reaches every member's server through A's Announce (fetched from its
origin), a reply from C stays in the thread and reaches B, a non-member's or a banned member's
post is not relayed, an announcement channel relays only its moderators, and a local member
posting through the client API (Mastodon.py) is relayed the same way; the community account's
statuses list its threads."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon
from sqlalchemy import func, select

from federation.communities import moderation
from federation.outbox import actions, drafts
from federation.social.compose import Draft
from storage.actors import actor_by_uri
from storage.models import Actor, Announce, AuditEntry, Like, Object, PostingPolicy
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.handler_helpers import delivery_rows
from tests.instances import Instance, settle


async def _object(instance: Instance, uri: str) -> Object | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def _announced_by(instance: Instance, group_uri: str, post_uri: str) -> bool:
    async with instance.db.sessions() as session:
        group = await actor_by_uri(session, group_uri)
        post = await session.scalar(select(Object).where(Object.uri == post_uri))
        if group is None or post is None:
            return False
        return await session.scalar(select(Announce.id).where(Announce.actor_id == group.id,
                                                              Announce.object_id == post.id)) is not None


async def _publish(instance: Instance, username: str, text: str, in_reply_to: Object | None = None) -> Object:
    return await drafts.publish(instance.fed, await instance.actor(username), Draft(
        text=text, in_reply_to_id=str(in_reply_to.id) if in_reply_to is not None else None))


async def _three(instances) -> tuple[Instance, Instance, Instance, Actor, str]:
    """A, B and C; a community on A moderated by alice@A, joined by bob@B and carol@C (dave@B did
    not join): the instances, the group and its handle."""
    a, b, c = [await instances.start(name) for name in "abc"]
    await a.add_user("alice")
    await b.add_user("bob")
    await b.add_user("dave")
    await c.add_user("carol")
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    handle = f"@wound-care@{a.urls.authority}"
    await follow_remote(b, "bob", handle)
    await follow_remote(c, "carol", handle)
    await settle(a, b, c)
    return a, b, c, group, handle


async def test_members_on_three_instances_share_through_the_community(instances):
    # Given bob@B and carol@C joined the community on A (dave@B did not)
    a, b, c, group, handle = await _three(instances)

    # When bob posts to it by mentioning it
    post = await _publish(b, "bob", f"{handle} Silver dressings: our audit results")
    await settle(a, b, c)
    # Then A announces it, and C, which follows neither bob nor B, has it through that Announce
    assert await _announced_by(a, group.uri, post.uri)
    assert await _object(c, post.uri) is not None
    assert await _announced_by(c, group.uri, post.uri)

    # When carol replies on C (without naming the community), Then the reply stays in the thread:
    # A announces it, and B has it
    reply = await _publish(c, "carol", "Same here, fewer infections", in_reply_to=await _object(c, post.uri))
    await settle(a, b, c)
    assert await _announced_by(a, group.uri, reply.uri)
    assert (await _object(b, reply.uri)).in_reply_to_uri == post.uri

    # When dave, who is not a member, posts to it, Then A does not announce it
    stranger = await _publish(b, "dave", f"{handle} buy my dressings")
    await settle(a, b, c)
    assert await _object(a, stranger.uri) is not None
    assert not await _announced_by(a, group.uri, stranger.uri)
    assert await _object(c, stranger.uri) is None

    # When alice bans bob, Then his next post is refused
    async with a.db.sessions.begin() as session:
        remote_bob = await actor_by_uri(session, (await b.actor("bob")).uri)
        await moderation.remove_member(a.fed, session, group, remote_bob, await a.actor("alice"), ban=True)
    await settle(a, b, c)
    banned = await _publish(b, "bob", f"{handle} one more thing")
    await settle(a, b, c)
    assert not await _announced_by(a, group.uri, banned.uri)
    assert await _object(c, banned.uri) is None


async def test_announcement_channel_and_a_local_member_through_the_client_api(instances):
    a = await instances.start()
    await a.add_user("alice")
    headers = await token_for(a, "carol")
    _, channel = await make_community(a, "infection-alerts", posting=PostingPolicy.moderators, moderators=("alice",))
    _, group = await make_community(a, "wound-care", moderators=("alice",))
    carol = Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=a.base, version_check_mode="none")

    def call(fn, *args, **kwargs):
        return asyncio.to_thread(fn, *args, **kwargs)

    # Given carol joined both through the client API
    for name in ("infection-alerts", "wound-care"):
        account = await call(carol.account_lookup, name)
        assert (await call(carol.account_follow, account["id"]))["following"] is True
    # When carol posts to each by mentioning it
    status = await call(carol.status_post, "@wound-care what do you use for burns?")
    refused = await call(carol.status_post, "@infection-alerts is this a channel?")
    # Then the community relays hers, the announcement channel does not; its moderator's is
    alert = await _publish(a, "alice", "@infection-alerts Norovirus on ward 3")
    assert await _announced_by(a, group.uri, status["uri"])
    assert not await _announced_by(a, channel.uri, refused["uri"])
    assert await _announced_by(a, channel.uri, alert.uri)
    # And the community account's statuses list its threads (as boosts), and carol's home has them
    wound_care = await call(carol.account_lookup, "wound-care")
    threads = await call(carol.account_statuses, wound_care["id"])
    assert [s["reblog"]["uri"] for s in threads] == [status["uri"]]
    home = await call(carol.timeline_home)
    assert alert.uri in [s["reblog"]["uri"] for s in home if s["reblog"]]


async def test_removal_and_deletion_reach_every_member(instances):
    a, b, c, group, handle = await _three(instances)
    first = await _publish(b, "bob", f"{handle} first")
    second = await _publish(b, "bob", f"{handle} second")
    await settle(a, b, c)
    assert await _object(c, first.uri) is not None and await _object(c, second.uri) is not None

    # When bob edits the second, Then C (which does not follow bob) has the edit through A
    async with b.db.sessions.begin() as session:
        await actions.edit(b.fed, session, await b.actor("bob"), await session.get(Object, second.id),
                           content="<p>second, corrected</p>")
    await settle(a, b, c)
    assert "corrected" in (await _object(c, second.uri)).content

    # When carol likes the first on C, Then A (the community's server) counts it, and announces it
    # to the members' servers (bob's, which also had it from carol, counts it once)
    async with c.db.sessions.begin() as session:
        await actions.like(c.fed, session, await c.actor("carol"), await session.scalar(
            select(Object).where(Object.uri == first.uri)))
    await settle(a, b, c)
    for instance in (a, b):
        async with instance.db.sessions() as session:
            liked = await session.scalar(select(Object).where(Object.uri == first.uri))
            assert await session.scalar(select(func.count()).select_from(Like).where(Like.object_id == liked.id)) == 1
    relayed = [inbox for inbox, raw in await delivery_rows(a, "Announce")
               if isinstance(raw["object"], dict) and raw["object"]["type"] == "Like"]
    assert relayed and all(inbox.startswith((b.base, c.base)) for inbox in relayed)

    # When alice, a moderator on A, removes the first post from the community
    async with a.db.sessions.begin() as session:
        item = await session.scalar(select(Object).where(Object.uri == first.uri))
        await moderation.remove_post(a.fed, session, group, item, await a.actor("alice"))
    await settle(a, b, c)
    # Then it is gone on A and C, and out of the community on B, where it stays bob's own post
    assert (await _object(a, first.uri)).deleted_at is not None
    assert (await _object(c, first.uri)).deleted_at is not None
    assert not await _announced_by(b, group.uri, first.uri)
    assert (await _object(b, first.uri)).deleted_at is None
    async with a.db.sessions() as session:
        assert await session.scalar(select(AuditEntry.action).where(AuditEntry.action == "community.post.remove"))

    # When bob deletes the second one himself, Then C (which does not follow bob) hears it through A
    async with b.db.sessions.begin() as session:
        await actions.delete(b.fed, session, await b.actor("bob"), await session.get(Object, second.id))
    await settle(a, b, c)
    assert (await _object(c, second.uri)).deleted_at is not None

    # When alice, a member on A itself, posts to it and then deletes the post, Then C hears both
    own = await _publish(a, "alice", f"{handle} a note from the host")
    await settle(a, b, c)
    assert await _object(c, own.uri) is not None
    async with a.db.sessions.begin() as session:
        await actions.delete(a.fed, session, await a.actor("alice"), await session.get(Object, own.id))
    await settle(a, b, c)
    assert (await _object(c, own.uri)).deleted_at is not None
