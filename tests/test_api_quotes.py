"""Quote posts (FEP-044f, as Mastodon 4.5 does them) through the client API: quoting with
`quoted_status_id`, who may quote (`quote_approval_policy`, the status's `quote_approval`), the
`quote` entity and its states, the author's list of quotes, revocation, and the authorisation a
peer fetches to verify a quote. Raw HTTP and Mastodon.py on one real instance; tests in
test_federation_quotes.py take quotes between two."""

from __future__ import annotations

import asyncio

from mastodon import Mastodon

from sqlalchemy import select

from storage.models import Object, Quote
from tests.api_helpers import token_for


async def _call(http, method: str, url: str, headers=None, status: int = 200, **body):
    async with http.request(method, url, headers=headers, **body) as r:
        assert r.status == status, await r.text()
        return await r.json()


async def _post(http, a, headers, text: str, status: int = 200, **fields) -> dict:
    return await _call(http, "POST", f"{a.base}/api/v1/statuses", headers, status=status, json={"status": text, **fields})


def _client(a, headers) -> Mastodon:
    # Mastodon.py checks the server's version before calling 4.5's quote methods; Rounds says 4.3
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=a.base, version_check_mode="none")


async def test_quoting_follows_the_quoted_posts_policy(api):
    # Given alice's post that her followers may quote, and bob, who does not follow her
    a, http, alice, bob = api
    original = await _post(http, a, alice, "Our ward's checklist", quote_approval_policy="followers")
    assert original["quote_approval"] == {"automatic": ["followers"], "manual": [], "current_user": "automatic"}
    seen_by_bob = await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}", bob)
    assert seen_by_bob["quote_approval"]["current_user"] == "denied"
    # When bob quotes it, Then he is refused, and nothing is posted
    refused = await _post(http, a, bob, "Look", status=422, quoted_status_id=original["id"])
    assert refused["error"] == "You are not allowed to quote this post"
    assert await _call(http, "GET", f"{a.base}/api/v1/accounts/{(await a.actor('bob')).id}/statuses") == []
    # When he follows her and quotes it again (through Mastodon.py)
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{(await a.actor('alice')).id}/follow", bob)
    quoting = await asyncio.to_thread(_client(a, bob).status_post, "Worth reading", quoted_status_id=original["id"])
    # Then his status quotes hers, accepted at once
    assert quoting["quote"]["state"] == "accepted"
    assert quoting["quote"]["quoted_status"]["id"] == original["id"]
    assert quoting["quote"]["quoted_status"]["quote"] is None
    # And alice sees it among her post's quotes, which count it
    listed = await asyncio.to_thread(_client(a, alice).status_quotes, original["id"])
    assert [s["id"] for s in listed] == [quoting["id"]]
    assert (await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}", alice))["quotes_count"] == 1
    # And she is notified of it
    [notification] = await _call(http, "GET", f"{a.base}/api/v1/notifications", alice, params={"types[]": "quote"})
    assert (notification["type"], notification["status"]["id"]) == ("quote", quoting["id"])
    # And, grouped (v2), the notification names the quoting post, which the results carry
    grouped = await _call(http, "GET", f"{a.base}/api/v2/notifications", alice, params={"types[]": "quote"})
    assert [(g["type"], g.get("status_id")) for g in grouped["notification_groups"]] == [("quote", quoting["id"])]
    assert [s["id"] for s in grouped["statuses"]] == [quoting["id"]]
    # But bob cannot list the quotes of her post
    await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}/quotes", bob, status=403)
    # And once bob deletes his quote, it is neither counted nor listed
    await _call(http, "DELETE", f"{a.base}/api/v1/statuses/{quoting['id']}", bob)
    assert (await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}", alice))["quotes_count"] == 0
    assert await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}/quotes", alice) == []


async def test_private_posts_and_nobody_policies_are_quoted_by_their_author_alone(api):
    a, http, alice, bob = api
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{(await a.actor('alice')).id}/follow", bob)
    private = await _post(http, a, alice, "Followers only", visibility="private")
    assert private["quote_approval"]["automatic"] == []
    await _post(http, a, bob, "Leak", status=422, quoted_status_id=private["id"])
    own = await _post(http, a, alice, "Quoting myself", quoted_status_id=private["id"])
    assert own["quote"]["state"] == "accepted"
    # A public post whose author lets nobody quote it, through the interaction policy
    public = await _post(http, a, alice, "Public")
    changed = await asyncio.to_thread(_client(a, alice).status_update_quote_approval_policy, public["id"], "nobody")
    assert changed["quote_approval"]["automatic"] == []
    await _post(http, a, bob, "Nope", status=422, quoted_status_id=public["id"])
    # And an unknown policy, or another's post, is refused
    await _post(http, a, alice, "x", status=422, quote_approval_policy="everyone")
    await _call(http, "PUT", f"{a.base}/api/v1/statuses/{public['id']}/interaction_policy", bob, status=403,
                json={"quote_approval_policy": "public"})
    # And a post one may not see cannot be quoted (as if it did not exist)
    carol = await token_for(a, "carol")
    await _post(http, a, carol, "Peek", status=404, quoted_status_id=private["id"])


