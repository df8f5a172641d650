"""A moderator's review queue (federation.articles.access.to_review, the Articles page's
"Awaiting your review"): the articles awaiting review in the communities she moderates, and
no others; the instance's admins moderate every community hosted here; a practitioner who
moderates nothing has an empty queue; an approved article leaves it, and so does a peer's
article whose post was deleted. Each moderator hears of an article awaiting her review
(`article_review`, in the client API and on the notifications page)."""

from __future__ import annotations

from sqlalchemy import select

from federation.articles import access, review
from server.web import articles as article_pages
from storage.models import Article
from storage.actors import actor_by_uri
from storage.articles import article_by_id
from tests.api_helpers import token_for
from tests.community_helpers import follow_remote, make_community
from tests.instances import settle
from tests.web_helpers import browser_like, sign_in

ARTICLES = "/api/rounds/v1/articles"


async def _submitted(http, a, author: dict, group_id: int, title: str) -> int:
    """A draft to the community, submitted: its id."""
    async with http.post(a.base + ARTICLES, headers=author, json={
            "title": title, "body": "Steps.", "community_id": str(group_id)}) as response:
        draft = await response.json()
        assert response.status == 200, draft
    async with http.post(f"{a.base}{ARTICLES}/{draft['id']}/submit", headers=author) as response:
        assert response.status == 200 and (await response.json())["state"] == "in_review"
    return int(draft["id"])


async def _review_notices(http, a, username: str) -> list[tuple[str, str | None]]:
    """(who, the post's uri) of each article_review notification of `username`, by the client API."""
    headers = await token_for(a, username, create=False)
    async with http.get(f"{a.base}/api/v1/notifications", headers=headers) as response:
        assert response.status == 200
        return [(n["account"]["username"], n["status"]["uri"] if n["status"] else None)
                for n in await response.json() if n["type"] == "article_review"]


async def _queue(a, username: str) -> list[str]:
    async with a.db.sessions() as session:
        return [article.title for article in await access.to_review(session, await a.actor(username))]


async def test_a_moderators_queue_holds_her_communities_articles_awaiting_review(instances, http, monkeypatch):
    # Given two communities that review articles, each with its own moderator, and an admin
    a = await instances.start("a")
    alice = await token_for(a, "alice")
    for name in ("icu_mod", "er_mod", "carol"):
        await a.add_user(name)
    await a.add_user("admin", admin=True)
    groups = {}
    for name in ("icu", "er"):
        community, groups[name] = await make_community(a, name, moderators=(f"{name}_mod",))
        async with a.db.sessions.begin() as session:
            (await session.get(type(community), community.actor_id)).articles_require_approval = True
        await follow_remote(a, "alice", f"@{name}@{a.urls.authority}")

    # And the ICU's moderator drops notifications from people she does not follow (alice)
    async with http.patch(f"{a.base}/api/v2/notifications/policy", headers=await token_for(a, "icu_mod", create=False),
                          json={"for_not_following": "drop"}) as response:
        assert response.status == 200 and (await response.json())["for_not_following"] == "drop"

    # When alice submits an article to each
    icu_article = await _submitted(http, a, alice, groups["icu"].id, "Proning")
    await _submitted(http, a, alice, groups["er"].id, "Triage")

    # Then each moderator's queue holds her community's article only, the admin's holds both, and
    # the author's and another practitioner's hold none
    assert await _queue(a, "icu_mod") == ["Proning"]
    assert await _queue(a, "er_mod") == ["Triage"]
    assert await _queue(a, "admin") == ["Proning", "Triage"]
    assert await _queue(a, "alice") == [] and await _queue(a, "carol") == []
    # And each moderator heard of hers, whatever her policy says of strangers (the admin, who
    # moderates no community of her own, did not)
    assert await _review_notices(http, a, "icu_mod") == [("alice", None)]
    assert await _review_notices(http, a, "er_mod") == [("alice", None)]
    assert await _review_notices(http, a, "admin") == []
    # And her notifications page says so, and leads to her queue
    async with browser_like() as browser:
        await sign_in(browser, a.base, "icu_mod")
        async with browser.get(f"{a.base}/notifications") as response:
            page = await response.text()
    assert "alice</a>'s article awaits your review" in page.replace("&#39;", "'")
    assert 'href="/articles#to-review"' in page
    # And the admin's Articles page lists her queue; when it is longer than a page holds, it says so
    async with browser_like() as browser:
        await sign_in(browser, a.base, "admin")
        async with browser.get(f"{a.base}/articles") as response:
            full = await response.text()
        monkeypatch.setattr(article_pages, "REVIEW_QUEUE", 1)
        async with browser.get(f"{a.base}/articles") as response:
            cut = await response.text()
    assert "Proning" in full and "Triage" in full and 'id="review-more"' not in full
    assert "Proning" in cut and "Triage" not in cut and "The oldest 1 are listed" in cut

    # When the ICU's moderator approves hers, Then it leaves every queue
    async with a.db.sessions.begin() as session:
        await review.approve(a.fed, session, await a.actor("icu_mod"), await article_by_id(session, icu_article))
    assert await _queue(a, "icu_mod") == []
    assert await _queue(a, "admin") == ["Triage"]


