"""Collections page newest first with correct first/next/prev/partOf links."""

from __future__ import annotations

import pytest

from tests.factories import add_followers, add_public_notes

AP = {"Accept": "application/activity+json"}


async def _get(http, url, status=200):
    async with http.get(url, headers=AP) as response:
        assert response.status == status, await response.text()
        return await response.json(content_type=None)


async def _walk(http, url, link):
    pages = []
    while url:
        page = await _get(http, url)
        pages.append(page)
        url = page.get(link)
    return pages


@pytest.mark.parametrize("collection", ["followers", "outbox"])
async def test_45_items_page_20_20_5_newest_first_and_back(instances, http, collection):
    # Given an actor with 45 followers / 45 public posts and a page size of 20
    a = await instances.start(federation={"collection_page_size": 20})
    _, alice = await a.add_user("alice")
    async with a.db.sessions.begin() as session:
        fill = add_followers if collection == "followers" else add_public_notes
        expected = await fill(session, alice, 45)
    expected.reverse()  # newest first
    collection_id = f"{a.base}/users/alice/{collection}"

    # When we fetch the collection and walk its pages forward
    root = await _get(http, collection_id)
    pages = await _walk(http, root["first"], "next")

    # Then the root counts everything and the pages split 20/20/5, newest first, no gaps
    assert root["type"] == "OrderedCollection" and root["totalItems"] == 45
    assert root["first"] == f"{collection_id}?page=true"
    assert [len(p["orderedItems"]) for p in pages] == [20, 20, 5]
    items = [item if isinstance(item, str) else item["id"] for p in pages for item in p["orderedItems"]]
    assert items == expected
    for page in pages:
        assert page["type"] == "OrderedCollectionPage"
        assert page["partOf"] == collection_id and page["totalItems"] == 45
    assert "prev" not in pages[0] and "next" not in pages[-1]

    # And walking back with prev from the last page visits the same pages in reverse
    back = await _walk(http, pages[-1]["prev"], "prev")
    assert [p["orderedItems"] for p in back] == [p["orderedItems"] for p in pages[1::-1]]


async def test_empty_collection_has_no_links(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    for collection in ("followers", "following", "outbox"):
        url = f"{a.base}/users/alice/{collection}"
        root = await _get(http, url)
        assert root["totalItems"] == 0
        page = await _get(http, root["first"])
        assert page["orderedItems"] == [] and "next" not in page and "prev" not in page
    featured = await _get(http, f"{a.base}/users/alice/collections/featured")
    assert featured == {**featured, "type": "OrderedCollection", "totalItems": 0, "orderedItems": []}


async def test_exactly_one_full_page_has_no_next(instances, http):
    a = await instances.start(federation={"collection_page_size": 5})
    _, alice = await a.add_user("alice")
    async with a.db.sessions.begin() as session:
        await add_followers(session, alice, 5)
    page = await _get(http, f"{a.base}/users/alice/followers?page=true")
    assert len(page["orderedItems"]) == 5 and "next" not in page and "prev" not in page


async def test_bad_cursor_is_400_and_unknown_actor_is_404(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    body = await _get(http, f"{a.base}/users/alice/outbox?page=true&max_id=abc", 400)
    assert "max_id" in body["error"]
    await _get(http, f"{a.base}/users/nobody/outbox", 404)


async def test_every_collection_an_actor_links_to_is_served(instances, http):
    a = await instances.start()
    await a.add_user("alice")
    for actor_url in (f"{a.base}/users/alice", f"{a.base}/actor"):
        actor = await _get(http, actor_url)
        for key in ("outbox", "followers", "following", "featured"):
            collection = await _get(http, actor[key])
            assert collection["id"] == actor[key] and collection["totalItems"] == 0


async def test_cursor_edges(instances, http):
    a = await instances.start(federation={"collection_page_size": 5})
    _, alice = await a.add_user("alice")
    async with a.db.sessions.begin() as session:
        await add_followers(session, alice, 3)
    url = f"{a.base}/users/alice/followers"
    # an out-of-range cursor is a 400, not a crash
    await _get(http, f"{url}?page=true&max_id={1 << 63}", 400)
    # an empty page past the oldest item leads back to the items; so does one beyond the newest
    past_end = await _get(http, f"{url}?page=true&max_id=1")
    assert past_end["orderedItems"] == [] and "next" not in past_end
    assert len((await _get(http, past_end["prev"]))["orderedItems"]) == 3
    huge = (1 << 63) - 1
    beyond = await _get(http, f"{url}?page=true&min_id={huge - 1}")
    assert beyond["orderedItems"] == [] and "prev" not in beyond
    back = await _get(http, beyond["next"])
    assert len(back["orderedItems"]) == 3
