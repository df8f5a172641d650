"""federation/outbox/actions.py, posts and reactions: post (each visibility), reply, edit, delete, boost,
unboost, like, unlike. Each test asserts the rows written and the delivery rows queued: one per
server (followers deduplicated by shared inbox), none to a server policy refuses, none to a
pending follower, none to a local actor, and only mentioned servers for a direct post.

The audience (tests/outbox_helpers.py): ONE holds followers p and q, S is follower s's own
inbox, THREE holds pending follower t and non-follower u, r's server is refused, bob is local.
"""

from __future__ import annotations

import pytest
from sqlalchemy import update

from federation.outbox import actions
from federation.outbox.actions import OutboxError
from federation.protocol.vocab import PUBLIC
from storage.models import (
    Activity,
    Actor,
    Announce,
    Delivery,
    FeedEntry,
    Like,
    Mention,
    Notification,
    NotificationType,
    Object,
    ObjectEdit,
    Visibility,
)
from tests.outbox_helpers import Audience


async def _post(audience: Audience, **options) -> Object:
    async with audience.a.fed.transaction() as session:
        return await actions.post(audience.a.fed, session, audience.alice, content="<p>hi</p>", **options)


async def _home(audience: Audience, owner) -> set[int]:
    return {e.item_id for e in await audience.all(FeedEntry, FeedEntry.owner_id == owner.id)}


async def test_a_public_post_goes_once_to_each_allowed_followers_server(audience):
    # When alice posts publicly
    item = await _post(audience)
    # Then the post and its public Create are stored, addressed to the public
    (created,) = await audience.all(Activity, Activity.type == "Create")
    assert (item.visibility, item.local, created.object_id, created.public) == (Visibility.public, True, item.id, True)
    assert created.raw["to"] == [PUBLIC]
    # and one delivery goes to each followers' server: p and q share ONE; nothing to the pending
    # follower's server, to the refused server, or for bob, who has it in his home instead
    assert await audience.inboxes("Create") == sorted(audience.followers)
    assert item.id in await _home(audience, audience.bob)


async def test_an_unlisted_post_goes_to_the_same_servers_and_stays_out_of_public_timelines(audience):
    item = await _post(audience, visibility=Visibility.unlisted)
    (created,) = await audience.all(Activity, Activity.type == "Create")
    assert created.public is True and PUBLIC in created.raw["cc"] and PUBLIC not in created.raw["to"]
    assert item.visibility is Visibility.unlisted
    assert await audience.inboxes("Create") == sorted(audience.followers)


async def test_a_followers_only_post_goes_to_followers_and_the_mentioned(audience):
    # When alice posts for her followers, mentioning u (who does not follow her)
    item = await _post(audience, visibility=Visibility.private, mentions=[audience.actors["u"]])
    # Then the Create is not public, and goes to the followers' servers and u's
    (created,) = await audience.all(Activity, Activity.type == "Create")
    assert created.public is False and PUBLIC not in created.raw["to"] + created.raw["cc"]
    assert await audience.inboxes("Create") == sorted(audience.followers | {audience.three})
    assert item.id in await _home(audience, audience.bob)


async def test_a_direct_post_goes_only_to_the_mentioned(audience):
    # When alice writes directly to u, to bob, and to r (whose server is refused)
    a = audience.actors
    item = await _post(audience, visibility=Visibility.direct, mentions=[a["u"], audience.bob, a["r"]])
    # Then only u's server gets it: no followers' server, not the refused one
    assert await audience.inboxes("Create") == [audience.three]
    (created,) = await audience.all(Activity, Activity.type == "Create")
    assert created.public is False
    # and bob, a local recipient, is notified and has it at home
    assert [n.type for n in await audience.all(Notification, Notification.recipient_id == audience.bob.id)] == [
        NotificationType.mention]
    assert item.id in await _home(audience, audience.bob)


async def test_a_direct_post_to_a_refused_server_queues_nothing(audience):
    await _post(audience, visibility=Visibility.direct, mentions=[audience.actors["r"]])
    assert await audience.queued() == []


