"""Replies are threaded: missing ancestors are fetched from their origin, up to a bounded depth."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from federation.outbox.delivery import _retry_after
from storage.models import Object
from tests.fakepeer import FakePeer, activity

PUBLIC = "https://www.w3.org/ns/activitystreams#Public"


def _note(peer: FakePeer, n: int, parent: int | None) -> dict:
    return {
        "id": f"{peer.base}/users/zed/statuses/{n}", "type": "Note",
        "attributedTo": f"{peer.base}/users/zed", "content": f"<p>note {n}</p>", "to": [PUBLIC],
        "inReplyTo": f"{peer.base}/users/zed/statuses/{parent}" if parent else None,
    }


async def test_missing_ancestors_are_fetched_up_to_the_depth(instances, http):
    # Given a chain of six notes on a peer, of which A knows none, and a depth of 3
    a = await instances.start(federation={"reply_fetch_depth": 3})
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        peer.add_actor("zed")
        for n in range(1, 7):
            peer.serve(f"/users/zed/statuses/{n}", _note(peer, n, n - 1 if n > 1 else None))
        # When the newest arrives in a Create
        create = activity(peer, "zed", "Create", _note(peer, 6, 5))
        assert (await peer.post(http, "zed", f"{a.base}/inbox", create, a.clock.now()))[0] == 202
        await a.step()
        # Then it and its three nearest ancestors are stored, linked, and no more
        async with a.db.sessions() as session:
            stored = {row.uri.rsplit("/", 1)[1]: row for row in await session.scalars(select(Object))}
        assert sorted(stored) == ["3", "4", "5", "6"]
        assert stored["6"].in_reply_to_uri.endswith("/5") and stored["4"].in_reply_to_uri.endswith("/3")
    finally:
        await peer.stop()


def test_retry_after_in_seconds_or_as_a_date():
    now = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
    assert _retry_after("120", now) == 120
    assert _retry_after("Thu, 01 Jan 2026 12:10:00 GMT", now) == 600
    assert _retry_after("soon", now) is None and _retry_after(None, now) is None
