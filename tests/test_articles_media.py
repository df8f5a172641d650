"""An article's attachments between two real instances (issue 16 A.1): uploads made through
POST /api/v2/media, chosen by `media_ids[]`, kept by a draft, carried by the published article's
post (its Article's `attachment` on B, its status's `media_attachments`), replaced by a revision;
someone else's upload is refused and nothing is written, and so is publishing a draft whose
upload went to another post meanwhile."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image
from sqlalchemy import func, select

from storage.models import Article, Media, Object
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote
from tests.instances import settle
from tests.web_helpers import browser_like, sign_in

ARTICLES = "/api/rounds/v1/articles"


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


async def _upload(http, instance, headers: dict, colour: tuple[int, int, int], description: str) -> dict:
    form = aiohttp.FormData({"description": description})
    form.add_field("file", _png(colour), filename="chart.png", content_type="image/png")
    async with http.post(f"{instance.base}/api/v2/media", data=form, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


async def _call(http, method: str, url: str, headers: dict, data: dict | None = None) -> tuple[int, dict]:
    async with http.request(method, url, headers=headers, json=data) as response:
        return response.status, await response.json()


async def _page(instance, username: str, path: str) -> str:
    """A page's HTML, as the signed-in practitioner's browser gets it."""
    async with browser_like() as browser:
        await sign_in(browser, instance.base, username)
        async with browser.get(instance.base + path) as response:
            assert response.status == 200, path
            return await response.text()


async def _remote_post(instance, uri: str) -> Object | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Object).where(Object.uri == uri))


async def test_an_article_with_an_image_published_on_a_arrives_on_b_with_it(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")
    bob = await token_for(b, "bob")
    await follow_remote(b, "bob", f"@alice@{a.urls.authority}")
    await settle(a, b)

    # Given alice's draft article with a chart she uploaded
    chart = await _upload(http, a, alice, (200, 30, 30), "qSOFA chart")
    status, draft = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Sepsis screening", "summary": "Who to screen.", "body": "Use **qSOFA**.",
        "media_ids": [chart["id"]]})
    assert status == 200, draft
    # Then the draft keeps it (shown as the client API shows an upload), attached to no post yet
    assert [m["id"] for m in draft["media_attachments"]] == [chart["id"]]
    assert draft["media_attachments"][0]["description"] == "qSOFA chart"
    async with a.db.sessions() as session:
        assert (await session.get(Media, int(chart["id"]))).object_id is None

    # When she publishes it
    one = f"{a.base}{ARTICLES}/{draft['id']}"
    status, published = await _call(http, "POST", f"{one}/submit", alice)
    assert status == 200 and published["state"] == "published", published
    await settle(a, b)
    # Then its status carries the chart, and so does the article's entity
    assert [m["url"] for m in published["status"]["media_attachments"]] == [chart["url"]]
    assert [m["url"] for m in published["media_attachments"]] == [chart["url"]]
    # And its federated Article has the attachment
    async with http.get(published["uri"], headers={"Accept": "application/activity+json"}) as r:
        document = await r.json(content_type=None)
    assert document["type"] == "Article"
    assert [(x["url"], x["name"]) for x in document["attachment"]] == [(chart["url"], "qSOFA chart")]
    # And B stored it with its post, and B's client API shows it on the status
    stored = await _remote_post(b, published["uri"])
    assert stored is not None and [x["url"] for x in stored.attachments or []] == [chart["url"]]
    status, listed = await _call(http, "GET", b.base + ARTICLES, bob)
    assert status == 200 and [x["uri"] for x in listed] == [published["uri"]]
    assert [m["url"] for m in listed[0]["status"]["media_attachments"]] == [chart["url"]]
    assert [m["description"] for m in listed[0]["media_attachments"]] == ["qSOFA chart"]
    async with http.get(f"{b.base}/api/v1/statuses/{stored.id}", headers=bob) as r:
        assert r.status == 200
        assert [m["url"] for m in (await r.json())["media_attachments"]] == [chart["url"]]
    # And the article's page shows it: the image on A, with its description as its text; on B a
    # link to it (pages load nothing from another host)
    assert f'<img src="{chart["preview_url"]}" alt="qSOFA chart"' in await _page(a, "alice", f"/articles/{published['id']}")
    on_b = await _page(b, "bob", f"/articles/{listed[0]['id']}")
    assert f'<a href="{chart["url"]}" rel="noopener noreferrer">Image on another server</a>: qSOFA chart' in on_b

    # When she revises it with a new chart instead, Then the new version's attachment replaces
    # the old one, on A and on B
    newer = await _upload(http, a, alice, (30, 30, 200), "qSOFA chart, 2025")
    status, revised = await _call(http, "PUT", one, alice, {
        "title": "Sepsis screening", "summary": "Who to screen.", "body": "Use **qSOFA** and lactate.",
        "media_ids": [newer["id"]], "change_note": "new chart"})
    assert status == 200 and revised["version"] == 2, revised
    assert [m["url"] for m in revised["media_attachments"]] == [newer["url"]]
    await settle(a, b)
    stored = await _remote_post(b, published["uri"])
    assert [x["url"] for x in stored.attachments or []] == [newer["url"]]
    # And an edit that names no media keeps the ones it has (the pages' form sends none)
    status, kept = await _call(http, "PUT", one, alice, {"title": "Sepsis screening", "body": "Same chart."})
    assert status == 200 and [m["url"] for m in kept["media_attachments"]] == [newer["url"]]


async def test_someone_elses_upload_is_refused_and_nothing_is_written(instances, http):
    a = await instances.start("a")
    alice = await token_for(a, "alice")
    carol = await token_for(a, "carol")
    theirs = await _upload(http, a, carol, (10, 200, 10), "carol's photo")
    mine = await _upload(http, a, alice, (10, 10, 10), "alice's photo")

    # When alice names carol's upload in a new article, Then it is refused and no article exists
    status, answer = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Wound care", "body": "Clean first.", "media_ids": [theirs["id"]]})
    assert status == 422 and f"media {theirs['id']}" in answer["error"], answer
    # And five uploads are too many, as for a status
    status, answer = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Wound care", "body": "Clean first.", "media_ids": [mine["id"]] * 5})
    assert status == 422 and "at most 4" in answer["error"]
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Article)) == 0
        assert await session.scalar(select(func.count()).select_from(Object)) == 0
        assert (await session.get(Media, int(theirs["id"]))).object_id is None

    # When alice's own draft is edited to name carol's upload, Then it is refused and the draft
    # keeps what it had
    status, draft = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Wound care", "body": "Clean first.", "media_ids": [mine["id"]]})
    assert status == 200, draft
    status, answer = await _call(http, "PUT", f"{a.base}{ARTICLES}/{draft['id']}", alice, {
        "title": "Wound care, again", "body": "Clean first.", "media_ids": [theirs["id"]]})
    assert status == 422, answer
    status, unchanged = await _call(http, "GET", f"{a.base}{ARTICLES}/{draft['id']}", alice)
    assert unchanged["title"] == "Wound care" and [m["id"] for m in unchanged["media_attachments"]] == [mine["id"]]

    # When her draft's upload is then attached to a status of hers, Then the draft cannot be
    # published with it (an upload belongs to one post), and it stays a draft with no post
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "photo", "media_ids": [mine["id"]]},
                         headers=alice) as r:
        assert r.status == 200, await r.text()
    status, answer = await _call(http, "POST", f"{a.base}{ARTICLES}/{draft['id']}/submit", alice)
    assert status == 422 and f"media {mine['id']}" in answer["error"], answer
    status, still = await _call(http, "GET", f"{a.base}{ARTICLES}/{draft['id']}", alice)
    assert still["state"] == "draft" and still["status"] is None
    async with a.db.sessions() as session:
        assert await session.scalar(select(func.count()).select_from(Object).where(Object.type == "Article")) == 0