async def test_a_deleted_actor_gets_nothing(audience):
    # Given u deleted his account (his server sent Delete)
    async with audience.a.db.sessions.begin() as session:
        await session.execute(update(Actor).where(Actor.id == audience.actors["u"].id)
                              .values(deleted_at=audience.a.clock.now()))
    # When alice writes directly to him
    await _post(audience, visibility=Visibility.direct, mentions=[audience.actors["u"]])
    # Then nothing is queued for him
    assert await audience.queued() == []


async def test_a_reply_mentions_and_reaches_the_parents_author(audience):
    # Given u's post
    parent = await audience.remote_post("u")
    # When alice replies to it, mentioning no one
    item = await _post(audience, in_reply_to=parent)
    # Then the reply is threaded, mentions u, and goes to u's server and the followers' servers
    assert item.in_reply_to_uri == parent.uri
    assert [m.actor_id for m in await audience.all(Mention, Mention.object_id == item.id)] == [audience.actors["u"].id]
    assert await audience.inboxes("Create") == sorted(audience.followers | {audience.three})


async def test_a_reply_to_a_local_post_notifies_its_author_without_a_delivery_to_them(audience):
    async with audience.a.fed.transaction() as session:
        parent = await actions.post(audience.a.fed, session, audience.bob, content="<p>bob's</p>")
    await audience.forget_deliveries()
    await _post(audience, in_reply_to=parent, visibility=Visibility.direct)
    assert [n.type for n in await audience.all(Notification, Notification.recipient_id == audience.bob.id)] == [
        NotificationType.mention]
    assert await audience.queued() == []


async def test_nothing_is_queued_before_the_commit_and_nothing_stays_after_a_rollback(audience):
    # Given the delivery worker is idle
    audience.a.fed.wake.deliveries.clear()
    # When a post is made in a transaction that then fails
    with pytest.raises(RuntimeError):
        async with audience.a.fed.transaction() as session:
            await actions.post(audience.a.fed, session, audience.alice, content="<p>hi</p>")
            assert not audience.a.fed.wake.deliveries.is_set()
            raise RuntimeError("the caller failed after the post")
    # Then no post, activity or delivery remains, and the worker was not woken
    assert (await audience.all(Object), await audience.all(Delivery)) == ([], [])
    assert not audience.a.fed.wake.deliveries.is_set()
    # When it is made again and committed, Then the worker is woken
    await _post(audience)
    assert audience.a.fed.wake.deliveries.is_set()


async def test_an_edit_keeps_the_old_version_and_sends_an_update_to_the_same_audience(audience):
    item = await _post(audience, visibility=Visibility.private, mentions=[audience.actors["u"]])
    await audience.forget_deliveries()
    async with audience.a.fed.transaction() as session:
        await actions.edit(audience.a.fed, session, audience.alice, await session.get(Object, item.id),
                          content="<p>edited</p>")
    assert [e.content for e in await audience.all(ObjectEdit)] == ["<p>hi</p>"]
    assert (await audience.all(Object))[0].content == "<p>edited</p>"
    assert await audience.inboxes("Update") == sorted(audience.followers | {audience.three})
    assert await audience.inboxes("Create") == []


async def test_only_the_author_edits_or_deletes(audience):
    item = await _post(audience)
    await audience.forget_deliveries()
    for action, kwargs in ((actions.edit, {"content": "<p>bob's now</p>"}), (actions.delete, {})):
        with pytest.raises(OutboxError, match="only the author"):
            async with audience.a.fed.transaction() as session:
                await action(audience.a.fed, session, audience.bob, await session.get(Object, item.id), **kwargs)
    (stored,) = await audience.all(Object)
    assert (stored.content, stored.deleted_at) == ("<p>hi</p>", None)
    assert await audience.queued() == []


async def test_a_delete_tombstones_and_reaches_the_same_audience(audience):
    item = await _post(audience, mentions=[audience.actors["u"]])
    await audience.forget_deliveries()
    async with audience.a.fed.transaction() as session:
        await actions.delete(audience.a.fed, session, audience.alice, await session.get(Object, item.id))
    assert (await audience.all(Object))[0].deleted_at is not None
    assert await audience.inboxes("Delete") == sorted(audience.followers | {audience.three})
    (_, document), *_ = await audience.queued("Delete")
    assert document["object"] == {"id": item.uri, "type": "Tombstone"}


