"""Articles between two real instances on loopback (issue 16): written on A in Markdown, reviewed
and validated in a community on A, read in full on B (stored whole), revised on A into version 2
with a change note that B keeps, found by B's search by a word of its body; a draft and an
institution-only article never reach B; alerts of new articles; the version history over
ActivityPub."""

from __future__ import annotations

import asyncio
import json

from mastodon import Mastodon
from sqlalchemy import select

from storage.actors import actor_by_uri
from storage.models import Activity, Actor, Announce, Article, Delivery, Object
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.instances import Instance, settle

AP = {"Accept": "application/activity+json"}
ARTICLES = "/api/rounds/v1/articles"
BODY = """Escalate when **lactate** is above 2 mmol/L.

<script>alert('x')</script>
<iframe src="https://evil.example/"></iframe>

[click me](javascript:alert(1)) and [NICE](https://www.nice.org.uk/guidance/ng51)

| Step | When |
|------|------|
| Antibiotics | within one hour |
"""


async def _call(http, method: str, url: str, headers: dict, data: dict | None = None) -> tuple[int, object]:
    async with http.request(method, url, headers=headers, json=data) as response:
        return response.status, await response.json()


async def _deliveries(instance: Instance) -> list[str]:
    async with instance.db.sessions() as session:
        return [json.dumps(raw) for raw in await session.scalars(
            select(Activity.raw).join(Delivery, Delivery.activity_id == Activity.id))]


async def _remote_article(instance: Instance, uri: str) -> Article | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Article).join(Object, Object.id == Article.object_id)
                                    .where(Object.uri == uri))


async def _announced(instance: Instance, group: Actor, uri: str) -> bool:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Announce.id).join(Object, Object.id == Announce.object_id)
                                    .where(Announce.actor_id == group.id, Object.uri == uri)) is not None


def _client(instance: Instance, headers: dict) -> Mastodon:
    return Mastodon(access_token=headers["Authorization"].split()[1], api_base_url=instance.base,
                    version_check_mode="none")


