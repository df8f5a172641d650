"""federation/inbox/handlers/delete.py: Delete of a post (a tombstone stays) or of the actor itself
(its posts and follows go, it stays as a deleted row, and its key is no longer trusted).

Guards: only the author's post is deleted (the inbox refuses a Delete of a known post by someone
else, but not one of a post still waiting in the queue, so the handler checks again); an unknown
or already deleted post is ignored; only the actor itself is deleted as an actor (a Delete naming
another actor deletes nothing); the deleted actor's cached key is forgotten.
"""

from __future__ import annotations

from sqlalchemy import or_

from federation.outbox import relations
from federation.protocol.vocab import PUBLIC
from storage.models import Actor, Announce, FeedEntry, Follow, InboxState, Like, Object
from tests.handler_helpers import Scene


async def _zed_posts(scene: Scene, n: str = "1") -> dict:
    note = scene.note("zed", n, content="<p>to be deleted</p>")
    await scene.send("zed", "Create", note, f"c{n}")
    await scene.run()
    return note


async def test_the_author_deletes_a_post_and_a_tombstone_stays(scene):
    # Given zed's post
    note = await _zed_posts(scene)
    # When zed deletes it
    delete = await scene.send("zed", "Delete", note["id"], "d")
    await scene.run()
    # Then the row stays as an empty tombstone
    post = await scene.one(Object)
    assert post.deleted_at is not None and (post.content, post.raw) == ("", None)
    assert await scene.outcome(delete) == (InboxState.done, None)


async def test_a_delete_of_someone_elses_post_still_in_the_queue_is_ignored(scene):
    # Given mallory's Create, received but not handled yet
    theirs = scene.note("mallory", "1", content="<p>mallory's</p>")
    await scene.send("mallory", "Create", theirs, "c")
    # When zed's Delete of it arrives before the worker runs (the inbox cannot tell whose it is)
    delete = await scene.send("zed", "Delete", theirs["id"], "d")
    await scene.run()
    # Then mallory's post is stored and stays
    post = await scene.one(Object)
    assert post.deleted_at is None and post.content == "<p>mallory's</p>"
    assert await scene.outcome(delete) == (
        InboxState.ignored, f"{scene.peer.base}/users/zed cannot delete {theirs['id']}")


async def test_the_inbox_refuses_a_delete_of_a_known_post_by_someone_else(scene):
    theirs = scene.note("mallory", "1")
    await scene.send("mallory", "Create", theirs, "c")
    await scene.run()
    status, _ = await scene.peer.post(scene.http, "zed", f"{scene.a.base}/inbox", {
        "id": f"{scene.peer.base}/users/zed/d", "type": "Delete", "actor": f"{scene.peer.base}/users/zed",
        "object": theirs["id"]}, scene.a.clock.now())
    assert status == 403
    assert (await scene.one(Object)).deleted_at is None


async def test_a_delete_of_an_unknown_or_deleted_post_is_ignored(scene):
    # Given zed's post, deleted once
    note = await _zed_posts(scene)
    await scene.send("zed", "Delete", note["id"], "d1")
    await scene.run()
    deleted_at = (await scene.one(Object)).deleted_at
    # When it is deleted again, and a post we never had is deleted
    again = await scene.send("zed", "Delete", note["id"], "d2")
    never = await scene.send("zed", "Delete", f"{scene.peer.base}/users/zed/statuses/9", "d3")
    await scene.run()
    # Then both are ignored and the tombstone is untouched
    assert (await scene.one(Object)).deleted_at == deleted_at
    assert await scene.outcome(again) == (InboxState.ignored, f"unknown or already deleted object {note['id']}")
    assert (await scene.outcome(never))[0] is InboxState.ignored


async def test_an_actor_deletes_itself(scene):
    # Given zed, with a post, following alice, and followed by her
    alice = await scene.a.actor("alice")
    await _zed_posts(scene)
    await scene.send("zed", "Follow", alice.uri, "f")
    await scene.run()
    async with scene.a.fed.transaction() as session:
        await relations.follow(scene.a.fed, session, alice, await scene.remote("zed"))
    zed = await scene.remote("zed")
    # When zed deletes himself
    delete = await scene.send("zed", "Delete", zed.uri, "d")
    await scene.run()
    # Then his posts and follows are gone, and his row stays as deleted
    assert await scene.count(Object) == 0
    assert await scene.count(Follow, or_(Follow.follower_id == zed.id, Follow.followee_id == zed.id)) == 0
    assert (await scene.one(Actor, Actor.id == zed.id)).deleted_at is not None
    assert await scene.outcome(delete) == (InboxState.done, None)


async def test_an_actor_that_deletes_itself_takes_its_likes_and_boosts_with_it(scene):
    # Given zed liked and boosted alice's post, and bob, who follows zed, has the boost at home
    await scene.a.add_user("bob")
    bob = await scene.a.actor("bob")
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, bob, await scene.remote("zed"))
    await scene.send("zed", "Accept", row.uri, "a")
    post = await scene.local_post()
    await scene.send("zed", "Like", post.uri, "l")
    await scene.send("zed", "Announce", post.uri, "b", to=[PUBLIC])
    await scene.run()
    assert (await scene.count(Like), await scene.count(Announce), await scene.count(FeedEntry, FeedEntry.boost)) == (
        1, 1, 1)
    # When zed deletes himself
    await scene.send("zed", "Delete", f"{scene.peer.base}/users/zed", "d")
    await scene.run()
    # Then his like and boost are gone, and so is the boost from bob's home
    assert (await scene.count(Like), await scene.count(Announce), await scene.count(FeedEntry, FeedEntry.boost)) == (
        0, 0, 0)


async def test_a_deleted_actors_key_is_no_longer_trusted(scene):
    # Given zed, whose key we have used, deletes himself, and his server no longer serves him
    zed = await scene.remote("zed")
    await scene.send("zed", "Delete", zed.uri, "d")
    await scene.run()
    del scene.peer.documents["/users/zed"]
    # When a request signed with his key arrives
    status, _ = await scene.peer.post(scene.http, "zed", f"{scene.a.base}/inbox", {
        "id": f"{scene.peer.base}/users/zed/after", "type": "Follow", "actor": zed.uri,
        "object": (await scene.a.actor("alice")).uri}, scene.a.clock.now())
    # Then it is refused: the key was forgotten and cannot be fetched again
    assert status == 401


async def test_a_delete_naming_another_actor_deletes_nothing(scene):
    # Given mallory, with a post
    mallory = await scene.remote("mallory")
    await scene.send("mallory", "Create", scene.note("mallory", "1"), "c")
    await scene.run()
    # When zed sends a Delete of mallory's actor
    delete = await scene.send("zed", "Delete", mallory.uri, "d")
    await scene.run()
    # Then mallory and her post stay
    assert (await scene.one(Actor, Actor.id == mallory.id)).deleted_at is None
    assert await scene.count(Object) == 1
    assert await scene.outcome(delete) == (InboxState.ignored, f"unknown or already deleted object {mallory.uri}")
