"""Statuses, timelines and notifications through the client API, over raw HTTP."""

from __future__ import annotations

import asyncio
import io
import re

from mastodon import Mastodon
from PIL import Image

from tests.api_helpers import token_for


async def _post(http, a, headers, **body):
    async with http.post(f"{a.base}/api/v1/statuses", json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_create_with_content_warning_mentions_and_tags(api):
    a, http, alice, bob = api
    status = await _post(http, a, alice, status="Audit results for @bob #HandHygiene", spoiler_text="long",
                         visibility="unlisted", language="en")
    assert status["spoiler_text"] == "long" and status["sensitive"] is True
    assert status["visibility"] == "unlisted" and status["language"] == "en"
    assert [m["acct"] for m in status["mentions"]] == ["bob"]
    assert [t["name"] for t in status["tags"]] == ["handhygiene"]
    assert 'class="u-url mention"' in status["content"] and "#<span>HandHygiene</span>" in status["content"]
    assert status["account"]["username"] == "alice" and status["account"]["statuses_count"] == 1
    # bob is notified of the mention
    async with http.get(f"{a.base}/api/v1/notifications", headers=bob) as r:
        notes = await r.json()
    assert [(n["type"], n["status"]["id"]) for n in notes] == [("mention", status["id"])]


async def test_idempotency_key_gives_the_same_status(api):
    a, http, alice, _ = api
    headers = {**alice, "Idempotency-Key": "abc-123"}
    first = await _post(http, a, headers, status="once")
    second = await _post(http, a, headers, status="once")
    assert first["id"] == second["id"]
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=alice) as r:
        assert [s["id"] for s in await r.json()] == [first["id"]]


async def test_edit_history_source_and_delete(api):
    a, http, alice, bob = api
    status = await _post(http, a, alice, status="first draft")
    async with http.put(f"{a.base}/api/v1/statuses/{status['id']}", json={"status": "second draft"}, headers=alice) as r:
        edited = await r.json()
    assert "second draft" in edited["content"] and edited["edited_at"]
    async with http.get(f"{a.base}/api/v1/statuses/{status['id']}/history", headers=alice) as r:
        assert [("first" in v["content"], "second" in v["content"]) for v in await r.json()] == [(True, False), (False, True)]
    async with http.get(f"{a.base}/api/v1/statuses/{status['id']}/source", headers=alice) as r:
        assert (await r.json())["text"] == "second draft"
    # someone else's status cannot be edited or deleted
    async with http.put(f"{a.base}/api/v1/statuses/{status['id']}", json={"status": "hijack"}, headers=bob) as r:
        assert r.status == 403
    async with http.delete(f"{a.base}/api/v1/statuses/{status['id']}", headers=bob) as r:
        assert r.status == 403
    async with http.delete(f"{a.base}/api/v1/statuses/{status['id']}", headers=alice) as r:
        assert (await r.json())["text"] == "second draft"
    async with http.get(f"{a.base}/api/v1/statuses/{status['id']}", headers=alice) as r:
        assert r.status == 404



async def test_an_edit_notifies_who_boosted_it(api):
    a, http, alice, bob = api
    status = await _post(http, a, alice, status="dosage table v1")
    async with http.post(f"{a.base}/api/v1/statuses/{status['id']}/reblog", headers=bob) as r:
        assert r.status == 200
    async with http.put(f"{a.base}/api/v1/statuses/{status['id']}", json={"status": "dosage table v2"},
                        headers=alice) as r:
        assert r.status == 200
    async with http.get(f"{a.base}/api/v1/notifications", headers=bob) as r:
        notes = await r.json()
    assert [(n["type"], n["account"]["username"], n["status"]["id"]) for n in notes] == [
        ("update", "alice", status["id"])]
    assert "v2" in notes[0]["status"]["content"]
    # the author is not told of her own edit (only of bob's boost)
    async with http.get(f"{a.base}/api/v1/notifications", headers=alice) as r:
        assert [n["type"] for n in await r.json()] == ["reblog"]

