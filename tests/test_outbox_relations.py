"""federation/outbox/relations.py: follow, unfollow, answer_follow (accept and reject), profile
update, block and unblock. Each test asserts the rows written and the delivery rows queued (the
audience is described in tests/outbox_helpers.py: followers p, q on ONE, s at S, pending t and
non-follower u on THREE, r on a refused server, local bob).
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from federation.outbox import relations
from federation.outbox.actions import OutboxError
from storage.models import Activity, Actor, Block, Follow, FollowState, Notification, NotificationType
from tests.outbox_helpers import Audience


async def _follow_row(audience: Audience, follower: Actor, followee: Actor) -> Follow:
    (row,) = await audience.all(Follow, Follow.follower_id == follower.id, Follow.followee_id == followee.id)
    return row


async def _do(audience: Audience, action, *args, **kwargs):
    async with audience.a.fed.transaction() as session:
        return await action(audience.a.fed, session, *args, **kwargs)


async def test_a_follow_of_a_remote_actor_waits_and_asks_only_their_server(audience):
    # When alice follows u
    u = audience.actors["u"]
    row = await _do(audience, relations.follow, audience.alice, u)
    # Then the follow waits for u, and one Follow goes to u's server only
    assert (await _follow_row(audience, audience.alice, u)).state is FollowState.pending
    ((inbox, document),) = await audience.queued()
    assert (inbox, document["type"], document["id"], document["object"]) == (audience.three, "Follow", row.uri, u.uri)
    # When she follows u again while it waits, Then nothing more is sent
    await _do(audience, relations.follow, audience.alice, u)
    assert len(await audience.queued()) == 1


async def test_a_follow_of_a_refused_servers_actor_is_recorded_but_not_sent(audience):
    await _do(audience, relations.follow, audience.alice, audience.actors["r"])
    assert (await _follow_row(audience, audience.alice, audience.actors["r"])).state is FollowState.pending
    assert await audience.queued() == []


async def test_a_follow_of_a_local_actor_is_answered_here(audience):
    # When bob follows carol, and dave, who approves followers by hand
    await audience.a.add_user("carol")
    await audience.a.add_user("dave")
    async with audience.a.db.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.username == "dave", Actor.local.is_(True))
                              .values(manually_approves_followers=True))
    carol, dave = await audience.a.actor("carol"), await audience.a.actor("dave")
    await _do(audience, relations.follow, audience.bob, carol)
    await _do(audience, relations.follow, audience.bob, dave)
    # Then the follow of carol is accepted, the one of dave waits, each is notified, nothing is sent
    assert (await _follow_row(audience, audience.bob, carol)).state is FollowState.accepted
    assert (await _follow_row(audience, audience.bob, dave)).state is FollowState.pending
    for who, kind in ((carol, NotificationType.follow), (dave, NotificationType.follow_request)):
        assert [n.type for n in await audience.all(Notification, Notification.recipient_id == who.id)] == [kind]
    assert await audience.queued() == []


async def test_one_cannot_follow_or_block_oneself(audience):
    for action, message in ((relations.follow, "follow yourself"), (relations.block, "block yourself")):
        with pytest.raises(OutboxError, match=message):
            await _do(audience, action, audience.alice, audience.alice)
    assert await audience.all(Follow, Follow.follower_id == Follow.followee_id) == []
    assert (await audience.all(Block), await audience.queued()) == ([], [])


async def test_an_unfollow_ends_the_follow_and_undoes_it_at_their_server(audience):
    # Given alice follows u
    u = audience.actors["u"]
    row = await _do(audience, relations.follow, audience.alice, u)
    await audience.forget_deliveries()
    # When she unfollows
    await _do(audience, relations.unfollow, audience.alice, u)
    # Then the follow is undone and an Undo of that Follow goes to u's server only
    assert (await _follow_row(audience, audience.alice, u)).state is FollowState.undone
    ((inbox, document),) = await audience.queued()
    assert (inbox, document["type"], document["object"]["id"]) == (audience.three, "Undo", row.uri)
    # When she unfollows again, Then nothing more is sent
    await _do(audience, relations.unfollow, audience.alice, u)
    assert len(await audience.queued()) == 1


@pytest.mark.parametrize(("accept", "state", "kind"), [(True, FollowState.accepted, "Accept"),
                                                       (False, FollowState.rejected, "Reject")])
async def test_answering_a_follow_request_tells_the_followers_server(audience, accept, state, kind):
    # Given t's pending follow of alice
    row = await _follow_row(audience, audience.actors["t"], audience.alice)
    # When alice answers it
    async with audience.a.fed.transaction() as session:
        await relations.answer_follow(audience.a.fed, session, await session.get(Follow, row.id), accept=accept)
    # Then the follow has its new state, and the answer goes to t's server only
    assert (await _follow_row(audience, audience.actors["t"], audience.alice)).state is state
    ((inbox, document),) = await audience.queued()
    assert (inbox, document["type"], document["actor"]) == (audience.three, kind, audience.alice.uri)
    assert document["object"]["id"] == row.uri


async def test_an_answer_to_a_follower_on_a_refused_server_is_not_sent(audience):
    async with audience.a.db.sessions.begin() as session:
        await session.execute(update(Follow).where(Follow.follower_id == audience.actors["r"].id)
                              .values(state=FollowState.pending))
    row = await _follow_row(audience, audience.actors["r"], audience.alice)
    async with audience.a.fed.transaction() as session:
        await relations.answer_follow(audience.a.fed, session, await session.get(Follow, row.id), accept=True)
    assert (await _follow_row(audience, audience.actors["r"], audience.alice)).state is FollowState.accepted
    assert await audience.queued() == []


async def test_an_answer_the_state_machine_refuses_changes_and_sends_nothing(audience):
    # Given alice's follower p, who then withdrew (undone)
    row = await _follow_row(audience, audience.actors["p"], audience.alice)
    async with audience.a.db.sessions.begin() as session:
        await session.execute(update(Follow).where(Follow.id == row.id).values(state=FollowState.undone))
    # When alice rejects that follow
    async with audience.a.fed.transaction() as session:
        await relations.answer_follow(audience.a.fed, session, await session.get(Follow, row.id), accept=False)
    # Then it stays undone and no Reject is sent
    assert (await _follow_row(audience, audience.actors["p"], audience.alice)).state is FollowState.undone
    assert await audience.queued() == []


async def test_a_profile_update_goes_to_the_followers_servers(audience):
    async with audience.a.fed.transaction() as session:
        alice = await session.get(Actor, audience.alice.id)
        alice.display_name = "Dr Alice"
        await relations.update_profile(audience.a.fed, session, alice)
    assert await audience.inboxes("Update") == sorted(audience.followers)
    (_, document), *_ = await audience.queued("Update")
    assert (document["object"]["id"], document["object"]["name"]) == (audience.alice.uri, "Dr Alice")


async def test_a_block_ends_follows_both_ways_and_tells_only_the_blocked_server(audience):
    # Given alice follows s too (s already follows her)
    s = audience.actors["s"]
    await _do(audience, relations.follow, audience.alice, s)
    async with audience.a.db.sessions.begin() as session:
        await session.execute(update(Follow).where(Follow.follower_id == audience.alice.id).values(
            state=FollowState.accepted))
    await audience.forget_deliveries()
    # When alice blocks s
    await _do(audience, relations.block, audience.alice, s)
    # Then the block is recorded, alice's follow is undone, s's is rejected
    (block,) = await audience.all(Block)
    assert (block.actor_id, block.target_id) == (audience.alice.id, s.id)
    assert (await _follow_row(audience, audience.alice, s)).state is FollowState.undone
    assert (await _follow_row(audience, s, audience.alice)).state is FollowState.rejected
    # and s's server alone is told: Undo (of alice's follow), Reject (of s's), Block
    assert sorted((doc["type"], inbox) for inbox, doc in await audience.queued()) == [
        ("Block", audience.s_inbox), ("Reject", audience.s_inbox), ("Undo", audience.s_inbox)]
    # When alice blocks s again, Then nothing more is written or sent
    await _do(audience, relations.block, audience.alice, s)
    assert (len(await audience.all(Block)), len(await audience.queued())) == (1, 3)


async def test_an_unblock_undoes_the_block_at_the_blocked_server(audience):
    s = audience.actors["s"]
    await _do(audience, relations.block, audience.alice, s)
    (block,) = await audience.all(Block)
    await audience.forget_deliveries()
    await _do(audience, relations.unblock, audience.alice, s)
    assert await audience.all(Block) == []
    ((inbox, document),) = await audience.queued()
    assert (inbox, document["type"], document["object"]["id"]) == (audience.s_inbox, "Undo", block.uri)


async def test_a_block_of_a_local_actor_sends_nothing(audience):
    # When alice blocks bob, her local follower
    await _do(audience, relations.block, audience.alice, audience.bob)
    # Then the block is recorded and his follow ends, with no activity made for a peer
    assert len(await audience.all(Block)) == 1
    assert (await _follow_row(audience, audience.bob, audience.alice)).state is FollowState.rejected
    assert await audience.all(Activity) == []
    # And she cannot follow him while the block stands
    with pytest.raises(OutboxError, match="block"):
        await _do(audience, relations.follow, audience.alice, audience.bob)
    # When she blocks him again and unblocks him, Then no activity is made either
    await _do(audience, relations.block, audience.alice, audience.bob)
    await _do(audience, relations.unblock, audience.alice, audience.bob)
    assert (await audience.all(Block), await audience.all(Activity)) == ([], [])