async def test_an_article_reviewed_on_a_is_read_whole_on_b_revised_and_found(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")      # the author
    mod = await token_for(a, "mod")          # the community's moderator
    carol = await token_for(a, "carol")      # a member: neither author nor moderator
    bob = await token_for(b, "bob")
    _, group = await make_community(a, "sepsis-protocols", moderators=("mod",))
    for name in ("alice", "carol"):
        await follow_remote(a, name, f"@sepsis-protocols@{a.urls.authority}")
    await follow_remote(b, "bob", f"@sepsis-protocols@{a.urls.authority}")
    await follow_remote(b, "bob", f"@alice@{a.urls.authority}")
    await settle(a, b)

    # Given the community requires a moderator's approval (only a moderator may say so)
    review = f"{a.base}/api/rounds/v1/communities/{group.id}/articles/review"
    assert (await _call(http, "PUT", review, carol, {"require_approval": True}))[0] == 403
    status, answer = await _call(http, "PUT", review, mod, {"require_approval": True})
    assert status == 200 and answer["articles_require_approval"] is True

    # When alice writes an article to it and submits it
    status, draft = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Sepsis: the first hour", "summary": "When to escalate, and what to give first.",
        "body": BODY, "tags": ["sepsis"], "references": ["[Surviving Sepsis](https://www.sccm.org/ssc) 2021"],
        "community_id": str(group.id)})
    assert status == 200, draft
    assert draft["state"] == "draft" and draft["uri"] is None and draft["status"] is None and draft["version"] == 1
    # Then its Markdown is rendered and sanitised: no script, no frame, no javascript: link
    content = draft["content"]
    assert "<strong>lactate</strong>" in content and "<table>" in content and "nice.org.uk" in content
    assert "<script" not in content and "<iframe" not in content and "href=\"javascript" not in content
    assert "&lt;script&gt;" in content  # shown as the text it is
    assert "Surviving Sepsis" in content and draft["source"] == BODY
    one = f"{a.base}{ARTICLES}/{draft['id']}"
    # And a draft is its author's alone
    assert (await _call(http, "GET", one, carol))[0] == 404
    assert (await _call(http, "GET", one, {}))[0] == 404
    status, submitted = await _call(http, "POST", f"{one}/submit", alice)
    assert status == 200 and submitted["state"] == "in_review" and submitted["status"] is None
    await settle(a, b)
    # Then nothing of it has left A: no delivery carries it, B has no article
    assert not any("first hour" in doc for doc in await _deliveries(a))
    async with b.db.sessions() as session:
        assert await session.scalar(select(Article.id)) is None

    # When its author or a member who does not moderate tries to approve it, Then they cannot
    assert (await _call(http, "POST", f"{one}/approve", alice))[0] == 403
    assert (await _call(http, "POST", f"{one}/approve", carol))[0] == 404  # in review: not hers to see
    # And the moderator sees it in the community's review list
    status, waiting = await _call(http, "GET", review, mod)
    assert status == 200 and [item["id"] for item in waiting] == [draft["id"]]

    # When the moderator approves it
    status, published = await _call(http, "POST", f"{one}/approve", mod)
    assert status == 200, published
    await settle(a, b)
    # Then it is published, validated by the moderator, and has its post (a status)
    assert published["state"] == "published" and published["validated_by"]["username"] == "mod"
    assert published["validated_at"] and published["validated_version"] == 1
    assert published["status"]["id"] and published["uri"] == published["status"]["uri"]
    # And B holds it whole: title, summary, full body, version 1
    stored = await _remote_article(b, published["uri"])
    assert stored is not None and stored.title == "Sepsis: the first hour" and stored.version == 1
    assert "<strong>lactate</strong>" in stored.content and "Surviving Sepsis" in stored.content
    assert stored.source == BODY
    # And B's client API shows it as Mastodon shows an Article: title, summary, link (no body)
    status, listed = await _call(http, "GET", f"{b.base}{ARTICLES}", bob)
    [on_b] = [item for item in listed if item["uri"] == published["uri"]]
    assert "lactate" in on_b["content"] and on_b["version"] == 1 and on_b["local"] is False
    status_on_b = on_b["status"]
    assert "Sepsis: the first hour" in status_on_b["content"] and "lactate" not in status_on_b["content"]
    assert published["url"] in status_on_b["content"]

    # When bob searches on B for a word only its body holds, Then he finds it
    bob_client = _client(b, bob)
    found = await asyncio.to_thread(bob_client.search_v2, "lactate", result_type="statuses")
    assert [s["uri"] for s in found["statuses"]] == [published["uri"]]

    # When alice revises it on A with a change note
    status, revised = await _call(http, "PUT", one, alice, {
        "title": "Sepsis: the first hour", "summary": "When to escalate, and what to give first.",
        "body": BODY.replace("above 2", "above 4"), "tags": ["sepsis"], "change_note": "Lactate threshold corrected"})
    assert status == 200 and revised["version"] == 2 and revised["versions_count"] == 2
    await settle(a, b)
    # Then B shows version 2, with its change note, and keeps version 1
    stored = await _remote_article(b, published["uri"])
    assert stored.version == 2 and stored.change_note == "Lactate threshold corrected"
    assert "above 4" in stored.content
    status, versions = await _call(http, "GET", f"{b.base}{ARTICLES}/{on_b['id']}/versions", bob)
    assert status == 200 and [v["version"] for v in versions] == [1, 2]
    assert "above 2" in versions[0]["content"] and versions[1]["change_note"] == "Lactate threshold corrected"
    # And A serves its history over ActivityPub, to a peer's signed GET
    history_url = f"{published['uri']}/versions"
    async with http.get(history_url, headers={**AP, **b.fed.sign_get("GET", history_url)}) as response:
        assert response.status == 200
        history = await response.json(content_type=None)
    assert history["type"] == "OrderedCollection" and history["totalItems"] == 1
    assert history["orderedItems"][0]["version"] == 1 and "above 2" in history["orderedItems"][0]["content"]
    async with http.get(published["uri"], headers={**AP, **b.fed.sign_get("GET", published["uri"])}) as response:
        document = await response.json(content_type=None)
    assert document["type"] == "Article" and document["version"] == 2 and document["versions"] == history_url
    assert document["source"] == {"content": BODY.replace("above 2", "above 4"), "mediaType": "text/markdown"}
    assert document["preview"]["type"] == "Note" and "Sepsis: the first hour" in document["preview"]["content"]
    assert document["changeNote"] == "Lactate threshold corrected" and document["updated"]

    # When bob, a member on B, publishes an article to the community (which B does not review),
    # Then it reaches A, but the community does not announce an article its moderators have not
    # validated, while it still announces bob's ordinary posts
    async with b.db.sessions() as session:
        group_on_b = await actor_by_uri(session, group.uri)
    status, from_b = await _call(http, "POST", b.base + ARTICLES, bob, {
        "title": "Our sepsis audit", "body": "numbers", "community_id": str(group_on_b.id), "state": "published"})
    assert status == 200 and from_b["state"] == "published"
    note = await asyncio.to_thread(bob_client.status_post, f"@sepsis-protocols@{a.urls.authority} a question")
    await settle(a, b)
    assert await _remote_article(a, from_b["uri"]) is not None
    assert not await _announced(a, group, from_b["uri"])
    assert await _announced(a, group, note["uri"])
    # When the moderator approves it from the community's review list, Then the community announces it
    status, waiting = await _call(http, "GET", review, mod)
    [remote_on_a] = [item for item in waiting if item["uri"] == from_b["uri"]]
    assert remote_on_a["local"] is False and remote_on_a["state"] == "published"
    assert (await _call(http, "POST", f"{a.base}{ARTICLES}/{remote_on_a['id']}/reject", mod))[0] == 422
    status, validated = await _call(http, "POST", f"{a.base}{ARTICLES}/{remote_on_a['id']}/approve", mod)
    assert status == 200 and validated["validated_by"]["username"] == "mod"
    await settle(a, b)
    assert await _announced(a, group, from_b["uri"])
    assert (await _call(http, "GET", review, mod))[1] == []


