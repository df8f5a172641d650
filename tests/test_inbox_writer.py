"""The inbox group commit: every request in a batch learns whether its own row went in."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import select

from storage.ids import new_id
from storage.models import InboxItem, InboxState


def _row(name: str) -> dict:
    actor = "https://peer.example/users/bob"
    uri = f"{actor}/activities/{name}"
    return {
        "id": new_id(), "activity_uri": uri, "activity_type": "Like", "actor_uri": actor,
        "signer_key_id": f"{actor}#main-key", "recipient_id": None,
        "raw": json.dumps({"id": uri, "type": "Like", "actor": actor, "object": f"{actor}/statuses/1"}),
    }


async def test_a_batch_of_new_repeated_and_already_stored_activities(instances):
    # Given an instance that has stored one activity already
    a = await instances.start()
    writer = a.fed.inbox_writer
    assert await writer.submit(_row("old")) is True
    # When one batch brings two new activities, one of them twice, and the stored one again
    rows = [_row(name) for name in ("new-1", "new-2", "new-1", "old")]
    results = await asyncio.gather(*(writer.submit(row) for row in rows))
    # Then only the first copy of each new activity counts as new, and each is stored once, as
    # sent, queued and due now
    assert results == [True, True, False, False]
    async with a.db.sessions() as session:
        stored = {item.activity_uri: item for item in await session.scalars(select(InboxItem))}
    assert sorted(uri.rsplit("/", 1)[1] for uri in stored) == ["new-1", "new-2", "old"]
    item = stored[rows[1]["activity_uri"]]
    assert item.id == rows[1]["id"] and item.raw == rows[1]["raw"]
    assert (item.state, item.attempts, item.received_at, item.next_attempt_at) == (
        InboxState.queued, 0, a.clock.now(), a.clock.now())


async def test_a_row_the_database_refuses_fails_alone_and_not_its_batch(instances):
    # Given an instance's inbox writer
    a = await instances.start()
    writer = a.fed.inbox_writer
    # When one batch brings two good rows and one whose id no driver can encode (a lone
    # surrogate; intake refuses such an id, this is the writer's own guard behind it)
    rows = [_row("good-1"), _row("bad\ud800"), _row("good-2")]
    results = await asyncio.gather(*(writer.submit(row) for row in rows), return_exceptions=True)
    # Then only that row's request fails; the other two are stored
    assert results[0] is True and results[2] is True
    assert isinstance(results[1], Exception)
    async with a.db.sessions() as session:
        stored = sorted(uri.rsplit("/", 1)[1] for uri in await session.scalars(select(InboxItem.activity_uri)))
    assert stored == ["good-1", "good-2"]
