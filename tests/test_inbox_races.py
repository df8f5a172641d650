"""Inbound posts that arrive in an unexpected order or twice at once (found by bench/inbox_drain.py).

Guards: a post fetched first (as a reply's parent) and then created by its author joins its
followers' homes and notifies its mentions, once, and a second Create of it adds nothing; two
PostgreSQL sessions storing the same remote post at once end with one row and no error.
"""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import text

from federation.outbox import relations
from federation.social.posts import store_remote_post
from federation.protocol.vocab.parse import ap_to_object
from storage.models import FeedEntry, InboxState, NotificationType, Object
from tests.conftest import DATABASE_URL
from tests.fakepeer import activity
from tests.handler_helpers import Scene, handle_directly


async def _alice_follows_zed(scene: Scene) -> None:
    zed = await scene.remote("zed")
    async with scene.a.fed.transaction() as session:
        row = await relations.follow(scene.a.fed, session, await scene.a.actor("alice"), zed)
    await scene.send("zed", "Accept", row.uri, "a")
    await scene.run()


async def test_a_fetched_parent_joins_its_followers_homes_when_its_create_arrives(scene):
    # Given alice follows zed
    await _alice_follows_zed(scene)
    alice = await scene.a.actor("alice")
    # And mallory's reply to zed's post (which mentions alice) came first, so the parent was fetched
    parent = scene.note("zed", "1", tag=[{"type": "Mention", "href": alice.uri, "name": "@alice"}])
    await scene.send("mallory", "Create", scene.note("mallory", "1", inReplyTo=parent["id"]), "r")
    await scene.run()
    stored = await scene.one(Object, Object.uri == parent["id"])
    assert stored.id not in await scene.home(alice)
    # When zed's own Create of the parent arrives
    create = await scene.send("zed", "Create", parent, "c")
    await scene.run()
    # Then the parent is in alice's home and she is notified of its mention
    assert await scene.outcome(create) == (InboxState.done, None)
    assert stored.id in await scene.home(alice)
    assert await scene.notifications(alice) == [NotificationType.mention]
    # And a second Create of it adds nothing
    again = await scene.send("zed", "Create", parent, "d")
    await scene.run()
    assert await scene.outcome(again) == (InboxState.ignored, f"{parent['id']} is already stored")
    assert await scene.notifications(alice) == [NotificationType.mention]
    assert await scene.count(FeedEntry, FeedEntry.item_id == stored.id) == 1


async def test_only_its_authors_create_brings_a_fetched_post_to_homes(scene):
    # Given zed's post, fetched as the parent of mallory's reply
    await _alice_follows_zed(scene)
    alice = await scene.a.actor("alice")
    parent = scene.note("zed", "1")
    await scene.send("mallory", "Create", scene.note("mallory", "1", inReplyTo=parent["id"]), "r")
    await scene.run()
    stored = await scene.one(Object, Object.uri == parent["id"])
    # When mallory's Create of it reaches the handler (past the inbox, which refuses it first)
    reason = await handle_directly(scene.a, activity(scene.peer, "mallory", "Create", parent, "c"),
                                   prepared=ap_to_object(parent))
    # Then it is ignored and the post stays out of alice's home, until zed's own Create
    assert reason == f"{parent['id']} is already stored"
    assert stored.id not in await scene.home(alice)
    assert await handle_directly(scene.a, activity(scene.peer, "zed", "Create", parent, "c"),
                                 prepared=ap_to_object(parent)) is None
    assert stored.id in await scene.home(alice)


async def _wait_until_blocked(instance, pid: int) -> None:
    """Until the PostgreSQL backend `pid` waits on a lock (at most 5 s)."""
    for _ in range(100):
        async with instance.db.sessions() as session:
            waiting = await session.scalar(text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                                           {"pid": pid})
        if waiting == "Lock":
            return
        await asyncio.sleep(0.05)
    raise AssertionError("the second session never waited on the first one's row")


@pytest.mark.skipif(not DATABASE_URL, reason="two sessions racing need PostgreSQL (CI sets ROUNDS_TEST_DATABASE_URL)")
async def test_two_sessions_storing_the_same_post_at_once_share_one_row(scene):
    # Given zed's post, parsed, and two sessions about to store it
    zed = await scene.remote("zed")
    post = ap_to_object(scene.note("zed", "1"))
    fed, now = scene.a.fed, scene.a.clock.now()
    # When the first stores it and, before it commits, the second stores it too
    async with fed.db.sessions.begin() as first:
        winner, first_links = await store_remote_post(first, post, zed, now, fed.settings)

        async def second() -> tuple[int, bool]:
            async with fed.db.sessions.begin() as session:
                pid = await session.scalar(text("SELECT pg_backend_pid()"))
                started.set_result(pid)
                row, links = await store_remote_post(session, post, zed, now, fed.settings)
                return row.id, links is not None

        started: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        loser = asyncio.create_task(second())
        await _wait_until_blocked(scene.a, await started)
    # Then the second ends with the first one's row, without an error
    assert first_links is not None
    assert await asyncio.wait_for(loser, 5) == (winner.id, False)
    assert await scene.count(Object) == 1
