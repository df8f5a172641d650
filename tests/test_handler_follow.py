"""federation/inbox/handlers/follow.py (and base.local_actor, which it uses): a peer's actor asks to
follow a local one.

Guards: the object must be an actor on this server (base.local_actor: our URL prefix, and a
local row); an accepted follow asked again is re-confirmed (new id, a fresh Accept, no new
notification, never back to pending); manual approval leaves the follow pending with a
follow_request notification and no Accept; otherwise it is accepted, notified and answered.
"""

from __future__ import annotations

from sqlalchemy import update

from storage.models import Actor, ActorType, Block, Follow, FollowState, InboxState, NotificationType, Visibility
from tests.handler_helpers import handle_directly


async def _approve_by_hand(scene) -> None:
    async with scene.a.db.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.username == "alice", Actor.local.is_(True))
                              .values(manually_approves_followers=True))


async def test_a_follow_is_accepted_notified_and_answered(scene):
    # Given alice, who accepts followers automatically
    alice = await scene.a.actor("alice")
    # When zed asks to follow her
    follow = await scene.send("zed", "Follow", alice.uri)
    await scene.run()
    # Then the follow is accepted, alice is told, and one Accept of that Follow goes to zed's server
    zed = await scene.remote("zed")
    row = await scene.one(Follow)
    assert (row.follower_id, row.followee_id) == (zed.id, alice.id)
    assert (row.state, row.uri) == (FollowState.accepted, follow["id"])
    assert await scene.notifications(alice) == [NotificationType.follow]
    ((inbox, accept),) = await scene.queued()
    assert inbox == f"{scene.peer.base}/inbox"
    assert (accept["type"], accept["actor"], accept["object"]["id"]) == ("Accept", alice.uri, follow["id"])
    assert await scene.outcome(follow) == (InboxState.done, None)


async def test_manual_approval_leaves_the_follow_pending_and_asks_the_followee(scene):
    # Given alice approves her followers by hand
    await _approve_by_hand(scene)
    alice = await scene.a.actor("alice")
    # When zed asks to follow her
    follow = await scene.send("zed", "Follow", alice.uri)
    await scene.run()
    # Then the follow waits, alice gets a follow request, and nothing is sent to zed yet
    assert (await scene.one(Follow)).state is FollowState.pending
    assert await scene.notifications(alice) == [NotificationType.follow_request]
    assert await scene.queued() == []
    assert await scene.outcome(follow) == (InboxState.done, None)


async def test_an_accepted_follow_asked_again_is_reconfirmed_not_reopened(scene):
    # Given zed follows alice (accepted), and alice has since turned on manual approval
    alice = await scene.a.actor("alice")
    first = await scene.send("zed", "Follow", alice.uri, "1")
    await scene.run()
    await _approve_by_hand(scene)
    # When zed's server sends a Follow again, with a new id (it lost our Accept, say)
    again = await scene.send("zed", "Follow", alice.uri, "2")
    await scene.run()
    # Then the follow stays accepted under the new id, a second Accept answers the new id,
    # and alice is not asked or told again
    row = await scene.one(Follow)
    assert (row.state, row.uri) == (FollowState.accepted, again["id"])
    accepts = [doc["object"]["id"] for _, doc in await scene.queued("Accept")]
    assert accepts == [first["id"], again["id"]]
    assert await scene.notifications(alice) == [NotificationType.follow]
    assert await scene.outcome(again) == (InboxState.done, None)


async def test_a_follow_after_an_undo_is_a_new_request(scene):
    # Given zed followed alice and then undid it
    alice = await scene.a.actor("alice")
    first = await scene.send("zed", "Follow", alice.uri, "1")
    await scene.send("zed", "Undo", first, "1")
    await scene.run()
    assert (await scene.one(Follow)).state is FollowState.undone
    # When alice approves by hand and zed follows again
    await _approve_by_hand(scene)
    again = await scene.send("zed", "Follow", alice.uri, "2")
    await scene.run()
    # Then it is a new pending request (not re-confirmed, as only an accepted follow is)
    row = await scene.one(Follow)
    assert (row.state, row.uri) == (FollowState.pending, again["id"])
    assert await scene.notifications(alice) == [NotificationType.follow, NotificationType.follow_request]
    assert [doc["object"]["id"] for _, doc in await scene.queued("Accept")] == [first["id"]]


async def test_a_follow_of_an_actor_on_another_server_is_ignored(scene):
    # Given mallory, an actor on the peer, not here
    mallory = await scene.remote("mallory")
    # When zed sends us a Follow of mallory
    follow = await scene.send("zed", "Follow", mallory.uri)
    await scene.run()
    # Then nothing is written and no Accept is sent for someone else
    assert await scene.count(Follow) == 0
    assert await scene.queued() == []
    assert await scene.outcome(follow) == (InboxState.ignored, f"{mallory.uri} is not an actor on this server")


async def test_a_follow_of_an_unknown_local_name_is_ignored(scene):
    # When zed follows a user this server does not have
    nobody = f"{scene.a.base}/users/nobody"
    follow = await scene.send("zed", "Follow", nobody)
    await scene.run()
    # Then it is ignored, and nothing is written or sent
    assert await scene.count(Follow) == 0
    assert await scene.queued() == []
    assert await scene.outcome(follow) == (InboxState.ignored, f"no local actor {nobody}")


async def test_a_follow_of_a_remote_row_under_our_address_is_ignored(scene):
    # Given a row for a remote actor whose URI lies under this server's address (a peer can
    # never get one stored, as actors are fetched from their own origin; this checks the
    # handler does not trust the address alone)
    zed = await scene.remote("zed")
    uri = f"{scene.a.base}/users/impostor"
    async with scene.a.db.sessions.begin() as session:
        session.add(Actor(uri=uri, local=False, type=ActorType.Person, username="impostor", domain="elsewhere",
                          inbox=f"{uri}/inbox", key_id=f"{uri}#key", public_key_pem=zed.public_key_pem))
    # When zed's Follow of it is handled
    reason = await handle_directly(scene.a, {"id": f"{scene.peer.base}/users/zed/activities/f", "type": "Follow",
                                             "actor": zed.uri, "object": uri})
    # Then it is ignored: only a local row is a local actor
    assert reason == f"no local actor {uri}"
    assert await scene.count(Follow) == 0


async def test_a_follow_across_a_block_is_rejected_and_reaches_nothing(scene):
    # Given alice blocked zed
    alice, zed = await scene.a.actor("alice"), await scene.remote("zed")
    async with scene.a.db.sessions.begin() as session:
        session.add(Block(actor_id=alice.id, target_id=zed.id))
    # When zed asks to follow her
    follow = await scene.send("zed", "Follow", alice.uri)
    await scene.run()
    # Then the follow is rejected, his server told so, and she hears nothing of it
    assert (await scene.one(Follow)).state is FollowState.rejected
    assert [(doc["type"], doc["object"]["id"]) for _, doc in await scene.queued()] == [("Reject", follow["id"])]
    assert await scene.notifications(alice) == []
    # And her followers-only post goes nowhere near him
    await scene.local_post(visibility=Visibility.private)
    assert [doc["type"] for _, doc in await scene.queued()] == ["Reject"]
