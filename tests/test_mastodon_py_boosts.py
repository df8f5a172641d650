"""Mastodon.py, the real client library, on boosts and on what apps call on start: a boost's id
works wherever a status's does, and announcements, custom emojis, familiar followers, rules,
the extended description, preferences and markers read as the library expects.

Mastodon.py is synchronous (requests), and the server runs in this test's event loop, so every
client call runs in a thread (`asyncio.to_thread`)."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from federation.outbox import relations
from tests.api_helpers import mastodon_client, token_for

PASSWORD = "a long enough password"


async def _client(a, username: str) -> Mastodon:
    return await mastodon_client(a, username, PASSWORD, app_name="Rounds boosts test")


async def test_boosts_through_mastodon_py(instances):
    a = await instances.start()
    alice, bob = await _client(a, "alice"), await _client(a, "bob")
    call = asyncio.to_thread
    # Given alice's post, made through her app
    post = await call(alice.status_post, "Checklist for central lines")
    assert post["application"]["name"] == "Rounds boosts test"
    # When bob reblogs it, the answer is his boost wrapping it
    wrapper = await call(bob.status_reblog, post)
    assert wrapper["reblog"]["id"] == post["id"] and wrapper["account"]["acct"] == "bob"
    # Then the wrapper, as a timeline gives it, works wherever a status does
    [first, *_] = await call(bob.timeline_home)
    assert first["id"] == wrapper["id"] and first["reblog"]["id"] == post["id"]
    assert (await call(alice.status, first))["reblog"]["id"] == post["id"]
    favourited = await call(alice.status_favourite, first)
    assert favourited["id"] == wrapper["id"] and favourited["reblog"]["favourited"] is True
    assert (await call(alice.status_bookmark, first))["reblog"]["bookmarked"] is True
    assert [s["id"] for s in await call(alice.bookmarks)] == [post["id"]]
    reply = await call(bob.status_post, "and the dressing change?", in_reply_to_id=post)
    assert [s["id"] for s in (await call(alice.status_context, first))["descendants"]] == [reply["id"]]
    assert (await call(alice.status_unfavourite, first))["reblog"]["favourited"] is False
    # And unreblog answers with the post, no longer reblogged
    undone = await call(bob.status_unreblog, first)
    assert undone["id"] == post["id"] and undone["reblogged"] is False


async def test_what_apps_call_on_start_through_mastodon_py(instances):
    a = await instances.start()
    alice = await _client(a, "alice")
    call = asyncio.to_thread
    root = await token_for(a, "root", "read write admin:read admin:write", admin=True)
    # an announcement and no custom emojis yet
    async with __import__("aiohttp").ClientSession() as http:
        async with http.post(f"{a.base}/api/rounds/v1/admin/announcements", headers=root,
                             json={"text": "New sepsis protocol live"}) as r:
            assert r.status == 200
    [announcement] = await call(alice.announcements)
    assert "sepsis" in announcement["content"] and announcement["read"] is False
    await call(alice.announcement_reaction_create, announcement, "👍")
    [announcement] = await call(alice.announcements)
    assert [(r["name"], r["count"], r["me"]) for r in announcement["reactions"]] == [("👍", 1, True)]
    await call(alice.announcement_reaction_delete, announcement, "👍")
    await call(alice.announcement_dismiss, announcement)
    assert await call(alice.announcements) == []
    assert await call(alice.custom_emojis) == []
    # familiar followers: bob follows carol, alice follows bob
    for name in ("bob", "carol"):
        await a.add_user(name)
    async with a.fed.transaction() as session:
        await relations.follow(a.fed, session, await a.actor("alice"), await a.actor("bob"))
        await relations.follow(a.fed, session, await a.actor("bob"), await a.actor("carol"))
    carol = await call(alice.account_lookup, "carol")
    [familiar] = await call(alice.account_familiar_followers, carol)
    assert [account["acct"] for account in familiar["accounts"]] == ["bob"]
    # the instance's rules and description, the preferences and the read markers
    assert isinstance(await call(alice.instance_rules), list)
    assert "content" in await call(alice.instance_extended_description)
    assert (await call(alice.preferences))["posting:default:visibility"] == "public"
    post = await call(alice.status_post, "marker here")
    await call(alice.markers_set, "home", post)
    assert (await call(alice.markers_get, "home"))["home"]["last_read_id"] == post["id"]
    me = await call(alice.account_verify_credentials)
    assert me["role"]["id"] == "-99" and "indexable" in me["source"]
