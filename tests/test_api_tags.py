"""Hashtags through the client API: a tag, following it (its public posts join the follower's
home as they arrive, from here or from a peer, and leave when she stops), and featured tags (the
API, the account's list and the actor's `featuredTags` collection). Raw HTTP and Mastodon.py."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon
from sqlalchemy import select

from federation.outbox import actions, relations
from federation.remote.resolve import resolve_account
from federation.social.tags import MAX_FEATURED_TAGS
from storage.models import FeedEntry
from tests.api_helpers import token_for
from tests.instances import settle


async def _call(http, method: str, url: str, headers=None, status: int = 200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def _status(http, a, headers, text: str, visibility: str = "public") -> dict:
    return await _call(http, "POST", f"{a.base}/api/v1/statuses", headers,
                       json={"status": text, "visibility": visibility})


async def _home_ids(http, a, headers) -> list[str]:
    return [s["id"] for s in await _call(http, "GET", f"{a.base}/api/v1/timelines/home", headers)]


async def test_a_tag_shows_its_history_and_whether_one_follows_it(api):
    # Given alice, who used #Sepsis twice today, and bob once
    a, http, alice, bob = api
    await _status(http, a, alice, "Bundle audit #Sepsis")
    await _status(http, a, alice, "Again #sepsis")
    await _status(http, a, bob, "Me too #SEPSIS")
    await _status(http, a, bob, "Not counted #sepsis", visibility="private")
    # When anyone reads the tag
    tag = await _call(http, "GET", f"{a.base}/api/v1/tags/Sepsis")
    # Then it has a stable id, its lowercase name and link, and seven days of history, today first
    assert tag["name"] == "sepsis" and tag["url"] == f"{a.base}/tags/sepsis"
    assert tag["id"] == (await _call(http, "GET", f"{a.base}/api/v1/tags/sepsis"))["id"]
    assert "following" not in tag  # no one asked
    assert len(tag["history"]) == 7
    assert tag["history"][0]["uses"] == "3" and tag["history"][0]["accounts"] == "2"
    assert all(day["uses"] == "0" for day in tag["history"][1:])
    days = [int(day["day"]) for day in tag["history"]]
    assert days == sorted(days, reverse=True) and days[0] - days[1] == 86400
    # And with a token, whether the caller follows or features it
    assert (await _call(http, "GET", f"{a.base}/api/v1/tags/sepsis", alice))["following"] is False
    # And a name that is not a hashtag is not found, and cannot be followed
    await _call(http, "GET", f"{a.base}/api/v1/tags/no-dashes", status=404)
    refused = await _call(http, "POST", f"{a.base}/api/v1/tags/1234/follow", alice, status=422)
    assert "not a valid hashtag" in refused["error"]


async def test_a_followed_tag_brings_public_posts_into_home_and_an_unfollow_takes_them_out(api):
    # Given bob follows #sepsis, and alice, whom he does not follow, and carol, whom he does
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    tag = await _call(http, "POST", f"{a.base}/api/v1/tags/%23Sepsis/follow", bob)
    assert tag["name"] == "sepsis" and tag["following"] is True
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("bob"), await a.actor("carol"))
    # When alice posts with the tag publicly, unlisted and for her followers, and without it
    public = await _status(http, a, alice, "Lactate at 1h #sepsis")
    unlisted = await _status(http, a, alice, "Quietly #sepsis", visibility="unlisted")
    private = await _status(http, a, alice, "Followers only #sepsis", visibility="private")
    untagged = await _status(http, a, alice, "Nothing tagged")
    by_followee = await _status(http, a, carol, "Carol on #sepsis")
    # Then only the public tagged post joins bob's home (and carol's, whom he follows)
    home = await _home_ids(http, a, bob)
    assert public["id"] in home and by_followee["id"] in home
    assert not {unlisted["id"], private["id"], untagged["id"]} & set(home)
    # And the tag is in his followed tags, paged with a Link header
    async with http.get(f"{a.base}/api/v1/followed_tags", headers=bob) as r:
        followed = await r.json()
        assert r.status == 200 and "Link" in r.headers
    assert [t["name"] for t in followed] == ["sepsis"] and followed[0]["following"] is True
    # When he unfollows the tag
    tag = await _call(http, "POST", f"{a.base}/api/v1/tags/sepsis/unfollow", bob)
    assert tag["following"] is False
    # Then the post the tag alone brought leaves his home; carol's, whom he follows, stays
    home = await _home_ids(http, a, bob)
    assert public["id"] not in home and by_followee["id"] in home
    assert await _call(http, "GET", f"{a.base}/api/v1/followed_tags", bob) == []
    # And a post with another tag he still follows stays after he unfollows one of its tags
    await _call(http, "POST", f"{a.base}/api/v1/tags/icu/follow", bob)
    await _call(http, "POST", f"{a.base}/api/v1/tags/sepsis/follow", bob)
    both = await _status(http, a, alice, "#sepsis in the #ICU")
    await _call(http, "POST", f"{a.base}/api/v1/tags/sepsis/unfollow", bob)
    assert both["id"] in await _home_ids(http, a, bob)


async def test_a_followed_tag_skips_authors_who_block_the_follower(api):
    # Given bob follows #sepsis, and alice blocks him
    a, http, alice, bob = api
    await _call(http, "POST", f"{a.base}/api/v1/tags/sepsis/follow", bob)
    bob_id = (await a.actor("bob")).id
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{bob_id}/block", alice)
    # When alice posts with the tag
    post = await _status(http, a, alice, "Not for bob #sepsis")
    # Then no home-feed row is written for bob
    async with a.db.sessions() as session:
        rows = list(await session.scalars(select(FeedEntry.owner_id).where(FeedEntry.item_id == int(post["id"]))))
    assert bob_id not in rows


async def test_a_followed_tag_brings_a_peers_posts_into_home(instances):
    # Given alice on A, followed by carol on B (so A delivers her posts to B), and bob on B, who
    # follows #sepsis through Mastodon.py but not alice
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    await b.add_user("carol")
    bob = Mastodon(access_token=(await token_for(b, "bob"))["Authorization"].split()[1], api_base_url=b.base)
    remote = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.db.sessions.begin() as session:
        await relations.follow(b.fed, session, await b.actor("carol"), remote)
    await settle(a, b)
    followed = await asyncio.to_thread(bob.tag_follow, "Sepsis")
    assert followed["following"] is True
    assert [t["name"] for t in await asyncio.to_thread(bob.followed_tags)] == ["sepsis"]
    # When alice posts publicly with the tag, and without it
    for text in ("<p>Early antibiotics #sepsis</p>", "<p>Unrelated</p>"):
        async with a.db.sessions.begin() as session:
            await actions.post(a.fed, session, await a.actor("alice"), content=text, tags=["sepsis"] if "#" in text else [])
    await settle(a, b)
    # Then bob's home on B shows the tagged post only
    home = await asyncio.to_thread(bob.timeline_home)
    assert [s["content"] for s in home] == ["<p>Early antibiotics #sepsis</p>"]
    assert home[0]["account"]["acct"] == f"alice@{a.urls.authority}"
    # And the tag, read through Mastodon.py, counts the peer's post in its history
    tag = await asyncio.to_thread(bob.tag, "sepsis")
    assert tag["following"] is True and tag["history"][0]["uses"] == "1"
    unfollowed = await asyncio.to_thread(bob.tag_unfollow, "sepsis")
    assert unfollowed["following"] is False
    assert await asyncio.to_thread(bob.timeline_home) == []


async def test_featured_tags_are_listed_counted_suggested_and_published(api):
    # Given alice, who used #sepsis twice and #icu once
    a, http, alice, bob = api
    await _status(http, a, alice, "One #sepsis")
    await _status(http, a, alice, "Two #sepsis")
    await _status(http, a, alice, "Then #icu")
    alice_id = (await a.actor("alice")).id
    client = Mastodon(access_token=alice["Authorization"].split()[1], api_base_url=a.base)
    # When she looks for suggestions, the most used first
    suggested = await asyncio.to_thread(client.featured_tag_suggestions)
    assert [t["name"] for t in suggested] == ["sepsis", "icu"]
    # And features #Sepsis (Mastodon.py posts the form)
    featured = await asyncio.to_thread(client.featured_tag_create, "#Sepsis")
    # Then it is counted, and leaves the suggestions
    assert featured["name"] == "sepsis" and featured["statuses_count"] == "2"
    assert featured["last_status_at"] is not None
    assert [t["name"] for t in await asyncio.to_thread(client.featured_tag_suggestions)] == ["icu"]
    assert [t["name"] for t in await asyncio.to_thread(client.featured_tags)] == ["sepsis"]
    # And anyone sees it on her account, without a token
    listed = await _call(http, "GET", f"{a.base}/api/v1/accounts/{alice_id}/featured_tags")
    assert [(t["id"], t["name"], t["statuses_count"]) for t in listed] == [(str(featured["id"]), "sepsis", "2")]
    # And it is in her actor's featuredTags collection, as Mastodon publishes it
    async with http.get(f"{a.base}/users/alice", headers={"Accept": "application/activity+json"}) as r:
        actor = await r.json(content_type=None)
    assert actor["featuredTags"] == f"{a.base}/users/alice/collections/tags"
    async with http.get(actor["featuredTags"], headers={"Accept": "application/activity+json"}) as r:
        collection = await r.json(content_type=None)
    assert collection["type"] == "Collection" and collection["totalItems"] == 1
    assert collection["items"] == [{"type": "Hashtag", "href": f"{a.base}/tags/sepsis", "name": "#sepsis"}]
    # And the Tag says she features it
    assert (await _call(http, "GET", f"{a.base}/api/v1/tags/sepsis", alice))["featuring"] is True
    # When she deletes it, it is gone; deleting again, or bob deleting hers, is a 404
    await _call(http, "DELETE", f"{a.base}/api/v1/featured_tags/{featured['id']}", bob, status=404)
    await asyncio.to_thread(client.featured_tag_delete, featured["id"])
    await _call(http, "DELETE", f"{a.base}/api/v1/featured_tags/{featured['id']}", alice, status=404)
    assert await _call(http, "GET", f"{a.base}/api/v1/accounts/{alice_id}/featured_tags") == []


async def test_featured_tags_are_limited_and_validated(api):
    # Given alice featuring as many tags as allowed (through /tags/:name/feature and the list)
    a, http, alice, _ = api
    for n in range(MAX_FEATURED_TAGS - 1):
        await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, data={"name": f"tag{n}"})
    tag = await _call(http, "POST", f"{a.base}/api/v1/tags/last/feature", alice)
    assert tag["featuring"] is True
    # When she features one more, Then it is refused and nothing is written
    refused = await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, status=422, data={"name": "extra"})
    assert f"at most {MAX_FEATURED_TAGS}" in refused["error"]
    assert len(await _call(http, "GET", f"{a.base}/api/v1/featured_tags", alice)) == MAX_FEATURED_TAGS
    # But featuring one she features already is no new one
    again = await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, data={"name": "TAG0"})
    assert again["name"] == "tag0"
    # And a name that is no hashtag, or none, is refused
    await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, status=422, data={"name": "a b"})
    await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, status=422, data={})
    # And unfeaturing by name frees a place
    tag = await _call(http, "POST", f"{a.base}/api/v1/tags/last/unfeature", alice)
    assert tag["featuring"] is False
    await _call(http, "POST", f"{a.base}/api/v1/featured_tags", alice, data={"name": "extra"})
    # And an app's token without a user, or without the scope, is refused
    read_only = await token_for(a, "alice", "read", create=False)
    await _call(http, "POST", f"{a.base}/api/v1/featured_tags", read_only, status=403, data={"name": "x"})
    await _call(http, "GET", f"{a.base}/api/v1/featured_tags", status=401)
