"""A limited peer (the admin pages' "Limit", Mastodon's limit): it still federates, but its
posts stay out of the federated and hashtag timelines; its accounts' followers still get them
at home."""

from __future__ import annotations

from federation.outbox import drafts
from federation.social.compose import Draft
from tests.api_helpers import token_for
from tests.instances import settle
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
    # But nobody sees his posts in the federated or the hashtag timeline, not even alice
    for headers in (alice, carol):
        assert await _texts(http, f"{a.base}/api/v1/timelines/public?remote=true", headers) == []
        assert await _texts(http, f"{a.base}/api/v1/timelines/tag/sepsis", headers) == []
