"""Full-text search (GET /api/v2/search, type=statuses) on real instances: the index follows
local and remote posts through edits and deletions, words and phrases are ranked, Mastodon's
operators filter, paging pages, and nothing the viewer may not see is ever found. Through
Mastodon.py and raw HTTP."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone
from urllib.parse import quote

from federation.outbox import actions, relations
from federation.peers import decisions
from federation.social import polls
from federation.remote.resolve import resolve_account
from storage.models import Object, PeerState, Visibility
from storage.posts import post_by_uri
from storage.search import PostSearch, search_posts
from tests.api_helpers import mastodon_client, token_for
from tests.community_helpers import make_community
from tests.instances import Instance, settle


async def _post(instance: Instance, username: str, html: str, **options) -> Object:
    async with instance.db.sessions.begin() as session:
        return await actions.post(instance.fed, session, await instance.actor(username), content=html, **options)


async def _follow(follower_on: Instance, follower: str, acct: str) -> None:
    remote = await resolve_account(follower_on.fed, acct)
    async with follower_on.db.sessions.begin() as session:
        await relations.follow(follower_on.fed, session, await follower_on.actor(follower), remote)


async def _copy_id(instance: Instance, uri: str) -> int:
    async with instance.db.sessions() as session:
        return (await post_by_uri(session, uri)).id


async def _ids(http, url: str, headers, status: int = 200) -> list[str]:
    async with http.get(url, headers=headers) as r:
        assert r.status == status, await r.text()
        body = await r.json()
    return [s["id"] for s in body["statuses"]] if status == 200 else body["error"]


async def test_remote_posts_are_found_and_follow_edits_and_deletions(instances):
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    bob = await mastodon_client(b, "bob")
    call = asyncio.to_thread
    # Given bob@B follows alice@A, who posts about a checklist, with accents in French
    await _follow(b, "bob", f"alice@{a.urls.authority}")
    await settle(a, b)
    post = await _post(a, "alice", "<p>Nouvelle <b>check-list</b> de p&eacute;diatrie &amp; n&eacute;onatalogie</p>")
    await settle(a, b)
    # When bob searches B for a word of its body, with or without accents, or a phrase
    for q in ("pédiatrie", "PEDIATRIE", "neonatalogie", '"check-list de pédiatrie"'):
        found = await call(bob.search_v2, q, result_type="statuses")
        # Then he finds B's copy of A's post
        assert [s["uri"] for s in found["statuses"]] == [post.uri], q
    # And markup and entities are not words
    assert (await call(bob.search_v2, "amp", result_type="statuses"))["statuses"] == []
    assert (await call(bob.search_v2, "nouvelle de", result_type="statuses"))["statuses"] != []
    assert (await call(bob.search_v2, '"nouvelle de"', result_type="statuses"))["statuses"] == []

    # When alice edits it, Then B's index holds the new words and not the old ones
    async with a.db.sessions.begin() as session:
        await actions.edit(a.fed, session, await a.actor("alice"), await session.get(Object, post.id),
                           content="<p>Protocole de cardiologie</p>")
    await settle(a, b)
    assert (await call(bob.search_v2, "pédiatrie", result_type="statuses"))["statuses"] == []
    assert len((await call(bob.search_v2, "cardiologie", result_type="statuses"))["statuses"]) == 1

    # When she deletes it, Then B finds it no more
    async with a.db.sessions.begin() as session:
        await actions.delete(a.fed, session, await a.actor("alice"), await session.get(Object, post.id))
    await settle(a, b)
    assert (await call(bob.search_v2, "cardiologie", result_type="statuses"))["statuses"] == []


async def test_operators_ranking_and_paging(instances, http):
    a = await instances.start("a")
    alice = await token_for(a, "alice")
    await token_for(a, "bob")
    url = f"{a.base}/api/v2/search?type=statuses&q="
    # Given posts by alice and bob on several days
    a.clock._now = datetime(2026, 3, 1, 12, tzinfo=timezone.utc)
    early = await _post(a, "bob", "<p>sepsis bundle audit</p>", tags=["sepsis"])
    a.clock.advance(days=2)  # 3 March
    warned = await _post(a, "alice", "<p>the numbers</p>", summary="sepsis")
    a.clock.advance(days=2)  # 5 March
    plain = await _post(a, "alice", "<p>a note on sepsis among other things of the ward</p>")
    poll = polls.new_poll(["one", "two"], 3600, multiple=False, hide_totals=False)
    image = {"type": "Document", "mediaType": "image/png", "url": "https://x.example/a.png"}
    polled = await _post(a, "alice", "<p>sepsis: which bundle?</p>", poll=poll, attachments=[image])
    # Then the content warning's word ranks first, then by relevance and newest
    ranked = await _ids(http, url + "sepsis", alice)
    assert set(ranked) == {str(p.id) for p in (early, warned, plain, polled)} and ranked[0] == str(warned.id)
    # And each operator narrows
    assert await _ids(http, url + quote(f"sepsis from:bob@{a.urls.authority}"), alice) == [str(early.id)]
    assert await _ids(http, url + quote("sepsis from:bob"), alice) == [str(early.id)]
    assert set(await _ids(http, url + quote("from:me"), alice)) == {str(warned.id), str(plain.id), str(polled.id)}
    assert await _ids(http, url + quote("from:nobody@nowhere.example"), alice) == []
    assert await _ids(http, url + quote("sepsis #sepsis"), alice) == [str(early.id)]
    assert await _ids(http, url + quote("#sepsis"), alice) == [str(early.id)]
    assert await _ids(http, url + quote("sepsis before:2026-03-02"), alice) == [str(early.id)]
    assert await _ids(http, url + quote("sepsis during:2026-03-03"), alice) == [str(warned.id)]
    assert set(await _ids(http, url + quote("sepsis after:2026-03-03"), alice)) == {str(plain.id), str(polled.id)}
    assert await _ids(http, url + quote('"sepsis bundle"'), alice) == [str(early.id)]
    assert len(await _ids(http, url + quote(f"sepsis domain:{a.urls.authority}"), alice)) == 4
    assert await _ids(http, url + quote("sepsis domain:other.example"), alice) == []
    assert await _ids(http, url + quote("sepsis has:media"), alice) == [str(polled.id)]
    assert await _ids(http, url + quote("sepsis has:poll"), alice) == [str(polled.id)]
    assert await _ids(http, url + quote("sepsis is:article"), alice) == []
    async with a.db.sessions.begin() as session:  # as a peer's Article is stored
        (await session.get(Object, plain.id)).type = "Article"
    assert await _ids(http, url + quote("sepsis is:article"), alice) == [str(plain.id)]
    assert await _ids(http, url + quote("sepsis community:icu"), alice) == []  # no such community
    # And limit and offset page the ranked results
    pages = [await _ids(http, url + f"sepsis&limit=2&offset={offset}", alice) for offset in (0, 2, 4)]
    assert pages[0] + pages[1] == ranked and pages[2] == []
    # And a bad operator value is a 400 that says which
    assert "has:" in await _ids(http, url + quote("sepsis has:link"), alice, status=400)
    assert "before:" in await _ids(http, url + quote("before:yesterday"), alice, status=400)
    assert "is:" in await _ids(http, url + quote("is:reply"), alice, status=400)
    # And punctuation alone finds nothing, quietly
    assert await _ids(http, url + quote('- "" !'), alice) == []


async def test_search_never_finds_what_the_viewer_may_not_see(instances, http):
    a, b = await instances.start("a"), await instances.start("b")
    viewer = await mastodon_client(a, "viewer")
    carol = await token_for(a, "carol")
    await a.add_user("alice")
    await b.add_user("remy")
    await b.add_user("rita")
    call = asyncio.to_thread
    # Given viewer follows alice; alice posts publicly, followers-only, and institution-only;
    # remy and rita on B post, B is limited on A, and viewer follows rita only
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("viewer"), await a.actor("alice"))
    await _follow(a, "viewer", f"rita@{b.urls.authority}")
    await _follow(a, "carol", f"remy@{b.urls.authority}")
    await settle(a, b)
    public = await _post(a, "alice", "<p>tracheostomy care public</p>")
    private = await _post(a, "alice", "<p>tracheostomy care followers</p>", visibility=Visibility.private)
    internal = await _post(a, "alice", "<p>tracheostomy care internal</p>", local_only=True)
    direct = await _post(a, "alice", "<p>tracheostomy care direct</p>", visibility=Visibility.direct)
    remy = await _post(b, "remy", "<p>tracheostomy care from remy</p>")
    rita = await _post(b, "rita", "<p>tracheostomy care from rita</p>")
    await settle(a, b)
    async with a.db.sessions.begin() as session:
        await decisions.decide(session, b.urls.authority, PeerState.limited, by="test", at=a.clock.now())

    def uris(found) -> set[str]:
        return {s["uri"] for s in found["statuses"]}

    # Then viewer finds the public, followers-only and institution-only posts, and rita's (followed),
    # not the direct post nor remy's (a limited peer's author viewer does not follow)
    found = await call(viewer.search_v2, "tracheostomy", result_type="statuses")
    assert uris(found) == {public.uri, private.uri, internal.uri, rita.uri}
    assert next(s for s in found["statuses"] if s["uri"] == internal.uri)["local_only"] is True
    # And carol, who follows remy and nobody on A, finds remy's post, neither the followers-only
    # post nor rita's
    assert set(await _ids(http, f"{a.base}/api/v2/search?type=statuses&q=tracheostomy", carol)) == {
        str(public.id), str(internal.id), str(await _copy_id(a, remy.uri))}
    # When viewer blocks alice, Then alice's posts are gone from her search
    await call(viewer.account_block, (await call(viewer.account_lookup, "alice"))["id"])
    assert uris(await call(viewer.search_v2, "tracheostomy", result_type="statuses")) == {rita.uri}
    # And an anonymous search (the rule's SQL, which the API keeps to signed-in users) finds
    # the public post only: never the institution-only one
    async with a.db.sessions() as session:
        anonymous = await search_posts(session, PostSearch(words=("tracheostomy",)), None, limit=20, offset=0)
    assert {p.uri for p in anonymous} == {public.uri}
    assert direct.uri not in uris(found) and remy.uri not in uris(found)


async def test_matches_the_viewer_may_not_see_leave_no_hole_in_the_pages(instances, http):
    a = await instances.start("a")
    viewer = await token_for(a, "viewer")
    await a.add_user("alice")
    # Given five public posts about bronchiolitis, the first with the word in its content
    # warning (it ranks first), then, newer, four the viewer may not see that rank as high:
    # direct posts to nobody and followers-only ones (the viewer does not follow alice)
    best = await _post(a, "alice", "<p>bronchiolitis protocol one</p>", summary="bronchiolitis")
    plain = [await _post(a, "alice", f"<p>bronchiolitis protocol {n}</p>") for n in ("two", "three", "four", "five")]
    hidden = [await _post(a, "alice", "<p>bronchiolitis protocol hidden</p>", summary="bronchiolitis",
                          visibility=visibility) for visibility in (Visibility.direct, Visibility.private) * 2]
    newest_first = [p.id for p in reversed(plain)]
    url = f"{a.base}/api/v2/search?type=statuses&q=bronchiolitis"

    async def pages(limit: int, ranked: int | None = None) -> list[int]:
        """Every page of `limit` posts, through the API or (with `ranked`) search_posts itself,
        until an empty one; each one full but the last."""
        found: list[int] = []
        while True:
            if ranked is None:
                page = [int(i) for i in await _ids(http, f"{url}&limit={limit}&offset={len(found)}", viewer)]
            else:
                async with a.db.sessions() as session:
                    page = [p.id for p in await search_posts(session, PostSearch(words=("bronchiolitis",)),
                                                             (await a.actor("viewer")).id, limit=limit,
                                                             offset=len(found), ranked=ranked)]
            if not page:
                return found
            assert len(page) == limit or len(page) == 5 - len(found), (limit, ranked, found, page)
            found += page
            assert len(set(found)) == len(found) <= 5, (limit, ranked, found)  # none twice

    # When the viewer searches, Then the visible posts fill the pages, the best first, then newest
    for limit in (1, 2, 3, 5, 40):
        assert await pages(limit) == [best.id, *newest_first], limit
    # And when fewer matches are ranked than there are (search ranks the newest ones only), the
    # hidden ones take the ranked places and the visible ones still all come, once each: those
    # ranked first, then the older ones, newest first; for every page size
    for ranked, expected in ((3, [*newest_first, best.id]),  # the ranked ones all hidden
                             (6, [*newest_first, best.id]),  # two visible among them, ranked alike
                             (9, [best.id, *newest_first])):  # every match ranked
        for limit in (1, 2, 3, 4, 5, 20):
            assert await pages(limit, ranked) == expected, (ranked, limit)
    assert not {p.id for p in hidden} & set(await pages(20))


async def test_community_operator_finds_what_the_community_announced(instances, http):
    a = await instances.start("a")
    alice, bob = await token_for(a, "alice"), await token_for(a, "bob")
    _, icu = await make_community(a, "icu", moderators=("alice",))
    async with a.db.sessions.begin() as session:
        await relations.follow(a.fed, session, await a.actor("bob"), icu)
    # Given bob's post to the community, a reply to it there, and a post of his elsewhere
    url = f"{a.base}/api/v2/search?type=statuses&q="
    async with http.post(f"{a.base}/api/v1/statuses", headers=bob, json={"status": "@icu sepsis bundle audit"}) as r:
        thread = await r.json()
    async with http.post(f"{a.base}/api/v1/statuses", headers=alice,
                         json={"status": "@bob sepsis: the same on ward 2", "in_reply_to_id": thread["id"]}) as r:
        reply = await r.json()
    elsewhere = await _post(a, "bob", "<p>sepsis elsewhere</p>")
    await settle(a)
    # Then `community:` finds the community's thread and its reply, by its name or its handle
    for name in ("icu", f"icu@{a.urls.authority}", "@ICU"):
        assert set(await _ids(http, url + quote(f"sepsis community:{name}"), alice)) == {thread["id"], reply["id"]}
    assert str(elsewhere.id) in await _ids(http, url + "sepsis", alice)
    # And a user or an unknown community names no community's posts
    assert await _ids(http, url + quote("sepsis community:bob"), alice) == []
    assert await _ids(http, url + quote("sepsis community:icu@elsewhere.example"), alice) == []