async def test_favourite_reblog_bookmark_pin_and_who(api):
    a, http, alice, bob = api
    status = await _post(http, a, alice, status="worth sharing")
    url = f"{a.base}/api/v1/statuses/{status['id']}"
    for action in ("favourite", "reblog", "bookmark", "favourite"):  # a second favourite changes nothing
        async with http.post(f"{url}/{action}", headers=bob) as r:
            assert r.status == 200, await r.text()
            assert (await r.json())["favourites_count"] == 1
    async with http.get(url, headers=bob) as r:
        seen = await r.json()
    assert (seen["favourited"], seen["reblogged"], seen["bookmarked"]) == (True, True, True)
    assert (seen["favourites_count"], seen["reblogs_count"]) == (1, 1)
    async with http.post(f"{url}/pin", headers=bob) as r:
        assert r.status == 422  # only your own
    async with http.post(f"{url}/pin", headers=alice) as r:
        assert (await r.json())["pinned"] is True
    async with http.get(f"{url}/favourited_by", headers=alice) as r:
        assert [acc["username"] for acc in await r.json()] == ["bob"]
    async with http.get(f"{a.base}/api/v1/bookmarks", headers=bob) as r:
        assert [s["id"] for s in await r.json()] == [status["id"]]
    async with http.get(f"{a.base}/api/v1/notifications?types[]=favourite", headers=alice) as r:
        assert [n["type"] for n in await r.json()] == ["favourite"]
    async with http.post(f"{url}/unfavourite", headers=bob) as r:
        assert (await r.json())["favourites_count"] == 0


async def test_timelines_page_with_link_headers(api):
    a, http, alice, _ = api
    ids = [(await _post(http, a, alice, status=f"post {n} #rounds"))["id"] for n in range(5)]
    async with http.get(f"{a.base}/api/v1/timelines/home?limit=2", headers=alice) as r:
        page = [s["id"] for s in await r.json()]
        links = dict((rel, url) for url, rel in re.findall(r'<([^>]+)>; rel="(\w+)"', r.headers["Link"]))
    assert page == ids[:-3:-1]
    async with http.get(links["next"], headers=alice) as r:
        assert [s["id"] for s in await r.json()] == [ids[2], ids[1]]
    async with http.get(f"{a.base}/api/v1/timelines/home?min_id={ids[1]}&limit=2", headers=alice) as r:
        assert [s["id"] for s in await r.json()] == [ids[3], ids[2]]
    async with http.get(f"{a.base}/api/v1/timelines/public?local=true&limit=10") as r:
        assert len(await r.json()) == 5
    async with http.get(f"{a.base}/api/v1/timelines/tag/Rounds?limit=3") as r:
        assert [s["id"] for s in await r.json()] == ids[:-4:-1]
    # deleted posts are passed over, and the page is still full
    for gone in ids[3:]:
        async with http.delete(f"{a.base}/api/v1/statuses/{gone}", headers=alice) as r:
            assert r.status == 200
    async with http.get(f"{a.base}/api/v1/timelines/home?limit=2", headers=alice) as r:
        assert [s["id"] for s in await r.json()] == [ids[2], ids[1]]


async def test_scopes_tokens_and_errors(api):
    a, http, alice, _ = api
    reader = await token_for(a, "alice", "read", create=False)
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "x"}, headers=reader) as r:
        assert r.status == 403 and "scopes" in (await r.json())["error"]
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "x"}, headers={"Authorization": "Bearer bad"}) as r:
        assert r.status == 401
    # the timelines and notifications check their scope in the same read as the page
    statuses_only = await token_for(a, "alice", "read:statuses", create=False)
    async with http.get(f"{a.base}/api/v1/notifications", headers=statuses_only) as r:
        assert r.status == 403 and "scopes" in (await r.json())["error"]
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=statuses_only) as r:
        assert r.status == 200
    notifications_only = await token_for(a, "alice", "read:notifications", create=False)
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=notifications_only) as r:
        assert r.status == 403 and "scopes" in (await r.json())["error"]
    async with http.get(f"{a.base}/api/v1/notifications", headers=notifications_only) as r:
        assert r.status == 200
    # a bad token is refused before anything else about the request is looked at
    async with http.get(f"{a.base}/api/v1/timelines/home?max_id=x", headers={"Authorization": "Bearer bad"}) as r:
        assert r.status == 401
    async with http.get(f"{a.base}/api/v1/timelines/home?max_id=x", headers=alice) as r:
        assert r.status == 400 and "max_id" in (await r.json())["error"]
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "x"}) as r:
        assert r.status == 401
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "x", "visibility": "secret"}, headers=alice) as r:
        assert r.status == 422
    async with http.post(f"{a.base}/api/v1/statuses/", data={"status": "trailing slash, form body"}, headers=alice) as r:
        assert r.status == 200
        assert r.headers["Access-Control-Allow-Origin"] == "*" and "X-RateLimit-Remaining" in r.headers
    async with http.get(f"{a.base}/api/v1/statuses/999", headers=alice) as r:
        assert r.status == 404 and (await r.json())["error"]