async def test_drafts_and_institution_only_articles_never_reach_b(instances, http):
    a = await instances.start("a")
    b = await instances.start("b")
    alice = await token_for(a, "alice")
    carol = await token_for(a, "carol")
    await b.add_user("bob")
    await follow_remote(b, "bob", f"@alice@{a.urls.authority}")
    await settle(a, b)

    # When alice keeps a draft, publishes an institution-only article, and an ordinary one
    status, draft = await _call(http, "POST", a.base + ARTICLES, alice, {"title": "DRAFT-7c1e", "body": "unfinished"})
    assert status == 200 and draft["state"] == "draft"
    status, secret = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "SECRET-91ab staffing", "body": "ward rota", "institution_only": True, "state": "published"})
    assert status == 200 and secret["state"] == "published" and secret["institution_only"] is True
    status, ordinary = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Hand hygiene", "body": "five moments", "state": "published"})
    assert status == 200
    await settle(a, b)

    # Then the ordinary one reached B (the path works), and neither the draft nor the secret did:
    # no delivery row, nothing stored on B
    delivered = await _deliveries(a)
    assert any(ordinary["uri"] in doc for doc in delivered)
    assert not any("DRAFT-7c1e" in doc or "SECRET-91ab" in doc or secret["uri"] in doc for doc in delivered)
    assert await _remote_article(b, ordinary["uri"]) is not None
    async with b.db.sessions() as session:
        titles = set(await session.scalars(select(Article.title)))
    assert titles == {"Hand hygiene"}
    # And a peer asking for it, or its history, gets 404; A's own users read it; anonymous do not
    for url in (secret["uri"], f"{secret['uri']}/versions"):
        async with http.get(url, headers={**AP, **b.fed.sign_get("GET", url)}) as response:
            assert response.status == 404, url
    assert (await _call(http, "GET", f"{a.base}{ARTICLES}/{secret['id']}", carol))[0] == 200
    assert (await _call(http, "GET", f"{a.base}{ARTICLES}/{secret['id']}", {}))[0] == 404
    # And a draft is nobody else's business, even its title
    assert (await _call(http, "GET", f"{a.base}{ARTICLES}/{draft['id']}", carol))[0] == 404


async def test_alerts_of_new_articles_in_a_tag_and_a_community(instances, http):
    a = await instances.start("a")
    alice = await token_for(a, "alice")
    carol = await token_for(a, "carol")
    dave = await token_for(a, "dave")
    erin = await token_for(a, "erin")  # follows the tag, without an alert
    _, group = await make_community(a, "icu", moderators=("alice",))
    await follow_remote(a, "dave", f"@icu@{a.urls.authority}")

    # Given carol asks for alerts of #sepsis, dave of the community he joined; erin only follows #sepsis
    status, alerts = await _call(http, "POST", f"{a.base}/api/rounds/v1/alerts/tags/sepsis", carol)
    assert status == 200 and alerts["tags"] == ["sepsis"]
    status, alerts = await _call(http, "POST", f"{a.base}/api/rounds/v1/alerts/communities/{group.id}", dave)
    assert status == 200 and [c["username"] for c in alerts["communities"]] == ["icu"]
    await asyncio.to_thread(_client(a, erin).tag_follow, "sepsis")
    # And an alert of a community one did not join is refused
    assert (await _call(http, "POST", f"{a.base}/api/rounds/v1/alerts/communities/{group.id}", erin))[0] == 422

    # When alice publishes an article tagged #sepsis in the community
    status, article = await _call(http, "POST", a.base + ARTICLES, alice, {
        "title": "Fluids in septic shock", "body": "30 mL/kg", "tags": ["sepsis"], "community_id": str(group.id),
        "state": "published"})
    assert status == 200 and article["state"] == "published"

    # Then carol and dave each get one `status` notification of it (Mastodon.py reads them); erin
    # and alice none
    for headers in (carol, dave):
        notes = await asyncio.to_thread(_client(a, headers).notifications)
        assert [(n["type"], n["status"]["id"]) for n in notes] == [("status", article["status"]["id"])]
    assert await asyncio.to_thread(_client(a, erin).notifications) == []
    assert [n for n in await asyncio.to_thread(_client(a, alice).notifications) if n["type"] == "status"] == []

    # When carol turns her alert off, Then the next article tells her nothing
    status, alerts = await _call(http, "DELETE", f"{a.base}/api/rounds/v1/alerts/tags/sepsis", carol)
    assert status == 200 and alerts["tags"] == []
    await _call(http, "POST", a.base + ARTICLES, alice, {"title": "Lactate", "tags": ["sepsis"], "state": "published"})
    assert len(await asyncio.to_thread(_client(a, carol).notifications)) == 1
