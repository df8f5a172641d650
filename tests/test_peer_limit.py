"""A limited peer (the admin pages' "Limit", Mastodon's limit): it still federates, but its
posts stay out of the federated and hashtag timelines; its accounts' followers still get them
at home."""

from __future__ import annotations

import json

from federation.outbox import drafts
from federation.social.compose import Draft
from tests.api_helpers import token_for
from tests.instances import settle
from tests.test_api_streaming import listening, next_sse, post
from tests.test_federation_flows import _follow
from tests.web_helpers import browser_like, sign_in, submit


async def _texts(http, url: str, headers) -> list[str]:
    async with http.get(url, headers=headers) as response:
        assert response.status == 200, await response.text()
        return [status["content"] for status in await response.json()]


async def test_a_limited_peers_posts_reach_followers_homes_and_no_public_timeline(instances, http):
    # Given alice@A follows bob@B; carol@A follows nobody
    a = await instances.start("a", federation={"mode": "allowlist"})
    b = await instances.start("b")
    await a.add_user("root", admin=True)
    alice = await token_for(a, "alice")
    carol = await token_for(a, "carol")
    _, bob = await b.add_user("bob")
    async with browser_like() as root:
        await sign_in(root, a.base, "root")
        await submit(root, a.base, "/admin/peers", token_from="/admin/peers", domain=b.urls.authority,
                     state="allowed")
        await _follow(a, "alice", f"bob@{b.urls.authority}")
        await settle(a, b)
        async with http.post(f"{a.base}/api/v1/tags/sepsis/follow", headers=carol) as response:
            assert response.status == 200  # carol follows the tag, not bob
        await drafts.publish(b.fed, bob, Draft(text="Before the limit #sepsis"))
        await settle(a, b)
        assert "Before the limit" in (await _texts(http, f"{a.base}/api/v1/timelines/public?remote=true", carol))[0]
        # When A's admin limits B
        response = await submit(root, a.base, "/admin/peers", token_from="/admin/peers", domain=b.urls.authority,
                                state="limited", public_comment="too noisy")
        assert response.status == 303
    assert a.fed.policy.allows(b.urls.authority)  # it still federates
    # And bob posts again
    await drafts.publish(b.fed, bob, Draft(text="After the limit #sepsis"))
    await settle(a, b)
    # Then alice, his follower, has both at home
    home = await _texts(http, f"{a.base}/api/v1/timelines/home", alice)
    assert any("After the limit" in text for text in home) and any("Before the limit" in text for text in home)
    # But the tag carol follows brought her home the first post only
    carols = await _texts(http, f"{a.base}/api/v1/timelines/home", carol)
    assert any("Before the limit" in text for text in carols)
    assert not any("After the limit" in text for text in carols)
    # But nobody sees his posts in the federated or the hashtag timeline, not even alice
    for headers in (alice, carol):
        assert await _texts(http, f"{a.base}/api/v1/timelines/public?remote=true", headers) == []
        assert await _texts(http, f"{a.base}/api/v1/timelines/tag/sepsis", headers) == []
    # And the web pages' federated and tag timelines leave them out too, while alice's home has them
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        for path in ("/federated", "/tags/sepsis"):
            async with browser.get(f"{a.base}{path}") as page:
                assert page.status == 200 and "After the limit" not in await page.text(), path
        async with browser.get(f"{a.base}/home") as page:
            assert "After the limit" in await page.text()
    # When the admin lifts the limit, Then both posts are public again
    async with browser_like() as root:
        await sign_in(root, a.base, "root")
        await submit(root, a.base, "/admin/peers", token_from="/admin/peers", domain=b.urls.authority,
                     state="allowed")
    assert len(await _texts(http, f"{a.base}/api/v1/timelines/tag/sepsis", carol)) == 2


async def test_a_limited_peers_post_arriving_live_reaches_its_followers_stream_and_no_public_one(instances, http):
    # Given alice@A follows bob@B, and A's admin limits B (a domain block of severity silence)
    a = await instances.start("a")
    b = await instances.start("b")
    admin = await token_for(a, "root", "admin:read admin:write", admin=True)
    alice = await token_for(a, "alice", "read")
    await a.add_user("carol")
    _, bob = await b.add_user("bob")
    await _follow(a, "alice", f"bob@{b.urls.authority}")
    await settle(a, b)
    async with http.post(f"{a.base}/api/v1/admin/domain_blocks", headers=admin,
                         json={"domain": b.urls.authority, "severity": "silence"}) as response:
        assert response.status == 200, await response.text()
        limit = await response.json()
    await listening(a)
    streaming = f"{a.base}/api/v1/streaming"
    async with http.get(f"{streaming}/public", headers=alice) as public, \
            http.get(f"{streaming}/public/remote", headers=alice) as remote, \
            http.get(f"{streaming}/hashtag?tag=sepsis", headers=alice) as hashtag, \
            http.get(f"{streaming}/user", headers=alice) as home:
        # When bob's public post arrives, then carol posts publicly on A
        await drafts.publish(b.fed, bob, Draft(text="Live from a limited peer #sepsis"))
        await settle(a, b)
        carols = await post(a, "carol", "<p>Local news #sepsis</p>", tags=["sepsis"])
        # Then alice's home stream hears bob's post
        name, data = await next_sse(home)
        assert name == "update" and "Live from a limited peer" in json.loads(data)["content"]
        # But the public and hashtag streams hear carol's first: bob's never came
        for stream in (public, hashtag):
            name, data = await next_sse(stream)
            assert (name, json.loads(data)["id"]) == ("update", str(carols))
        # And when the limit is lifted, bob's next post is the first the remote public stream hears
        async with http.delete(f"{a.base}/api/v1/admin/domain_blocks/{limit['id']}", headers=admin) as response:
            assert response.status == 200
        await drafts.publish(b.fed, bob, Draft(text="Heard by everyone #sepsis"))
        await settle(a, b)
        name, data = await next_sse(remote)
        assert name == "update" and "Heard by everyone" in json.loads(data)["content"]
