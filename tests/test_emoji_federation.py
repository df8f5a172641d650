"""Our custom emojis reach peers: a post and an actor that use one carry its Emoji tag (its
shortcode, image URL and type), so a peer's server shows the image, as Rounds B does here: its
client API gives the status and the account the emoji, with A's image. A shortcode we have no
emoji for, and a peer's, carry none."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Object
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote
from tests.instances import settle
from tests.test_api_startup import _emoji_form, _json, png


async def test_a_post_and_a_profile_with_our_emoji_show_it_on_a_peer(instances, http):
    # Given an emoji on A, and bob on B following alice on A
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")
    root = await token_for(a, "root", "read write admin:read admin:write", admin=True)
    bob = await token_for(b, "bob")
    added = await _json(http, "POST", f"{a.base}/api/rounds/v1/admin/custom_emojis", root,
                        data=_emoji_form("handwash", png(), "hygiene"))
    await follow_remote(b, "bob", f"@alice@{a.urls.authority}")
    await settle(a, b)

    # When alice names it in her name
    await _json(http, "PATCH", f"{a.base}/api/v1/accounts/update_credentials", alice,
                json={"display_name": "Alice :handwash:"})
    await settle(a, b)
    # Then B, told of her new name (an Update of her actor, with the Emoji tag), shows it
    account = await _json(http, "GET", f"{b.base}/api/v1/accounts/lookup", bob,
                          params={"acct": f"alice@{a.urls.authority}"})
    assert account["display_name"] == "Alice :handwash:"
    assert [(e["shortcode"], e["url"]) for e in account["emojis"]] == [("handwash", added["url"])]
    # And her actor document, as a peer fetches it, carries the tag too
    actor_url = f"{a.base}/users/alice"
    document = await _document(http, b, actor_url)
    assert [(t["type"], t["name"], t["icon"]["url"]) for t in document["tag"]] == [("Emoji", ":handwash:", added["url"])]

    # When she names it in a post, beside a shortcode A has no emoji for
    status = await _json(http, "POST", f"{a.base}/api/v1/statuses", alice,
                         json={"status": "Before rounds :handwash: :nosuch:"})
    await settle(a, b)

    # Then the post's document carries the one Emoji tag, with A's image
    async with b.db.sessions() as session:
        stored = await session.scalar(select(Object).where(Object.uri == status["uri"]))
    tags = [tag for tag in stored.raw["tag"] if tag["type"] == "Emoji"]
    assert [(t["name"], t["icon"]["url"], t["icon"]["mediaType"]) for t in tags] == [
        (":handwash:", added["url"], "image/png")]
    # And its id is the emoji's own document, which a peer may fetch (GoToSocial keys emojis by it)
    own = await _document(http, b, tags[0]["id"])
    assert {key: value for key, value in own.items() if key != "@context"} == tags[0]
    # And B's client API shows the status and alice's account with the emoji, A's image
    [home] = await _json(http, "GET", f"{b.base}/api/v1/timelines/home", bob)
    assert home["uri"] == status["uri"]
    assert [(e["shortcode"], e["url"]) for e in home["emojis"]] == [("handwash", added["url"])]
    assert [(e["shortcode"], e["url"]) for e in home["account"]["emojis"]] == [("handwash", added["url"])]
    assert home["account"]["display_name"] == "Alice :handwash:"

    # And an article whose body (not its title) uses it carries the tag too
    article = await _json(http, "POST", f"{a.base}/api/rounds/v1/articles", alice, json={
        "title": "Hand hygiene", "body": "Before rounds, :handwash:.", "state": "published"})
    published = await _document(http, b, article["uri"])
    assert published["type"] == "Article"
    assert [t["name"] for t in published["tag"] if t["type"] == "Emoji"] == [":handwash:"]


async def _document(http, peer, url: str) -> dict:
    """A document of A, as `peer` fetches it: a signed GET."""
    async with http.get(url, headers={"Accept": "application/activity+json", **peer.fed.sign_get("GET", url)}) as r:
        assert r.status == 200, url
        return await r.json(content_type=None)