async def test_a_delete_of_a_direct_post_reaches_only_the_mentioned(audience):
    item = await _post(audience, visibility=Visibility.direct, mentions=[audience.actors["u"]])
    await audience.forget_deliveries()
    async with audience.a.fed.transaction() as session:
        await actions.delete(audience.a.fed, session, audience.alice, await session.get(Object, item.id))
    assert await audience.inboxes("Delete") == [audience.three]


async def test_a_boost_reaches_the_author_and_the_boosters_followers_and_an_unboost_undoes_it(audience):
    # When alice boosts u's public post
    theirs = await audience.remote_post("u")
    async with audience.a.fed.transaction() as session:
        await actions.boost(audience.a.fed, session, audience.alice, theirs)
    # Then the boost is stored, and the Announce goes to u's server and her followers' servers
    (row,) = await audience.all(Announce)
    assert (row.actor_id, row.object_id, row.public) == (audience.alice.id, theirs.id, True)
    assert await audience.inboxes("Announce") == sorted(audience.followers | {audience.three})
    # When she takes it back, Then the row goes and an Undo of that Announce goes to the same servers
    async with audience.a.fed.transaction() as session:
        await actions.unboost(audience.a.fed, session, audience.alice, theirs)
    assert await audience.all(Announce) == []
    assert await audience.inboxes("Undo") == sorted(audience.followers | {audience.three})
    assert {doc["object"]["id"] for _, doc in await audience.queued("Undo")} == {row.uri}


@pytest.mark.parametrize("visibility", [Visibility.private, Visibility.direct])
async def test_a_non_public_post_cannot_be_boosted(audience, visibility):
    theirs = await audience.remote_post("u", visibility)
    with pytest.raises(OutboxError, match="only public and unlisted"):
        async with audience.a.fed.transaction() as session:
            await actions.boost(audience.a.fed, session, audience.alice, theirs)
    assert (await audience.all(Announce), await audience.queued()) == ([], [])


async def test_a_like_goes_only_to_the_authors_server_and_an_unlike_undoes_it(audience):
    theirs = await audience.remote_post("u")
    async with audience.a.fed.transaction() as session:
        await actions.like(audience.a.fed, session, audience.alice, theirs)
    (row,) = await audience.all(Like)
    # a second like answers the first, and sends nothing again
    async with audience.a.fed.transaction() as session:
        assert (await actions.like(audience.a.fed, session, audience.alice, theirs)).id == row.id
    assert await audience.inboxes("Like") == [audience.three]
    async with audience.a.fed.transaction() as session:
        await actions.unlike(audience.a.fed, session, audience.alice, theirs)
    assert await audience.all(Like) == []
    assert await audience.inboxes("Undo") == [audience.three]
    assert [doc["object"]["id"] for _, doc in await audience.queued("Undo")] == [row.uri]


async def test_a_like_of_a_post_on_a_refused_server_is_kept_here_only(audience):
    theirs = await audience.remote_post("r")
    async with audience.a.fed.transaction() as session:
        await actions.like(audience.a.fed, session, audience.alice, theirs)
    assert len(await audience.all(Like)) == 1
    assert await audience.queued() == []


async def test_a_deleted_post_cannot_be_liked_or_boosted(audience):
    item = await _post(audience)
    async with audience.a.fed.transaction() as session:
        await actions.delete(audience.a.fed, session, audience.alice, await session.get(Object, item.id))
    await audience.forget_deliveries()
    for action in (actions.like, actions.boost):
        with pytest.raises(OutboxError, match="deleted"):
            async with audience.a.fed.transaction() as session:
                await action(audience.a.fed, session, audience.bob, await session.get(Object, item.id))
    assert (await audience.all(Like), await audience.all(Announce), await audience.queued()) == ([], [], [])
