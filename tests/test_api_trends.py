"""Trends, the explore tab of apps (server/api/trends.py, storage.trends), through Mastodon.py and
raw HTTP: the hashtags most people used this week, and the posts most liked and boosted these
two days; an institution-only post, and its hashtag, only for the instance's users (its use is
not counted in a tag's history for anyone else either); links never trend."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from federation.peers import decisions
from storage.models import Like, Object, PeerState, Tag, Visibility
from tests.api_helpers import token_for
from tests.factories import remote_actor


def _client(instance, headers) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base,
                    version_check_mode="none")


async def test_what_trends_and_for_whom(instances, http):
    a = await instances.start("a", web={"public_pages": "all"})
    alice, bob, carol = [_client(a, await token_for(a, name)) for name in ("alice", "bob", "carol")]
    call = asyncio.to_thread
    # Given two people tag #sepsis, one #handover, and alice an institution-only post #secretward
    sepsis = await call(alice.status_post, "Our #sepsis bundle")
    second = await call(bob.status_post, "More on #sepsis")
    await call(carol.status_post, "A #handover checklist")
    secret = await call(alice._Mastodon__api_request, "POST", "/api/v1/statuses",
                        {"status": "Ward 4 #secretward", "local_only": True})
    # And bob likes and carol boosts alice's post; bob likes the secret one and his own
    await call(bob.status_favourite, sepsis["id"])
    await call(carol.status_reblog, sepsis["id"])
    await call(bob.status_favourite, secret["id"])
    await call(bob.status_favourite, second["id"])

    async def anonymous(path: str):
        async with http.get(f"{a.base}{path}") as response:
            assert response.status == 200, path
            return await response.json()

    # Then a stranger sees the public tags, most people first, and the liked public posts
    assert [tag["name"] for tag in await anonymous("/api/v1/trends/tags")] == ["sepsis", "handover"]
    assert [status["id"] for status in await anonymous("/api/v1/trends/statuses")] == [sepsis["id"], second["id"]]
    assert await anonymous("/api/v1/trends/links") == []
    # And not the institution-only tag's use in its history either
    assert sum(int(day["uses"]) for day in (await anonymous("/api/v1/tags/secretward"))["history"]) == 0
    # But the instance's users see the institution-only ones too (through Mastodon.py)
    assert [tag["name"] for tag in await call(carol.trending_tags)] == ["sepsis", "handover", "secretward"]
    assert [str(status["id"]) for status in await call(carol.trending_statuses)] == [
        str(sepsis["id"]), str(secret["id"]), str(second["id"])]  # a like and a boost, then one like each, newest first
    assert sum(int(day["uses"]) for day in (await call(carol.tag, "secretward"))["history"]) == 1
    # And one who mutes alice sees none of hers
    await call(carol.account_mute, sepsis["account"]["id"])
    assert [str(status["id"]) for status in await call(carol.trending_statuses)] == [str(second["id"])]


async def test_a_blocked_or_limited_peers_posts_and_tags_never_trend(instances):
    # Given two peers' public posts, tagged and liked here, one peer blocked, one limited
    a = await instances.start("a")
    carol = _client(a, await token_for(a, "carol"))
    liker = await a.actor("carol")
    async with a.db.sessions.begin() as session:
        for n, domain in enumerate(("blocked.example", "limited.example", "open.example")):
            author = remote_actor(n, domain)
            session.add(author)
            await session.flush()
            post = Object(uri=f"https://{domain}/notes/1", type="Note", actor_id=author.id, local=False,
                          visibility=Visibility.public, content=f"<p>from {domain}</p>", published=a.clock.now())
            session.add(post)
            await session.flush()
            session.add_all([Tag(object_id=post.id, name=domain.split(".")[0]),
                             Like(uri=f"{a.base}/likes/{n}", actor_id=liker.id, object_id=post.id)])
        for domain, state in (("blocked.example", PeerState.blocked), ("limited.example", PeerState.limited)):
            await decisions.decide(session, domain, state, by="test", at=a.clock.now())
    await a.fed.reload_policy()
    # Then only the open peer's post and tag trend
    assert [status["content"] for status in await asyncio.to_thread(carol.trending_statuses)] == [
        "<p>from open.example</p>"]
    assert [tag["name"] for tag in await asyncio.to_thread(carol.trending_tags)] == ["open"]


async def test_a_number_that_is_not_one_is_a_400_everywhere(api):
    # "²" is a digit to str.isdigit, not to int(): it made a 500 where it was read so
    a, http, alice, _ = api
    for path in ("/api/v1/trends/tags?limit=²", "/api/v1/trends/statuses?offset=x", "/api/v2/search?q=a&limit=²",
                 "/api/v1/timelines/home?max_id=²", "/api/v1/timelines/home?limit=-1"):
        async with http.get(f"{a.base}{path}", headers=alice) as response:
            assert response.status == 400, (path, response.status, await response.text())