async def test_a_revoked_quote_shows_its_state_and_its_authorisation_is_gone(api):
    # Given bob's accepted quote of alice's public post
    a, http, alice, bob = api
    original = await _post(http, a, alice, "Antibiotic stewardship")
    quoting = await _post(http, a, bob, "Agreed", quoted_status_id=original["id"])
    # Then its document carries the authorisation, which anyone verifying it can fetch
    async with http.get(quoting["uri"], headers={"Accept": "application/activity+json"}) as r:
        note = await r.json(content_type=None)
    assert note["quote"] == original["uri"] and note["quoteUri"] == original["uri"]
    assert note["interactionPolicy"] == {"canQuote": {"automaticApproval": ["https://www.w3.org/ns/activitystreams#Public"]}}
    approval = note["quoteAuthorization"]
    assert approval.startswith(f"{a.base}/users/alice/quote_authorizations/")
    async with http.get(approval, headers={"Accept": "application/activity+json"}) as r:
        authorisation = await r.json(content_type=None)
    assert authorisation["type"] == "QuoteAuthorization"
    assert (authorisation["attributedTo"], authorisation["interactingObject"], authorisation["interactionTarget"]) == (
        f"{a.base}/users/alice", quoting["uri"], original["uri"])
    # When alice revokes it (bob cannot)
    await _call(http, "POST", f"{a.base}/api/v1/statuses/{original['id']}/quotes/{quoting['id']}/revoke", bob,
                status=403)
    revoked = await asyncio.to_thread(_client(a, alice).status_quote_revoke, original["id"], quoting["id"])
    # Then the quote shows as revoked, without the quoted status, and leaves her list
    assert revoked["quote"] == {"state": "revoked", "quoted_status": None}
    assert await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}/quotes", alice) == []
    # And the authorisation is no longer served, nor in the quoting post's document
    async with http.get(approval, headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 404
    async with http.get(quoting["uri"], headers={"Accept": "application/activity+json"}) as r:
        assert "quoteAuthorization" not in await r.json(content_type=None)
    # And revoking what is not a quote of her post is a 404
    await _call(http, "POST", f"{a.base}/api/v1/statuses/{original['id']}/quotes/{original['id']}/revoke", alice,
                status=404)


async def test_a_quote_of_a_deleted_post_says_so_and_a_blocked_author_is_hidden(api):
    a, http, alice, bob = api
    carol = await token_for(a, "carol")
    original = await _post(http, a, alice, "Soon gone")
    quoting = await _post(http, a, bob, "Quoting", quoted_status_id=original["id"])
    # carol blocks alice: she sees bob's quote without alice's post
    await _call(http, "POST", f"{a.base}/api/v1/accounts/{(await a.actor('alice')).id}/block", carol)
    seen = await _call(http, "GET", f"{a.base}/api/v1/statuses/{quoting['id']}", carol)
    assert seen["quote"] == {"state": "blocked_account", "quoted_status": None}
    # alice deletes her post: the quote says it was deleted
    await _call(http, "DELETE", f"{a.base}/api/v1/statuses/{original['id']}", alice)
    seen = await _call(http, "GET", f"{a.base}/api/v1/statuses/{quoting['id']}", bob)
    assert seen["quote"] == {"state": "deleted", "quoted_status": None}


async def test_a_direct_post_quoting_her_is_not_shown_to_an_author_it_does_not_address(api):
    # Given alice's public post, and carol
    a, http, alice, bob = api
    await token_for(a, "carol")
    original = await _post(http, a, alice, "Our ward's checklist")
    # When bob quotes it in a direct post to carol, then in a public one
    direct = await _post(http, a, bob, "@carol look at this", visibility="direct", quoted_status_id=original["id"])
    public = await _post(http, a, bob, "Worth reading", quoted_status_id=original["id"])
    assert direct["quote"]["state"] == public["quote"]["state"] == "accepted"
    # Then alice, who may not see the direct post, hears of the public quote only, and lists it only
    notified = await _call(http, "GET", f"{a.base}/api/v1/notifications", alice, params={"types[]": "quote"})
    assert [n["status"]["id"] for n in notified] == [public["id"]]
    listed = await _call(http, "GET", f"{a.base}/api/v1/statuses/{original['id']}/quotes", alice)
    assert [s["id"] for s in listed] == [public["id"]]


async def test_a_quote_of_an_institution_only_post_is_institution_only_and_shows_it_to_users_only(api):
    # Given alice's institution-only post
    a, http, alice, bob = api
    secret = await _post(http, a, alice, "Ward 4 staffing", local_only=True)
    # When bob quotes it in a public post
    quoting = await _post(http, a, bob, "Noted", quoted_status_id=secret["id"])
    # Then his post is institution-only too: it never leaves the instance
    async with a.db.sessions() as session:
        assert (await session.get(Object, int(quoting["id"]))).local_only is True
        approval = (await session.scalar(select(Quote).where(Quote.object_id == int(quoting["id"])))).approval_uri
    # And alice's authorisation of it is served to no one: it would name both posts
    async with http.get(approval, headers={"Accept": "application/activity+json"}) as r:
        assert r.status == 404
    # And were such a quote public (written before this rule), a caller who is none of the
    # instance's users would not see the quoted post in it
    async with a.db.sessions.begin() as session:
        (await session.get(Object, int(quoting["id"]))).local_only = False
    anonymous = await _call(http, "GET", f"{a.base}/api/v1/statuses/{quoting['id']}")
    assert anonymous["quote"]["quoted_status"] is None
    assert (await _call(http, "GET", f"{a.base}/api/v1/statuses/{quoting['id']}", bob))["quote"]["quoted_status"]["id"] \
        == secret["id"]
