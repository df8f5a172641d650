"""Boosts through the client API, as Mastodon does them: a boost's id, taken from a timeline,
names the wrapper status whose `reblog` is the post, and every status route and action takes it.
Raw HTTP; Mastodon.py drives the same ids in tests/test_mastodon_py_boosts.py."""

from __future__ import annotations

from federation.outbox import relations
from tests.api_helpers import token_for


async def _post(http, a, headers, **body):
    async with http.post(f"{a.base}/api/v1/statuses", json=body, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def _call(http, method, url, headers, status=200):
    async with http.request(method, url, headers=headers) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def _follow(a, follower: str, followee: str) -> None:
    async with a.fed.transaction() as session:
        await relations.follow(a.fed, session, await a.actor(follower), await a.actor(followee))


async def test_reblog_returns_the_wrapper_and_its_id_works_everywhere(api):
    # Given alice's post, boosted by bob
    a, http, alice, bob = api
    post = await _post(http, a, alice, status="Sepsis bundle, hour one")
    statuses = f"{a.base}/api/v1/statuses"
    wrapper = await _call(http, "POST", f"{statuses}/{post['id']}/reblog", bob)
    # Then the answer is bob's boost, with alice's post inside
    assert wrapper["id"] != post["id"] and wrapper["reblog"]["id"] == post["id"]
    assert wrapper["account"]["username"] == "bob" and wrapper["reblog"]["account"]["username"] == "alice"
    assert wrapper["reblogged"] is True and wrapper["reblog"]["reblogged"] is True
    assert wrapper["reblog"]["reblogs_count"] == 1
    # reblogging again answers the same boost
    assert (await _call(http, "POST", f"{statuses}/{post['id']}/reblog", bob))["id"] == wrapper["id"]

    # When anyone reads the boost's id, it is the wrapper
    shown = await _call(http, "GET", f"{statuses}/{wrapper['id']}", alice)
    assert (shown["id"], shown["reblog"]["id"]) == (wrapper["id"], post["id"])
    async with http.get(f"{statuses}/{wrapper['id']}") as r:  # public post: anonymous too
        assert (await r.json())["reblog"]["id"] == post["id"]

    # Actions on the wrapper apply to the post, and answer with the wrapper
    for action, flag, value in (("favourite", "favourited", True), ("bookmark", "bookmarked", True),
                                ("unfavourite", "favourited", False), ("unbookmark", "bookmarked", False)):
        done = await _call(http, "POST", f"{statuses}/{wrapper['id']}/{action}", alice)
        assert (done["id"], done["reblog"]["id"], done["reblog"][flag]) == (wrapper["id"], post["id"], value), action
        original = await _call(http, "GET", f"{statuses}/{post['id']}", alice)
        assert original[flag] is value, action
    await _call(http, "POST", f"{statuses}/{wrapper['id']}/favourite", alice)
    assert (await _call(http, "GET", f"{statuses}/{post['id']}", bob))["favourites_count"] == 1

    # the context of a boost is its post's thread
    reply = await _post(http, a, bob, status="@alice and hour three?", in_reply_to_id=post["id"])
    context = await _call(http, "GET", f"{statuses}/{wrapper['id']}/context", alice)
    assert [s["id"] for s in context["descendants"]] == [reply["id"]]

    # Alice reblogs through bob's wrapper: her own boost of her post
    own = await _call(http, "POST", f"{statuses}/{wrapper['id']}/reblog", alice)
    assert own["reblog"]["id"] == post["id"] and own["account"]["username"] == "alice"
    assert own["reblog"]["reblogs_count"] == 2
    # unreblog through a wrapper id undoes the caller's boost, and answers with the post
    undone = await _call(http, "POST", f"{statuses}/{wrapper['id']}/unreblog", alice)
    assert (undone["id"], undone["reblog"], undone["reblogged"]) == (post["id"], None, False)
    undone = await _call(http, "POST", f"{statuses}/{post['id']}/unreblog", bob)
    assert (undone["id"], undone["reblogs_count"]) == (post["id"], 0)
    # the undone boost is gone: its id names nothing
    await _call(http, "GET", f"{statuses}/{wrapper['id']}", alice, status=404)
    await _call(http, "POST", f"{statuses}/{wrapper['id']}/favourite", alice, status=404)


async def test_a_boost_is_seen_only_by_who_may_see_its_post(api, instances, http):
    # Given carol's followers-only post, and a boost of a public post
    a, _, alice, bob = api
    carol = await token_for(a, "carol")
    hidden = await _post(http, a, carol, status="ward roster", visibility="private")
    statuses = f"{a.base}/api/v1/statuses"
    await _call(http, "POST", f"{statuses}/{hidden['id']}/reblog", carol, status=422)
    public = await _post(http, a, carol, status="open case")
    wrapper = await _call(http, "POST", f"{statuses}/{public['id']}/reblog", bob)
    # When carol deletes the boosted post, the boost's id is a 404 for everyone
    await _call(http, "DELETE", f"{statuses}/{public['id']}", carol)
    for headers in (alice, bob, carol):
        await _call(http, "GET", f"{statuses}/{wrapper['id']}", headers, status=404)
        await _call(http, "GET", f"{statuses}/{wrapper['id']}/context", headers, status=404)
        await _call(http, "POST", f"{statuses}/{wrapper['id']}/bookmark", headers, status=404)
    # an id that names nothing is a 404, not a 500
    await _call(http, "GET", f"{statuses}/99999999999", alice, status=404)


async def test_own_boost_in_home_at_the_time_of_the_boost(api):
    # Given alice follows bob, who posted twice
    a, http, alice, bob = api
    await _follow(a, "alice", "bob")
    older = await _post(http, a, bob, status="older")
    newer = await _post(http, a, bob, status="newer")
    # When alice boosts the older post
    wrapper = await _call(http, "POST", f"{a.base}/api/v1/statuses/{older['id']}/reblog", alice)
    # Then her home shows her boost on top, at the time of the boost, and the post once below it
    home = await _call(http, "GET", f"{a.base}/api/v1/timelines/home", alice)
    assert [(s["id"], (s["reblog"] or {}).get("id")) for s in home] == [
        (wrapper["id"], older["id"]), (newer["id"], None), (older["id"], None)]
    assert home[0]["created_at"] >= newer["created_at"]
