"""federation/inbox/handlers/move.py: a peer's account moves (Mastodon's account migration).
Taken only when the new account names the old among its aliases: the old shows `moved` in the
client API, and its local followers follow the new one (a Follow to its server) and leave the
old (an Undo). A Move to an account that does not name it, or a Move of another's account, is
ignored and changes nothing."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Actor, Block, Follow, FollowState, InboxState
from tests.api_helpers import token_for


async def _alice_follows(scene, name: str, follower: str = "alice") -> Actor:
    remote = await scene.remote(name)
    async with scene.a.db.sessions.begin() as session:
        session.add(Follow(follower_id=(await scene.a.actor(follower)).id, followee_id=remote.id,
                           uri=f"{scene.a.base}/follows/{follower}/{name}", state=FollowState.accepted))
    return remote


async def _follows(scene, follower: str = "alice") -> dict[str, FollowState]:
    async with scene.a.db.sessions() as session:
        rows = await session.execute(select(Actor.username, Follow.state).join(Actor, Actor.id == Follow.followee_id)
                                     .where(Follow.follower_id == (await scene.a.actor(follower)).id))
        return dict(rows.all())


async def test_a_move_to_an_account_that_names_it_takes_its_followers_along(scene, http):
    # Given alice follows zed, who opened zed2 (on his server), naming zed among its aliases,
    # and zed3, which does not
    zed = await _alice_follows(scene, "zed")
    scene.peer.add_actor("zed2", key=3, alsoKnownAs=[zed.uri])
    scene.peer.add_actor("zed3", key=4)
    scene.peer.add_actor("mallory2", key=5, alsoKnownAs=[f"{scene.peer.base}/users/mallory"])
    # When zed says he moved to zed3, and mallory says zed moved to zed2, or to her new account
    to_zed3 = await scene.send("zed", "Move", zed.uri, "3", target=f"{scene.peer.base}/users/zed3")
    by_mallory = await scene.send("mallory", "Move", zed.uri, "m", target=f"{scene.peer.base}/users/zed2")
    to_hers = await scene.send("mallory", "Move", zed.uri, "m2", target=f"{scene.peer.base}/users/mallory2")
    await scene.run()
    # Then neither is taken: alice still follows zed alone
    assert (await scene.outcome(to_zed3))[0] is InboxState.ignored
    assert (await scene.outcome(by_mallory))[0] is InboxState.ignored
    assert (await scene.outcome(to_hers))[0] is InboxState.ignored
    assert await _follows(scene) == {"zed": FollowState.accepted}

    # And a Move to an address serving the old account itself (naming itself its alias) is ignored
    scene.peer.serve("/users/zed-again", {**scene.peer.actors["zed"], "alsoKnownAs": [zed.uri]})
    to_itself = await scene.send("zed", "Move", zed.uri, "self", target=f"{scene.peer.base}/users/zed-again")
    await scene.run()
    assert (await scene.outcome(to_itself))[0] is InboxState.ignored
    async with scene.a.db.sessions() as session:
        assert (await session.get(Actor, zed.id)).moved_to_id is None
    # And bea, who follows zed too, has blocked zed2
    await scene.a.add_user("bea")
    await _alice_follows(scene, "zed", "bea")
    zed2 = await scene.remote("zed2")
    async with scene.a.db.sessions.begin() as session:
        session.add(Block(actor_id=(await scene.a.actor("bea")).id, target_id=zed2.id))
    # When zed says he moved to zed2
    move = await scene.send("zed", "Move", zed.uri, "2", target=f"{scene.peer.base}/users/zed2")
    await scene.run()
    # Then alice follows zed2, asking his server, and no longer zed
    assert await scene.outcome(move) == (InboxState.done, None)
    assert await _follows(scene) == {"zed": FollowState.undone, "zed2": FollowState.pending}
    assert [doc["object"] for _, doc in await scene.queued("Follow")] == [f"{scene.peer.base}/users/zed2"]
    assert [doc["object"]["object"] for _, doc in await scene.queued("Undo")] == [zed.uri]
    # But bea, with a block between her and zed2, keeps following zed, and asks zed2 nothing
    assert await _follows(scene, "bea") == {"zed": FollowState.accepted}
    # And her app shows where zed went
    headers = await token_for(scene.a, "alice", create=False)
    async with http.get(f"{scene.a.base}/api/v1/accounts/{zed.id}", headers=headers) as response:
        account = await response.json()
    assert account["moved"]["acct"] == f"zed2@{scene.peer.authority}"
    # And the same Move again changes nothing
    again = await scene.send("zed", "Move", zed.uri, "2b", target=f"{scene.peer.base}/users/zed2")
    await scene.run()
    assert (await scene.outcome(again))[0] is InboxState.ignored
    # And a Move to an account that has itself moved is ignored
    mallory2 = await scene.remote("mallory2")
    async with scene.a.db.sessions.begin() as session:
        (await session.get(Actor, mallory2.id)).moved_to_id = zed2.id
    onward = await scene.send("mallory", "Move", f"{scene.peer.base}/users/mallory", "on",
                              target=mallory2.uri)
    await scene.run()
    assert await scene.outcome(onward) == (InboxState.ignored, f"{mallory2.uri} has itself moved")