async def test_a_peers_article_leaves_the_queue_once_its_post_is_deleted(instances, http):
    # Given a community on A that reviews articles, and bob on B, a member
    a = await instances.start("a")
    b = await instances.start("b")
    await a.add_user("icu_mod")
    bob = await token_for(b, "bob")
    community, group = await make_community(a, "icu", moderators=("icu_mod",))
    async with a.db.sessions.begin() as session:
        (await session.get(type(community), community.actor_id)).articles_require_approval = True
    await follow_remote(b, "bob", f"@icu@{a.urls.authority}")
    await settle(a, b)

    # When bob publishes an article to it from B
    async with b.db.sessions() as session:
        group_on_b = await actor_by_uri(session, group.uri)
    async with http.post(b.base + ARTICLES, headers=bob, json={
            "title": "Our sepsis audit", "body": "numbers", "community_id": str(group_on_b.id),
            "state": "published"}) as response:
        published = await response.json()
        assert response.status == 200, published
    await settle(a, b)
    # Then it awaits the moderator's review on A, and she heard of it, with its post
    assert await _queue(a, "icu_mod") == ["Our sepsis audit"]
    assert await _review_notices(http, a, "icu_mod") == [("bob", published["uri"])]

    # And carol on B, who is no member, publishing an article to it, reaches no one's queue nor
    # notifications
    carol = await token_for(b, "carol")
    async with http.post(b.base + ARTICLES, headers=carol, json={
            "title": "Not a member", "body": "spam", "community_id": str(group_on_b.id), "state": "published"}) as response:
        assert response.status == 200
    await settle(a, b)
    async with a.db.sessions() as session:
        assert await session.scalar(select(Article.id).where(Article.title == "Not a member"))  # it came
    assert await _queue(a, "icu_mod") == ["Our sepsis audit"]
    assert await _review_notices(http, a, "icu_mod") == [("bob", published["uri"])]

    # And an article he publishes to a community that reviews nothing is no one's to approve
    _, er = await make_community(a, "er", moderators=("icu_mod",))
    await follow_remote(b, "bob", f"@er@{a.urls.authority}")
    await settle(a, b)
    async with b.db.sessions() as session:
        er_on_b = await actor_by_uri(session, er.uri)
    async with http.post(b.base + ARTICLES, headers=bob, json={
            "title": "Triage times", "body": "numbers", "community_id": str(er_on_b.id), "state": "published"}) as response:
        assert response.status == 200
    await settle(a, b)
    assert await _queue(a, "icu_mod") == ["Our sepsis audit"]
    async with a.db.sessions() as session:
        triage = await session.scalar(select(Article).where(Article.title == "Triage times"))
    mod = await token_for(a, "icu_mod", create=False)
    async with http.post(f"{a.base}{ARTICLES}/{triage.id}/approve", headers=mod) as response:
        assert response.status == 422 and "not in review" in (await response.json())["error"]

    # When bob publishes a second article to the ICU, after carol's, and deletes the first
    async with http.post(b.base + ARTICLES, headers=bob, json={
            "title": "Second audit", "body": "numbers", "community_id": str(group_on_b.id),
            "state": "published"}) as response:
        assert response.status == 200
    async with http.delete(f"{b.base}{ARTICLES}/{published['id']}", headers=bob) as response:
        assert response.status == 200, await response.text()
    await settle(a, b)
    # Then the first is no longer there to approve (its page would be not found)
    assert await _queue(a, "icu_mod") == ["Second audit"]
    # And carol's article, older than his second, takes no place in a queue of one
    async with a.db.sessions() as session:
        shortest = await access.to_review(session, await a.actor("icu_mod"), limit=1)
    assert [article.title for article in shortest] == ["Second audit"]
