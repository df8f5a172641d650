"""federation/inbox/handlers/like.py (and base.known_object, which it uses): a peer's actor favourites
a post we know.

Guards: an unknown post, or a deleted one, is ignored (known_object); a second Like of the same
post by the same actor adds nothing. The local author is notified.
"""

from __future__ import annotations

import pytest
from sqlalchemy.exc import IntegrityError

from federation.outbox import actions
from storage.interactions import add_like
from storage.models import InboxState, Like, NotificationType, Object


async def test_a_like_of_a_local_post_is_stored_and_the_author_told(scene):
    # Given alice's post
    post = await scene.local_post()
    # When zed likes it
    like = await scene.send("zed", "Like", post.uri)
    await scene.run()
    # Then the like is stored and alice is told
    zed = await scene.remote("zed")
    row = await scene.one(Like)
    assert (row.uri, row.actor_id, row.object_id) == (like["id"], zed.id, post.id)
    assert await scene.notifications(await scene.a.actor("alice")) == [NotificationType.favourite]
    assert await scene.outcome(like) == (InboxState.done, None)


async def test_a_like_of_an_unknown_post_is_ignored(scene):
    unknown = f"{scene.a.base}/users/alice/statuses/1"
    like = await scene.send("zed", "Like", unknown)
    await scene.run()
    assert await scene.count(Like) == 0
    assert await scene.outcome(like) == (InboxState.ignored, f"unknown or deleted object {unknown}")


async def test_a_like_of_a_deleted_post_is_ignored(scene):
    # Given alice's post, deleted
    post = await scene.local_post()
    async with scene.a.fed.transaction() as session:
        await actions.delete(scene.a.fed, session, await scene.a.actor("alice"), await session.get(Object, post.id))
    # When zed likes it
    like = await scene.send("zed", "Like", post.uri)
    await scene.run()
    # Then nothing is stored and alice is not told
    assert await scene.count(Like) == 0
    assert await scene.notifications(await scene.a.actor("alice")) == []
    assert await scene.outcome(like) == (InboxState.ignored, f"unknown or deleted object {post.uri}")


async def test_a_second_like_of_the_same_post_adds_nothing(scene):
    # Given zed liked alice's post
    post = await scene.local_post()
    first = await scene.send("zed", "Like", post.uri, "1")
    await scene.run()
    # When his server sends another Like of it, under a new id
    second = await scene.send("zed", "Like", post.uri, "2")
    await scene.run()
    # Then there is still the one like, and alice was told once
    assert (await scene.one(Like)).uri == first["id"]
    assert await scene.notifications(await scene.a.actor("alice")) == [NotificationType.favourite]
    assert await scene.outcome(second) == (InboxState.done, None)


async def test_a_like_whose_activity_id_is_stored_for_another_post_is_an_error_not_a_repeat(scene):
    """storage.interactions.add_like lets only a repeat of (actor, post) pass as nothing to do; an
    activity id already stored for another post raises, as any other clash does."""
    first, second = await scene.local_post(), await scene.local_post()
    zed = await scene.remote("zed")
    async with scene.a.db.sessions.begin() as session:
        assert await add_like(session, zed.id, first.id, "https://peer.example/likes/1", scene.a.clock.now())
        assert await add_like(session, zed.id, first.id, "https://peer.example/likes/2", scene.a.clock.now()) is None
    with pytest.raises(IntegrityError):
        async with scene.a.db.sessions.begin() as session:
            await add_like(session, zed.id, second.id, "https://peer.example/likes/1", scene.a.clock.now())
