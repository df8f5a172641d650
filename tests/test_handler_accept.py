"""federation/inbox/handlers/accept.py: Accept and Reject of a Follow a local actor sent.

Guards: the Follow is found by its id, or (for servers that rebuild it) by the pair of the
follower named in it and the answering actor; only the followee may answer (a Follow of
someone else, or one never asked for, is ignored); move_follow refuses an illegal transition
(a Reject of a follow already undone is ignored). An Accept copies the followee's posts into the
follower's home; a Reject takes them out.
"""

from __future__ import annotations


from federation.outbox import relations
from storage.models import Follow, FollowState, InboxState, Object
from tests.handler_helpers import Scene


async def _alice_follows_zed(scene: Scene) -> str:
    """alice asks to follow zed (pending); returns the Follow's id."""
    zed = await scene.remote("zed")
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, await scene.a.actor("alice"), zed)
    return row.uri


async def _zed_posts(scene: Scene) -> int:
    """zed has a public post stored here; returns its row id."""
    await scene.send("zed", "Create", scene.note("zed", "1"), "post")
    await scene.run()
    return (await scene.one(Object)).id


def _follow_object(scene: Scene, follow_id: str, follower: str) -> dict:
    return {"id": follow_id, "type": "Follow", "actor": follower, "object": f"{scene.peer.base}/users/zed"}


async def test_an_accept_by_the_followee_accepts_and_fills_the_home(scene):
    # Given alice asked to follow zed, whose post we already have
    follow_id = await _alice_follows_zed(scene)
    post = await _zed_posts(scene)
    alice = await scene.a.actor("alice")
    assert post not in await scene.home(alice)
    # When zed accepts
    accept = await scene.send("zed", "Accept", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    # Then the follow is accepted and zed's post joins alice's home
    assert (await scene.one(Follow)).state is FollowState.accepted
    assert post in await scene.home(alice)
    assert await scene.outcome(accept) == (InboxState.done, None)


async def test_an_accept_of_a_rebuilt_follow_is_matched_on_the_pair(scene):
    # Given alice asked to follow mallory, then zed
    alice = await scene.a.actor("alice")
    mallory = await scene.remote("mallory")
    async with scene.a.fed.transaction() as session:
        await relations.follow(scene.a.fed, session, alice, mallory)
    await _alice_follows_zed(scene)
    # When zed's server answers with a Follow it rebuilt, under an id of its own
    rebuilt = _follow_object(scene, f"{scene.peer.base}/follows/99", alice.uri)
    accept = await scene.send("zed", "Accept", rebuilt)
    await scene.run()
    # Then alice's follow of zed is accepted all the same, and her follow of mallory still waits
    zed = await scene.remote("zed")
    assert (await scene.one(Follow, Follow.followee_id == zed.id)).state is FollowState.accepted
    assert (await scene.one(Follow, Follow.followee_id == mallory.id)).state is FollowState.pending
    assert await scene.outcome(accept) == (InboxState.done, None)


async def test_only_the_followee_may_accept(scene):
    # Given alice asked to follow zed
    follow_id = await _alice_follows_zed(scene)
    alice = await scene.a.actor("alice")
    # When mallory, on the same server, accepts alice's Follow of zed
    accept = await scene.send("mallory", "Accept", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    # Then it is ignored and the follow still waits for zed
    assert (await scene.one(Follow)).state is FollowState.pending
    assert await scene.outcome(accept) == (
        InboxState.ignored, f"Accept of a follow {scene.peer.base}/users/mallory was not asked for")


async def test_only_the_followee_may_reject(scene):
    # Given alice follows zed (accepted)
    follow_id = await _alice_follows_zed(scene)
    alice = await scene.a.actor("alice")
    await scene.send("zed", "Accept", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    # When mallory rejects it, by id
    reject = await scene.send("mallory", "Reject", follow_id)
    await scene.run()
    # Then it is ignored and the follow stands
    assert (await scene.one(Follow)).state is FollowState.accepted
    state, reason = await scene.outcome(reject)
    assert state is InboxState.ignored and "was not asked for" in reason


async def test_an_accept_of_a_follow_never_asked_for_is_ignored(scene):
    # Given alice never asked to follow zed
    alice = await scene.a.actor("alice")
    # When zed accepts a Follow of hers, by id and rebuilt
    by_id = await scene.send("zed", "Accept", f"{scene.a.base}/users/alice#follows/1", "1")
    rebuilt = await scene.send("zed", "Accept", _follow_object(scene, f"{scene.peer.base}/f/2", alice.uri), "2")
    await scene.run()
    # Then both are ignored and no follow appears
    assert await scene.count(Follow) == 0
    for accept in (by_id, rebuilt):
        state, reason = await scene.outcome(accept)
        assert state is InboxState.ignored and "was not asked for" in reason


async def test_a_reject_ends_the_follow_and_empties_the_home(scene):
    # Given alice follows zed (accepted) and has his post in her home
    follow_id = await _alice_follows_zed(scene)
    post = await _zed_posts(scene)
    alice = await scene.a.actor("alice")
    await scene.send("zed", "Accept", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    assert post in await scene.home(alice)
    # When zed rejects the follow after all
    reject = await scene.send("zed", "Reject", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    # Then it is rejected and his post leaves her home
    assert (await scene.one(Follow)).state is FollowState.rejected
    assert post not in await scene.home(alice)
    assert await scene.outcome(reject) == (InboxState.done, None)


async def _alice_withdraws(scene: Scene) -> None:
    async with scene.a.fed.transaction() as session:
        await relations.unfollow(scene.a.fed, session, await scene.a.actor("alice"), await scene.remote("zed"))


async def test_a_reject_of_a_withdrawn_follow_is_refused_by_the_state_machine(scene):
    # Given alice asked to follow zed and withdrew before he answered
    follow_id = await _alice_follows_zed(scene)
    await _alice_withdraws(scene)
    # When zed's Reject arrives
    reject = await scene.send("zed", "Reject", follow_id)
    await scene.run()
    # Then the follow stays undone, and the item says why nothing changed
    assert (await scene.one(Follow)).state is FollowState.undone
    assert await scene.outcome(reject) == (InboxState.ignored, "follow is undone; cannot become rejected")


async def test_a_late_accept_does_not_revive_a_withdrawn_follow(scene):
    # Given alice asked to follow zed, whose post we have, and withdrew before he answered
    follow_id = await _alice_follows_zed(scene)
    post = await _zed_posts(scene)
    await _alice_withdraws(scene)
    alice = await scene.a.actor("alice")
    # When zed's Accept arrives late
    accept = await scene.send("zed", "Accept", _follow_object(scene, follow_id, alice.uri))
    await scene.run()
    # Then alice still does not follow him, and his post stays out of her home
    assert (await scene.one(Follow)).state is FollowState.undone
    assert post not in await scene.home(alice)
    assert (await scene.outcome(accept))[0] is InboxState.ignored
