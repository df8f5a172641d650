"""Joining a community is following its Group: a peer's Follow or a local user's follow through
the client API (Mastodon.py), answered by the community's policy: open accepts, approval waits
for a moderator (who is notified), invite-only and bans reject, and an institution-only community
refuses peers."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon
from sqlalchemy import select

from federation.communities import moderation
from federation.communities.groups import CommunityError
from storage.actors import actor_by_uri
from storage.models import Actor, AuditEntry, Delivery, Follow, FollowState, JoinPolicy, Notification, NotificationType
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.instances import Instance, settle


async def _state(instance: Instance, follower: str, group_uri: str) -> FollowState | None:
    """The state of `follower`'s follow of the group, as `instance` holds it."""
    follower_actor = await instance.actor(follower)
    async with instance.db.sessions() as session:
        return await session.scalar(select(Follow.state).join(Actor, Actor.id == Follow.followee_id).where(
            Follow.follower_id == follower_actor.id, Actor.uri == group_uri))


async def _remote(instance: Instance, uri: str) -> Actor:
    async with instance.db.sessions() as session:
        return await actor_by_uri(session, uri)


async def test_peer_joins_open_approval_invite_and_banned(instances):
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    await b.add_user("bob")
    await b.add_user("brenda")
    _, open_group = await make_community(a, "hand-hygiene", moderators=("alice",))
    _, approval = await make_community(a, "wound-care", join_policy=JoinPolicy.approval, moderators=("alice",))
    _, invite = await make_community(a, "sedation", join_policy=JoinPolicy.invite, moderators=("alice",))
    _, home_only = await make_community(a, "night-shift", local_only=True, moderators=("alice",))

    # When bob@B asks to join each (WebFinger finds the federated ones)
    for name in ("hand-hygiene", "wound-care", "sedation"):
        await follow_remote(b, "bob", f"{name}@{a.urls.authority}")
    await settle(a, b)
    # Then the open one accepts, the approval one waits, the invite-only one rejects
    assert await _state(b, "bob", open_group.uri) is FollowState.accepted
    assert await _state(b, "bob", approval.uri) is FollowState.pending
    assert await _state(b, "bob", invite.uri) is FollowState.rejected
    # And alice, its moderator, is told of the pending join
    alice = await a.actor("alice")
    async with a.db.sessions() as session:
        kinds = list(await session.scalars(select(Notification.type).where(Notification.recipient_id == alice.id)))
    assert kinds == [NotificationType.join_request]

    # When alice approves it, Then bob@B is a member on both sides, and the approval is audited
    remote_bob = await _remote(a, (await b.actor("bob")).uri)
    async with a.db.sessions.begin() as session:
        await moderation.answer_join(a.fed, session, approval, remote_bob, alice, accept=True)
    await settle(a, b)
    assert await _state(b, "bob", approval.uri) is FollowState.accepted
    # And bob hears of it on B (approved: the open community's acceptance was no approval)
    async with b.db.sessions() as session:
        told = list(await session.scalars(select(Notification.type).where(
            Notification.recipient_id == (await b.actor("bob")).id)))
    assert told == [NotificationType.join_approved]
    async with a.db.sessions() as session:
        assert await session.scalar(select(AuditEntry.action).where(AuditEntry.subject == approval.uri,
                                                                    AuditEntry.action.like("community.join%"))) \
            == "community.join.approve"

    # When alice bans bob from the open community, Then B hears he is out, and asking again is refused
    async with a.db.sessions.begin() as session:
        await moderation.remove_member(a.fed, session, open_group, remote_bob, alice, ban=True)
    await settle(a, b)
    assert await _state(b, "bob", open_group.uri) is FollowState.rejected
    await follow_remote(b, "bob", f"hand-hygiene@{a.urls.authority}")  # asks again
    await settle(a, b)
    assert await _state(b, "bob", open_group.uri) is FollowState.rejected
    assert await _state(a, "alice", open_group.uri) is None

    # And a member who is not a moderator cannot answer joins
    await follow_remote(b, "brenda", f"wound-care@{a.urls.authority}")
    await settle(a, b)
    brenda = await _remote(a, (await b.actor("brenda")).uri)
    async with a.db.sessions.begin() as session:
        try:
            await moderation.answer_join(a.fed, session, approval, brenda, remote_bob, accept=True)
        except CommunityError as exc:
            assert "only a moderator" in str(exc)
        else:
            raise AssertionError("a member answered a join")
    assert await _state(b, "brenda", approval.uri) is FollowState.pending

    assert home_only is not None


async def test_a_peer_cannot_join_an_institution_only_community(scene):
    # Given an institution-only community on A, whose id a peer learnt somehow
    _, group = await make_community(scene.a, "night-shift", local_only=True, moderators=("alice",))
    # When zed on the peer sends it a Follow
    await scene.send("zed", "Follow", group.uri)
    await scene.run()
    # Then the join is refused, and not even the Reject leaves the instance
    zed = await scene.remote("zed")
    assert (await scene.one(Follow, Follow.follower_id == zed.id)).state is FollowState.rejected
    assert await scene.count(Delivery) == 0
    assert await scene.notifications(await scene.a.actor("alice")) == []


async def test_local_user_joins_through_the_client_api(instances):
    a = await instances.start()
    await a.add_user("alice")
    _, approval = await make_community(a, "wound-care", join_policy=JoinPolicy.approval, moderators=("alice",))
    _, open_group = await make_community(a, "hand-hygiene")
    headers = await token_for(a, "carol")
    carol = Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=a.base,
                     version_check_mode="none")

    def call(fn, *args, **kwargs):
        return asyncio.to_thread(fn, *args, **kwargs)

    # Given the community as an account with group: true
    found = await call(carol.account_lookup, "wound-care")
    assert found["group"] is True and found["locked"] is True
    # When carol follows it, Then the join is requested, and alice is notified
    relationship = await call(carol.account_follow, found["id"])
    assert relationship["requested"] is True and relationship["following"] is False
    alice = await a.actor("alice")
    async with a.db.sessions() as session:
        assert await session.scalar(select(Notification.type).where(Notification.recipient_id == alice.id)) \
            is NotificationType.join_request
    # And an open community is joined at once
    open_account = await call(carol.account_lookup, "hand-hygiene")
    assert (await call(carol.account_follow, open_account["id"]))["following"] is True
    assert open_group is not None and approval is not None
