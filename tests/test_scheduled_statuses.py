"""Scheduled posts through the client API, driven by Mastodon.py (server/api/scheduled.py,
federation.outbox.scheduled): a post asked for later is kept, not published; listed, moved and
cancelled; its image is kept from the media sweep while it waits; published when its time
comes, once, even by a worker that died after publishing it; one asked for less than five
minutes ahead is refused."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from mastodon import Mastodon, MastodonAPIError
from PIL import Image

from federation.outbox import scheduled
from federation.social import media
from storage import scheduled as queries
from storage.models import Media
from tests.api_helpers import token_for


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base)


async def test_a_post_asked_for_later_is_published_then_and_only_once(instances, monkeypatch):
    a = await instances.start()
    alice = _client(a, await token_for(a, "alice"))
    call = asyncio.to_thread
    image = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 90, 200)).save(image, "PNG")
    upload = await call(alice.media_post, io.BytesIO(image.getvalue()), mime_type="image/png", description="rota")
    alice_id = (await a.actor("alice")).id

    # When alice asks for a post with an image in three days, and another in a week
    soon = await call(alice.status_post, "Rota for the holidays", media_ids=[upload["id"]],
                      scheduled_at=a.clock.now() + timedelta(days=3))
    later = await call(alice.status_post, "Never mind", scheduled_at=a.clock.now() + timedelta(days=7))
    # Then her app gets scheduled posts, not posts, and nothing is published
    assert soon["params"]["text"] == "Rota for the holidays"
    assert [str(m["id"]) for m in soon["media_attachments"]] == [str(upload["id"])]
    assert await call(alice.account_statuses, alice_id) == []
    assert sorted(str(row["id"]) for row in await call(alice.scheduled_statuses)) == sorted(
        [str(soon["id"]), str(later["id"])])

    # When she cancels the second, and moves the first a day later
    await call(alice.scheduled_status_delete, later["id"])
    moved = await call(alice.scheduled_status_update, soon["id"], a.clock.now() + timedelta(days=4))
    assert [str(row["id"]) for row in await call(alice.scheduled_statuses)] == [str(soon["id"])]
    assert moved["scheduled_at"] != soon["scheduled_at"]

    # When two days pass, Then the image it waits with is not swept away as unused
    a.clock.advance(days=2)
    async with a.fed.transaction() as session:
        assert await media.sweep(session, a.settings.media_dir, a.clock.now()) == 0
        assert await session.get(Media, int(upload["id"])) is not None
    assert await scheduled.run_once(a.fed) == 0  # not due yet

    # When its time comes, Then it is published, with its image, and no longer waits
    a.clock.advance(days=2, minutes=1)
    assert await scheduled.run_once(a.fed) == 1
    [post] = await call(alice.account_statuses, alice_id)
    assert "Rota for the holidays" in post["content"]
    assert [(str(m["id"]), m["description"]) for m in post["media_attachments"]] == [(str(upload["id"]), "rota")]
    assert await call(alice.scheduled_statuses) == []

    # When a text she asked for an hour later comes due, and the worker publishing it dies
    # before it can forget it
    await call(alice.status_post, "Handover at 8", scheduled_at=a.clock.now() + timedelta(hours=1))
    a.clock.advance(hours=1, minutes=1)
    forget = queries.forget

    async def dies(session, row_id):
        raise RuntimeError("the worker died")

    monkeypatch.setattr(queries, "forget", dies)
    with pytest.raises(RuntimeError):
        await scheduled.run_once(a.fed)
    # And another worker takes it up once the claim lapses
    monkeypatch.setattr(queries, "forget", forget)
    assert await scheduled.run_once(a.fed) == 0  # still claimed
    a.clock.advance(minutes=6)
    assert await scheduled.run_once(a.fed) == 1
    # Then it was published once
    texts = [status["content"] for status in await call(alice.account_statuses, alice_id)]
    assert len([text for text in texts if "Handover at 8" in text]) == 1
    assert await call(alice.scheduled_statuses) == []


async def test_what_a_schedule_may_not_be(api):
    a, http, alice, bob = api
    client = _client(a, alice)
    # Sooner than five minutes ahead, or not a time
    with pytest.raises(MastodonAPIError, match="5 minutes"):
        await asyncio.to_thread(client.status_post, "now-ish", scheduled_at=a.clock.now() + timedelta(minutes=2))
    async with http.post(f"{a.base}/api/v1/statuses", headers=alice,
                         json={"status": "x", "scheduled_at": "next tuesday"}) as r:
        assert r.status == 422 and "ISO 8601" in (await r.json())["error"]
    # And someone else's scheduled post is not found
    mine = await asyncio.to_thread(client.status_post, "later", scheduled_at=a.clock.now() + timedelta(hours=1))
    async with http.delete(f"{a.base}/api/v1/scheduled_statuses/{mine['id']}", headers=bob) as r:
        assert r.status == 404
    assert len(await asyncio.to_thread(client.scheduled_statuses)) == 1