async def test_followers_only_and_direct_visibility(api):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    secret = await _post(http, a, alice, status="for @bob only", visibility="direct")
    async with http.get(f"{a.base}/api/v1/statuses/{secret['id']}", headers=bob) as r:
        assert r.status == 200
    async with http.get(f"{a.base}/api/v1/statuses/{secret['id']}", headers=carol) as r:
        assert r.status == 404
    async with http.get(f"{a.base}/api/v1/timelines/public") as r:
        assert secret["id"] not in [s["id"] for s in await r.json()]


async def test_default_avatar_and_header_are_served(api):
    a, http, alice, _ = api
    async with http.get(f"{a.base}/api/v1/accounts/verify_credentials", headers=alice) as r:
        account = await r.json() if r.status == 200 else None
    urls = [account["avatar"], account["header"]] if account else [f"{a.base}/static/avatar.png"]
    for url in urls:
        async with http.get(url) as r:
            assert r.status == 200 and r.content_type == "image/png"


async def test_an_edit_changes_its_images_description_and_focus(api):
    # Given alice's post with an image described one way (through Mastodon.py)
    a, http, alice, _ = api
    client = Mastodon(access_token=alice["Authorization"].split()[1], api_base_url=a.base)
    image = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(image, "PNG")
    upload = await asyncio.to_thread(client.media_post, io.BytesIO(image.getvalue()), mime_type="image/png",
                                     description="a chart")
    post = await asyncio.to_thread(client.status_post, "Falls per month", media_ids=[upload["id"]])
    # When she edits it to describe the image better, and moves its focal point
    attributes = client.generate_media_edit_attributes(upload["id"], description="Falls fell from 12 to 4",
                                                       focus=(0.5, -0.25))
    edited = await asyncio.to_thread(client.status_update, post["id"], "Falls per month", media_attributes=[attributes])
    # Then the post's image says so, and its history keeps the old description
    [shown] = edited["media_attachments"]
    assert shown["description"] == "Falls fell from 12 to 4"
    assert (shown["meta"]["focus"]["x"], shown["meta"]["focus"]["y"]) == (0.5, -0.25)
    history = await asyncio.to_thread(client.status_history, post["id"])
    assert [version["media_attachments"][0]["description"] for version in history] == [
        "a chart", "Falls fell from 12 to 4"]
    # And the same through a form, as Rails' array of objects: with a second image, the focal
    # point given for it alone is its own, not the first's
    second = await asyncio.to_thread(client.media_post, io.BytesIO(image.getvalue()), mime_type="image/png")
    async with http.put(f"{a.base}/api/v1/statuses/{post['id']}", headers=alice, data=[
            ("status", "Falls per month"), ("media_ids[]", upload["id"]), ("media_ids[]", second["id"]),
            ("media_attributes[][id]", upload["id"]), ("media_attributes[][description]", "A falling line"),
            ("media_attributes[][id]", second["id"]), ("media_attributes[][focus]", "-0.5,0.5")]) as r:
        assert r.status == 200, await r.text()
        first, other = (await r.json())["media_attachments"]
    assert first["description"] == "A falling line" and (first["meta"]["focus"]["x"], first["meta"]["focus"]["y"]) == (0.5, -0.25)
    assert (other["meta"]["focus"]["x"], other["meta"]["focus"]["y"]) == (-0.5, 0.5)
    # But a focal point out of range is refused
    async with http.put(f"{a.base}/api/v1/statuses/{post['id']}", headers=alice, json={
            "status": "x", "media_ids": [upload["id"]], "media_attributes": [{"id": upload["id"], "focus": "3,0"}]}) as r:
        assert r.status == 422
