"""An institution-only community is in no list a stranger reads: not in a member's `following`
collection as a peer fetches it, nor in her following list or in account search (by name or by
address) through the client API, for a caller who is none of the instance's users;
the instance's users find it in each (storage.communities `institution_only_group`)."""

from __future__ import annotations

from federation.outbox import relations
from tests.api_helpers import token_for
from tests.community_helpers import make_community

AP = {"Accept": "application/activity+json"}


async def _json(http, url: str, headers: dict | None = None):
    async with http.get(url, headers=headers or {}) as response:
        assert response.status == 200, (url, response.status, await response.text())
        return await response.json(content_type=None)


async def test_an_institution_only_community_is_in_no_list_a_stranger_reads(instances, http):
    # Given ann on A, a member of an institution-only community and of an ordinary one, on an
    # instance whose pages and API are open to anyone, and B, a peer
    a = await instances.start("a", web={"public_pages": "all"})
    b = await instances.start("b")
    ann = await token_for(a, "ann")
    _, secret = await make_community(a, "night-shift", local_only=True)
    _, ordinary = await make_community(a, "wound-care")
    async with a.db.sessions.begin() as session:
        for group in (secret, ordinary):
            await relations.follow(a.fed, session, await a.actor("ann"), group)
    ann_id = (await a.actor("ann")).id

    # Then B, fetching her following collection, learns of the ordinary one only
    url = f"{a.base}/users/ann/following?page=true"
    page = await _json(http, url, {**AP, **b.fed.sign_get("GET", url)})
    assert page["orderedItems"] == [ordinary.uri]
    # And a caller with no token finds only the ordinary one in her following list and in search
    following = await _json(http, f"{a.base}/api/v1/accounts/{ann_id}/following")
    assert [account["username"] for account in following] == ["wound-care"]
    for q in ("night", "wound", secret.uri):
        found = await _json(http, f"{a.base}/api/v2/search?type=accounts&q={q}")
        assert "night-shift" not in [account["username"] for account in found["accounts"]], q

    # But ann, one of the instance's users, finds it in each
    following = await _json(http, f"{a.base}/api/v1/accounts/{ann_id}/following", ann)
    assert sorted(account["username"] for account in following) == ["night-shift", "wound-care"]
    for q in ("night", secret.uri):
        found = await _json(http, f"{a.base}/api/v2/search?type=accounts&q={q}", ann)
        assert "night-shift" in [account["username"] for account in found["accounts"]], q
