"""federation/inbox/handlers/undo.py: Undo of a Follow, Like, Announce or Block.

Guards: only the same actor's activity is undone (the inbox refuses an embedded activity of
another actor, but an Undo naming the activity by bare id reaches the handler, which must
check); an Undo says which kind it undoes, and only a row of that kind goes; an Undo(Follow) of
no such follow is ignored as such; anything else not found is "nothing to undo".
"""

from __future__ import annotations

from federation.protocol.vocab import PUBLIC
from storage.models import Announce, Block, Follow, FollowState, InboxState, Like
from tests.handler_helpers import Scene, handle_directly


async def _zed_follows_alice(scene: Scene) -> dict:
    follow = await scene.send("zed", "Follow", (await scene.a.actor("alice")).uri, "f")
    await scene.run()
    assert (await scene.one(Follow)).state is FollowState.accepted
    return follow


async def _zed_likes_alice(scene: Scene) -> dict:
    post = await scene.local_post()
    like = await scene.send("zed", "Like", post.uri, "l")
    await scene.run()
    assert await scene.count(Like) == 1
    return like


async def test_an_undo_of_a_follow_ends_it(scene):
    # Given zed follows alice
    follow = await _zed_follows_alice(scene)
    # When he undoes his Follow (embedded)
    undo = await scene.send("zed", "Undo", follow, "u")
    await scene.run()
    # Then the follow is undone
    assert (await scene.one(Follow)).state is FollowState.undone
    assert await scene.outcome(undo) == (InboxState.done, None)


async def test_an_undo_of_a_rebuilt_follow_ends_the_follow_it_names(scene):
    # Given zed follows alice
    follow = await _zed_follows_alice(scene)
    # When he undoes it as Misskey does, with a Follow of alice rebuilt under another id
    rebuilt = {**follow, "id": f"{scene.peer.base}/follows/zed/alice"}
    undo = await scene.send("zed", "Undo", rebuilt, "u")
    await scene.run()
    # Then the follow is undone
    assert (await scene.one(Follow)).state is FollowState.undone
    assert await scene.outcome(undo) == (InboxState.done, None)


async def test_an_undo_by_bare_id_of_ones_own_follow_ends_it(scene):
    follow = await _zed_follows_alice(scene)
    undo = await scene.send("zed", "Undo", follow["id"], "u")
    await scene.run()
    assert (await scene.one(Follow)).state is FollowState.undone
    assert await scene.outcome(undo) == (InboxState.done, None)


async def test_an_undo_by_bare_id_of_someone_elses_follow_is_ignored(scene):
    # Given zed follows alice
    follow = await _zed_follows_alice(scene)
    # When mallory, on the same server, sends an Undo naming zed's Follow by its id
    undo = await scene.send("mallory", "Undo", follow["id"], "u")
    await scene.run()
    # Then zed still follows alice
    assert (await scene.one(Follow)).state is FollowState.accepted
    assert await scene.outcome(undo) == (InboxState.ignored, f"nothing to undo for {follow['id']}")


async def test_an_embedded_follow_of_someone_else_is_not_undone_by_the_handler_either(scene):
    # Given zed follows alice (the inbox refuses mallory's Undo of it with 403; this checks the
    # handler holds without that check)
    follow = await _zed_follows_alice(scene)
    await scene.remote("mallory")
    undo = {"id": f"{scene.peer.base}/users/mallory/activities/u", "type": "Undo",
            "actor": f"{scene.peer.base}/users/mallory", "object": follow}
    # When the handler runs on it
    reason = await handle_directly(scene.a, undo)
    # Then the follow stands
    assert reason == f"no follow {follow['id']} by {scene.peer.base}/users/mallory"
    assert (await scene.one(Follow)).state is FollowState.accepted


async def test_an_undo_of_a_follow_there_is_not_says_so(scene):
    # When zed undoes a Follow we never had
    ghost = {"id": f"{scene.peer.base}/users/zed/follows/9", "type": "Follow",
             "actor": f"{scene.peer.base}/users/zed", "object": (await scene.a.actor("alice")).uri}
    undo = await scene.send("zed", "Undo", ghost, "u")
    await scene.run()
    # Then it is ignored as a follow not found
    assert await scene.outcome(undo) == (InboxState.ignored, f"no follow {ghost['id']} by {ghost['actor']}")


async def test_an_undo_of_a_like_removes_it(scene):
    like = await _zed_likes_alice(scene)
    undo = await scene.send("zed", "Undo", like, "u")
    await scene.run()
    assert await scene.count(Like) == 0
    assert await scene.outcome(undo) == (InboxState.done, None)


async def test_an_undo_by_bare_id_of_someone_elses_like_is_ignored(scene):
    # Given zed likes alice's post
    like = await _zed_likes_alice(scene)
    # When mallory sends an Undo naming zed's Like by its id
    undo = await scene.send("mallory", "Undo", like["id"], "u")
    await scene.run()
    # Then the like stays
    assert await scene.count(Like) == 1
    assert await scene.outcome(undo) == (InboxState.ignored, f"nothing to undo for {like['id']}")


async def test_an_undo_of_another_kind_leaves_the_row(scene):
    # Given zed likes alice's post
    like = await _zed_likes_alice(scene)
    # When zed undoes an Announce that bears his Like's id
    announce = {**like, "type": "Announce"}
    undo = await scene.send("zed", "Undo", announce, "u")
    await scene.run()
    # Then the like is not taken for it
    assert await scene.count(Like) == 1
    assert await scene.outcome(undo) == (InboxState.ignored, f"nothing to undo for {like['id']}")


async def test_an_undo_of_a_boost_removes_it(scene):
    post = await scene.local_post()
    boost = await scene.send("zed", "Announce", post.uri, "b", to=[PUBLIC])
    await scene.run()
    assert await scene.count(Announce) == 1
    undo = await scene.send("zed", "Undo", boost, "u")
    await scene.run()
    assert await scene.count(Announce) == 0
    assert await scene.outcome(undo) == (InboxState.done, None)


async def test_an_undo_by_bare_id_of_someone_elses_boost_or_block_is_ignored(scene):
    # Given zed boosted alice's post and blocked her
    alice = await scene.a.actor("alice")
    post = await scene.local_post()
    boost = await scene.send("zed", "Announce", post.uri, "b", to=[PUBLIC])
    block = await scene.send("zed", "Block", alice.uri, "k")
    await scene.run()
    # When mallory names each by id in an Undo
    undos = [await scene.send("mallory", "Undo", done["id"], f"u{n}") for n, done in enumerate((boost, block))]
    await scene.run()
    # Then both stay
    assert (await scene.count(Announce), await scene.count(Block)) == (1, 1)
    for undo in undos:
        assert (await scene.outcome(undo))[0] is InboxState.ignored


async def test_an_undo_of_a_block_removes_it(scene):
    block = await scene.send("zed", "Block", (await scene.a.actor("alice")).uri, "k")
    await scene.run()
    undo = await scene.send("zed", "Undo", block, "u")
    await scene.run()
    assert await scene.count(Block) == 0
    assert await scene.outcome(undo) == (InboxState.done, None)
