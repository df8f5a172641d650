"""federation/inbox/handlers/block.py: a peer's actor blocks a local one.

Guards: the target must be a local actor (base.local_actor); a second Block adds no row; follows
between the two end in both directions; the blocker's posts leave the blocked actor's home.
"""

from __future__ import annotations

from federation.outbox import relations
from storage.models import Block, Follow, FollowState, InboxState, Object
from tests.handler_helpers import Scene


async def _mutual_follows(scene: Scene) -> None:
    """zed follows alice and alice follows zed, both accepted."""
    alice = await scene.a.actor("alice")
    await scene.send("zed", "Follow", alice.uri, "f")
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, alice, await scene.remote("zed"))
    await scene.send("zed", "Accept", row.uri, "a")
    await scene.run()
    assert [f.state for f in await scene.all(Follow)] == [FollowState.accepted] * 2


async def test_a_block_ends_follows_both_ways_and_empties_the_home(scene):
    # Given alice and zed follow each other, and zed's post is in alice's home
    await _mutual_follows(scene)
    await scene.send("zed", "Create", scene.note("zed", "1"), "c")
    await scene.run()
    alice = await scene.a.actor("alice")
    post = await scene.one(Object)
    assert post.id in await scene.home(alice)
    # When zed blocks alice
    block = await scene.send("zed", "Block", alice.uri, "b")
    await scene.run()
    # Then the block is recorded, neither follows the other, and his post left her home
    zed = await scene.remote("zed")
    row = await scene.one(Block)
    assert (row.uri, row.actor_id, row.target_id) == (block["id"], zed.id, alice.id)
    assert [f.state for f in await scene.all(Follow)] == [FollowState.undone] * 2
    assert post.id not in await scene.home(alice)
    assert await scene.outcome(block) == (InboxState.done, None)


async def test_a_second_block_adds_no_row(scene):
    alice = await scene.a.actor("alice")
    first = await scene.send("zed", "Block", alice.uri, "1")
    await scene.run()
    second = await scene.send("zed", "Block", alice.uri, "2")
    await scene.run()
    assert (await scene.one(Block)).uri == first["id"]
    assert await scene.outcome(second) == (InboxState.done, None)


async def test_a_block_of_an_actor_on_another_server_is_ignored(scene):
    mallory = await scene.remote("mallory")
    block = await scene.send("zed", "Block", mallory.uri, "b")
    await scene.run()
    assert await scene.count(Block) == 0
    assert await scene.outcome(block) == (InboxState.ignored, f"{mallory.uri} is not an actor on this server")


async def test_a_block_of_an_unknown_local_name_is_ignored(scene):
    nobody = f"{scene.a.base}/users/nobody"
    block = await scene.send("zed", "Block", nobody, "b")
    await scene.run()
    assert await scene.count(Block) == 0
    assert await scene.outcome(block) == (InboxState.ignored, f"no local actor {nobody}")
