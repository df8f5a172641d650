"""federation/inbox/handlers/announce.py: Announce (a boost) of a post, fetched from its origin when we
do not have it.

Guards: an Announce without an object is ignored; a post that cannot be fetched is ignored (the
boost is meaningless without it); a deleted post cannot be boosted; only public and unlisted
posts can be boosted (a followers-only or direct post, whose id leaked, cannot be spread); a
second boost of the same post by the same actor adds nothing; the boost is public only if
addressed to the public. The author is notified and the booster's local followers get it at home.
"""

from __future__ import annotations

from federation.outbox import actions, relations
from federation.protocol.vocab import PUBLIC
from storage.models import Announce, FeedEntry, InboxState, NotificationType, Object, Visibility


async def test_a_boost_of_a_local_post_is_stored_and_the_author_told(scene):
    # Given alice's public post
    post = await scene.local_post()
    # When zed boosts it, publicly
    boost = await scene.send("zed", "Announce", post.uri, to=[PUBLIC])
    await scene.run()
    # Then the boost is stored as public and alice is told
    row = await scene.one(Announce)
    assert (row.uri, row.object_id, row.public) == (boost["id"], post.id, True)
    assert await scene.notifications(await scene.a.actor("alice")) == [NotificationType.reblog]
    assert await scene.outcome(boost) == (InboxState.done, None)


async def test_a_boost_addressed_to_followers_only_is_not_public(scene):
    post = await scene.local_post(visibility=Visibility.unlisted)
    boost = await scene.send("zed", "Announce", post.uri, to=[f"{scene.peer.base}/users/zed/followers"])
    await scene.run()
    assert (await scene.one(Announce)).public is False
    assert await scene.outcome(boost) == (InboxState.done, None)


async def test_a_boost_of_a_post_we_lack_fetches_it_and_reaches_the_boosters_followers(scene):
    # Given alice follows zed, and mallory's post is only on the peer
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, await scene.a.actor("alice"), await scene.remote("zed"))
    await scene.send("zed", "Accept", row.uri, "a")
    note = scene.note("mallory", "1")
    # When zed boosts mallory's post
    boost = await scene.send("zed", "Announce", note["id"], "b", to=[PUBLIC])
    await scene.run()
    # Then the post was fetched and stored, and the boost is in alice's home
    post = await scene.one(Object)
    announce = await scene.one(Announce)
    assert (post.uri, announce.object_id) == (note["id"], post.id)
    assert await scene.one(FeedEntry.boost, FeedEntry.item_id == announce.id) is True
    assert await scene.outcome(boost) == (InboxState.done, None)


async def test_a_boost_of_a_post_that_cannot_be_fetched_is_ignored(scene):
    gone = f"{scene.peer.base}/users/mallory/statuses/404"
    boost = await scene.send("zed", "Announce", gone, to=[PUBLIC])
    await scene.run()
    assert await scene.count(Announce) == 0
    state, reason = await scene.outcome(boost)
    assert state is InboxState.ignored and reason.startswith("the boosted post is unavailable: ")


async def test_an_announce_without_an_object_is_ignored(scene):
    boost = await scene.send("zed", "Announce", None, to=[PUBLIC])
    await scene.run()
    assert await scene.outcome(boost) == (InboxState.ignored, "Announce without an object")


async def test_a_followers_only_or_direct_post_cannot_be_boosted(scene):
    # Given alice's followers-only and direct posts, whose ids zed has learned
    posts = [await scene.local_post(visibility=v) for v in (Visibility.private, Visibility.direct)]
    # When zed boosts each, publicly
    boosts = [await scene.send("zed", "Announce", p.uri, str(n), to=[PUBLIC]) for n, p in enumerate(posts)]
    await scene.run()
    # Then no boost is stored and alice is not told of one
    assert await scene.count(Announce) == 0
    assert await scene.notifications(await scene.a.actor("alice")) == []
    for boost, post in zip(boosts, posts):
        assert await scene.outcome(boost) == (InboxState.ignored, f"{post.uri} is not public; it cannot be boosted")


async def test_a_deleted_post_cannot_be_boosted(scene):
    # Given alice's post, deleted
    post = await scene.local_post()
    async with scene.a.fed.transaction() as session:
        await actions.delete(scene.a.fed, session, await scene.a.actor("alice"), await session.get(Object, post.id))
    # When zed boosts it
    boost = await scene.send("zed", "Announce", post.uri, to=[PUBLIC])
    await scene.run()
    # Then nothing is stored
    assert await scene.count(Announce) == 0
    assert await scene.outcome(boost) == (InboxState.ignored, f"unknown or deleted object {post.uri}")


async def test_a_second_boost_of_the_same_post_adds_nothing(scene):
    # Given zed boosted alice's post
    post = await scene.local_post()
    first = await scene.send("zed", "Announce", post.uri, "1", to=[PUBLIC])
    await scene.run()
    # When his server sends another Announce of it, under a new id
    second = await scene.send("zed", "Announce", post.uri, "2", to=[PUBLIC])
    await scene.run()
    # Then there is still the one boost, and alice was told once
    assert (await scene.one(Announce)).uri == first["id"]
    assert await scene.notifications(await scene.a.actor("alice")) == [NotificationType.reblog]
    assert await scene.outcome(second) == (InboxState.done, None)
