"""Scheduled posts through the client API, driven by Mastodon.py (server/api/scheduled.py,
federation.outbox.scheduled): a post asked for later is kept, not published; listed, moved and
cancelled; its image is its own while it waits (no other post takes it, the media sweep leaves
it); published when its time comes, exactly once, a failed attempt tried again; never once
cancelled, moved or its author disabled, even by a worker already holding it; dropped when what
it answers is gone; refused at once when it could never be published, too soon, or too many."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta

import pytest
from mastodon import Mastodon, MastodonAPIError
from PIL import Image
from sqlalchemy import update

from federation.outbox import drafts, scheduled
from federation.social import media
from storage.models import Account, Media
from tests.api_helpers import token_for


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base)


def _texts(statuses) -> list[str]:
    return [status["content"] for status in statuses]


async def test_a_post_asked_for_later_is_published_then_exactly_once(instances, monkeypatch):
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
    assert soon["params"]["text"] == "Rota for the holidays" and soon["params"]["local_only"] is False
    assert [str(m["id"]) for m in soon["media_attachments"]] == [str(upload["id"])]
    assert await call(alice.account_statuses, alice_id) == []
    assert sorted(str(row["id"]) for row in await call(alice.scheduled_statuses)) == sorted(
        [str(soon["id"]), str(later["id"])])
    # And its image is its own: another post cannot take it
    with pytest.raises(MastodonAPIError, match="cannot be attached"):
        await call(alice.status_post, "Borrowing it", media_ids=[upload["id"]])

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

    # When its time comes and the first attempt fails (the database, say)
    a.clock.advance(days=2, minutes=1)
    publish = drafts.publish

    async def fails(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(drafts, "publish", fails)
    assert await scheduled.run_once(a.fed) == 1
    assert await call(alice.account_statuses, alice_id) == []
    # Then it waits out its claim, and the next attempt publishes it, once, with its image
    monkeypatch.setattr(drafts, "publish", publish)
    assert await scheduled.run_once(a.fed) == 0  # still claimed
    a.clock.advance(minutes=6)
    assert await scheduled.run_once(a.fed) == 1
    a.clock.advance(minutes=6)
    assert await scheduled.run_once(a.fed) == 0
    [post] = await call(alice.account_statuses, alice_id)
    assert "Rota for the holidays" in post["content"]
    assert [(str(m["id"]), m["description"]) for m in post["media_attachments"]] == [(str(upload["id"]), "rota")]
    assert await call(alice.scheduled_statuses) == []


async def test_a_worker_holding_a_post_publishes_nothing_once_it_is_cancelled_moved_or_its_author_disabled(api, monkeypatch):
    a, http, alice, _ = api
    client = _client(a, alice)
    alice_id = (await a.actor("alice")).id
    rows = [await asyncio.to_thread(client.status_post, text, scheduled_at=a.clock.now() + timedelta(hours=1))
            for text in ("cancelled", "moved", "disabled")]
    # Given a worker that has claimed the three as they came due, and is about to publish them
    held = []

    async def holds(fed, *args):
        held.append(args)

    real = scheduled._publish
    monkeypatch.setattr(scheduled, "_publish", holds)
    a.clock.advance(hours=1, minutes=1)
    assert await scheduled.run_once(a.fed) == 3
    # When alice cancels the first and moves the second, and then her account is disabled
    await asyncio.to_thread(client.scheduled_status_delete, rows[0]["id"])
    await asyncio.to_thread(client.scheduled_status_update, rows[1]["id"], a.clock.now() + timedelta(days=1))
    # Then the worker publishes neither of the first two
    for args in held[:2]:
        await real(a.fed, *args)
    assert await asyncio.to_thread(client.account_statuses, alice_id) == []
    # And not the third once she is disabled
    async with a.db.sessions.begin() as session:
        await session.execute(update(Account).where(Account.username == "alice").values(disabled=True))
    await real(a.fed, *held[2])
    async with a.db.sessions.begin() as session:
        await session.execute(update(Account).where(Account.username == "alice").values(disabled=False))
    assert await asyncio.to_thread(client.account_statuses, alice_id) == []
    # And the moved one waits for its new time
    assert [row["params"]["text"] for row in await asyncio.to_thread(client.scheduled_statuses)] == ["moved"]


async def test_a_scheduled_reply_to_a_post_deleted_meanwhile_is_dropped(api):
    a, http, alice, bob = api
    client, bob_client = _client(a, alice), _client(a, bob)
    ward = await asyncio.to_thread(bob_client.status_post, "Ward 4 tonight?")
    await asyncio.to_thread(client.status_post, "I can", in_reply_to_id=ward["id"],
                            scheduled_at=a.clock.now() + timedelta(hours=1))
    await asyncio.to_thread(bob_client.status_delete, ward["id"])
    a.clock.advance(hours=1, minutes=1)
    assert await scheduled.run_once(a.fed) == 1
    assert await asyncio.to_thread(client.account_statuses, (await a.actor("alice")).id) == []
    assert await asyncio.to_thread(client.scheduled_statuses) == []


async def test_what_a_schedule_may_not_be(api):
    a, http, alice, bob = api
    client = _client(a, alice)
    later = a.clock.now() + timedelta(hours=1)
    # Sooner than five minutes ahead, or not a time
    with pytest.raises(MastodonAPIError, match="5 minutes"):
        await asyncio.to_thread(client.status_post, "now-ish", scheduled_at=a.clock.now() + timedelta(minutes=2))
    async with http.post(f"{a.base}/api/v1/statuses", headers=alice,
                         json={"status": "x", "scheduled_at": "next tuesday"}) as r:
        assert r.status == 422 and "ISO 8601" in (await r.json())["error"]
    # A reply to a post she cannot see: refused now, not dropped when due
    secret = await asyncio.to_thread(_client(a, bob).status_post, "for my followers", visibility="private")
    async with http.post(f"{a.base}/api/v1/statuses", headers=alice, json={
            "status": "x", "in_reply_to_id": secret["id"], "scheduled_at": later.isoformat()}) as r:
        assert r.status == 404
    # The same request sent again with its Idempotency-Key is the same scheduled post
    keyed = {**alice, "Idempotency-Key": "retry-1"}
    made = []
    for _ in range(2):
        async with http.post(f"{a.base}/api/v1/statuses", headers=keyed, json={
                "status": "once", "scheduled_at": later.isoformat()}) as r:
            made.append((await r.json())["id"])
    assert made[0] == made[1]
    # Someone else's scheduled post is not found, to read, move or cancel; and it cannot move too soon
    bob_h = {"Authorization": bob["Authorization"]}
    url = f"{a.base}/api/v1/scheduled_statuses/{made[0]}"
    for method in ("GET", "PUT", "DELETE"):
        async with http.request(method, url, headers=bob_h, json={"scheduled_at": later.isoformat()}) as r:
            assert r.status == 404, method
    async with http.put(url, headers=alice, json={"scheduled_at": (a.clock.now() + timedelta(minutes=1)).isoformat()}) as r:
        assert r.status == 422
    # At most 25 on one day
    for n in range(24):
        async with http.post(f"{a.base}/api/v1/statuses", headers=alice, json={
                "status": f"n{n}", "scheduled_at": later.isoformat()}) as r:
            assert r.status == 200, n
    async with http.post(f"{a.base}/api/v1/statuses", headers=alice, json={
            "status": "one too many", "scheduled_at": later.isoformat()}) as r:
        assert r.status == 422 and "25 on one day" in (await r.json())["error"]
