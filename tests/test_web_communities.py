"""The communities' pages over plain HTTP: who sees what (an institution-only community only to
the instance's users), who may act (a moderator's forms refuse anyone else, and every form wants
its token), creating (staff only by default), joining and leaving, and the composer's posting
rule. The browser test (test_web_communities_browser.py) clicks through the same pages."""

from __future__ import annotations

from sqlalchemy import func, select

from federation.outbox import drafts
from federation.social.compose import Draft
from storage import communities as queries
from storage.models import AuditEntry, Follow, FollowState, JoinPolicy, Pin, PostingPolicy, Visibility
from storage.paging import Cursor
from tests.community_helpers import make_community
from tests.web_helpers import browser_like, page_token, sign_in, submit


def _cursor() -> Cursor:
    return Cursor(limit=40)


async def _get(http, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


async def _audited(instance, action: str) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action))


async def _state(instance, follower: str, group) -> FollowState | None:
    async with instance.db.sessions() as session:
        return await session.scalar(select(Follow.state).where(
            Follow.follower_id == (await instance.actor(follower)).id, Follow.followee_id == group.id))


async def test_an_institution_only_community_is_for_the_instances_users_alone(instances):
    # Given an instance whose pages are public, a federated community and an institution-only one
    a = await instances.start(web={"public_pages": "all"})
    await a.add_user("alice")
    await make_community(a, "wound-care", title="Wound care", summary="Dressings", moderators=("alice",))
    _, night_shift = await make_community(a, "night-shift", title="Night shift huddle", local_only=True,
                                          moderators=("alice",))
    async with browser_like() as http:
        # When a stranger opens the directory, Then she sees the federated one only
        status, page = await _get(http, f"{a.base}/communities")
        assert status == 200
        assert "Wound care" in page and "night-shift" not in page and "Night shift huddle" not in page
        # And the institution-only one's page is not found, as if it did not exist
        status, page = await _get(http, f"{a.base}/communities/night-shift")
        assert status == 404 and "Night shift huddle" not in page
        # And the federated one's profile address (its Group's `url`, which peers link to) is its
        # page; its actor's id asked for HTML, and a person's address for it, lead there; the
        # institution-only one's are not found
        async with http.get(f"{a.base}/users/wound-care", headers={"Accept": "application/activity+json"}) as response:
            assert (await response.json(content_type=None))["url"] == f"{a.base}/communities/wound-care"
        for profile in ("/@wound-care", "/users/wound-care"):
            async with http.get(a.base + profile, headers={"Accept": "text/html"}, allow_redirects=False) as response:
                assert (response.status, response.headers.get("Location")) == (302, "/communities/wound-care"), profile
        for profile in ("/@night-shift", "/users/night-shift"):
            async with http.get(a.base + profile, headers={"Accept": "text/html"}, allow_redirects=False) as response:
                assert response.status == 404, profile
        # And the federated one's page shows, with no join form nor composer, and no moderators' tools
        status, page = await _get(http, f"{a.base}/communities/wound-care")
        assert status == 200 and "Wound care" in page
        assert 'action="/communities/wound-care/join"' not in page and 'id="community-compose"' not in page
        assert 'id="moderation"' not in page and 'href="/auth/sign_in">Sign in to join' in page
        # When a user of the instance signs in, Then she sees both, and the institution-only one's page
        await sign_in(http, a.base, "alice")
        status, page = await _get(http, f"{a.base}/communities")
        assert status == 200 and "Wound care" in page and "Night shift huddle" in page
        status, page = await _get(http, f"{a.base}/communities/night-shift")
        assert status == 200 and "Night shift huddle" in page and "Institution only" in page
        # And its account's page, which a stranger's browser cannot open, opens for her session
        account = f"{a.base}/accounts/{night_shift.id}"
        assert 'id="community-account"' in page
        status, page = await _get(http, account)
        assert status == 200 and "Night shift huddle" in page
    async with browser_like() as http:
        status, _ = await _get(http, account)
        assert status in (303, 404)


async def test_without_public_pages_a_stranger_is_sent_to_sign_in(instances):
    a = await instances.start(web={"public_pages": "profiles"})
    await make_community(a, "wound-care")
    async with browser_like() as http:
        for path in ("/communities", "/communities/wound-care"):
            status, _ = await _get(http, f"{a.base}{path}")
            assert status == 303, path
        # and a link to the community's actor leads to its page, and so on to signing in
        async with http.get(f"{a.base}/users/wound-care", headers={"Accept": "text/html"}, allow_redirects=False) as response:
            assert (response.status, response.headers.get("Location")) == (302, "/communities/wound-care")


async def test_moderators_tools_refuse_anyone_else_and_want_the_form_token(instances):
    # Given an approval community moderated by alice, bob a member with a thread, carol asking to join
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    _, carol = await a.add_user("carol")
    _, group = await make_community(a, "wound-care", title="Wound care", join_policy=JoinPolicy.approval,
                                    moderators=("alice",))
    path = "/communities/wound-care"
    async with browser_like() as http:
        await sign_in(http, a.base, "bob")
        assert (await submit(http, a.base, f"{path}/join", token_from=path)).status == 303
        await sign_in(http, a.base, "carol")
        assert (await submit(http, a.base, f"{path}/join", token_from=path)).status == 303
    assert await _state(a, "bob", group) is FollowState.pending
    async with browser_like() as http:
        await sign_in(http, a.base, "alice")
        response = await submit(http, a.base, f"{path}/join_requests/{bob.id}/authorize", token_from=path)
        assert response.status == 303 and response.headers["Location"].startswith(path)
    assert await _state(a, "bob", group) is FollowState.accepted
    thread = await drafts.publish(a.fed, bob, Draft(text="@wound-care Foam or alginate?", visibility=Visibility.public))
    async with a.db.sessions() as session:
        assert [post.id for _, post in await queries.threads(session, group.id, _cursor())] == [thread.id]
    approvals = await _audited(a, "community.join.approve")

    # When bob, a member but no moderator, sends each moderator's form with a good token
    async with browser_like() as http:
        await sign_in(http, a.base, "bob")
        status, page = await _get(http, f"{a.base}{path}")
        assert 'id="moderation"' not in page and f'id="pin-{thread.id}"' not in page  # no tools shown
        for action, fields in (
                (f"/join_requests/{carol.id}/authorize", {}), (f"/join_requests/{carol.id}/reject", {}),
                (f"/members/{bob.id}/remove", {}), (f"/members/{bob.id}/ban", {}),
                (f"/threads/{thread.id}/pin", {}), (f"/threads/{thread.id}/remove", {}),
                ("/moderators", {"username": "bob"}), (f"/moderators/{(await a.actor('alice')).id}/remove", {})):
            response = await submit(http, a.base, path + action, token_from=path, **fields)
            # Then each is refused
            assert response.status == 403, action
    # And nothing changed
    assert await _state(a, "carol", group) is FollowState.pending
    assert await _state(a, "bob", group) is FollowState.accepted
    async with a.db.sessions() as session:
        assert [m.username for m in await queries.moderators(session, group.id)] == ["alice"]
        assert await session.scalar(select(func.count()).select_from(Pin).where(Pin.actor_id == group.id)) == 0
        assert [post.id for _, post in await queries.threads(session, group.id, _cursor())] == [thread.id]
    assert await _audited(a, "community.join.approve") == approvals

    # When alice, the moderator, approves carol without the form token, Then she is refused too
    async with browser_like() as http:
        await sign_in(http, a.base, "alice")
        async with http.post(f"{a.base}{path}/join_requests/{carol.id}/authorize", allow_redirects=False) as response:
            assert response.status == 403
        async with http.post(f"{a.base}{path}/join_requests/{carol.id}/authorize", allow_redirects=False,
                             data={"csrf_token": "forged"}) as response:
            assert response.status == 403
        assert await _state(a, "carol", group) is FollowState.pending
        # And with it, carol is in, and the approval is audited as alice's
        response = await submit(http, a.base, f"{path}/join_requests/{carol.id}/authorize", token_from=path)
        assert response.status == 303
        assert await _state(a, "carol", group) is FollowState.accepted
        assert await _audited(a, "community.join.approve") == approvals + 1
        # And a request that is not there is a 422 that writes nothing
        response = await submit(http, a.base, f"{path}/join_requests/{carol.id}/authorize", token_from=path)
        assert response.status == 422
        assert await _audited(a, "community.join.approve") == approvals + 1
        # And adding a moderator by a name nobody has is refused; by a user's name, done and audited
        assert (await submit(http, a.base, f"{path}/moderators", token_from=path, username="nobody")).status == 422
        assert (await submit(http, a.base, f"{path}/moderators", token_from=path, username="carol")).status == 303
        async with a.db.sessions() as session:
            assert [m.username for m in await queries.moderators(session, group.id)] == ["alice", "carol"]
        async with a.db.sessions() as session:
            entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "community.moderator.add"))
            assert entry.actor == "web:alice"


async def test_creating_is_for_staff_unless_the_setting_says_users(instances):
    a = await instances.start()
    await a.add_user("root", admin=True)
    await a.add_user("bob")
    async with browser_like() as http:
        # Given bob, no staff: no create form, and a POST is refused and makes nothing
        await sign_in(http, a.base, "bob")
        status, page = await _get(http, f"{a.base}/communities")
        assert status == 200 and 'id="create-community"' not in page
        response = await submit(http, a.base, "/communities", token_from="/communities", name="wound-care")
        assert response.status == 403
        assert (await _get(http, f"{a.base}/communities/wound-care"))[0] == 404
    async with browser_like() as http:
        # When an admin creates one with a bad name, Then it is refused with the reason and the text kept
        await sign_in(http, a.base, "root")
        token = await page_token(http, f"{a.base}/communities")
        async with http.post(f"{a.base}/communities", allow_redirects=False,
                             data={"csrf_token": token, "name": "bad-", "title": "Kept title"}) as response:
            page = await response.text()
            assert response.status == 422
            assert 'id="create-error"' in page and 'value="Kept title"' in page
        # And a good one is made, moderated by her, institution-only as asked, audited as made on the web
        async with http.post(f"{a.base}/communities", allow_redirects=False, data={
                "csrf_token": token, "name": "Night-Shift", "title": "Night shift", "summary": "Handover at 7",
                "rules": "No patient data\n\nBe kind\n", "join_policy": "approval", "posting": "moderators",
                "institution_only": "true"}) as response:
            assert response.status == 303 and response.headers["Location"] == "/communities/night-shift"
        status, page = await _get(http, f"{a.base}/communities/night-shift")
        assert status == 200 and "Handover at 7" in page and "Be kind" in page
    async with a.db.sessions() as session:
        entry = await session.scalar(select(AuditEntry).where(AuditEntry.action == "community.create"))
        assert entry.actor == "web:root" and entry.after["local_only"] is True
        assert entry.after["join_policy"] == "approval" and entry.after["posting"] == "moderators"
        assert entry.after["rules"] == ["No patient data", "Be kind"]
    b = await instances.start("b", communities={"creators": "users"})
    await b.add_user("bob")
    async with browser_like() as http:
        await sign_in(http, b.base, "bob")
        assert 'id="create-community"' in (await _get(http, f"{b.base}/communities"))[1]
        response = await submit(http, b.base, "/communities", token_from="/communities", name="wound-care")
        assert response.status == 303


async def test_joining_leaving_and_the_posting_rule(instances):
    # Given an open community, and an announcement channel where only moderators post
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    _, open_group = await make_community(a, "wound-care", title="Wound care", moderators=("alice",))
    await make_community(a, "news", title="News", posting=PostingPolicy.moderators, moderators=("alice",))
    async with browser_like() as http:
        await sign_in(http, a.base, "bob")
        # When bob posts to the open community before joining, Then he is refused and nothing is posted
        response = await submit(http, a.base, "/communities/wound-care/posts", token_from="/communities/wound-care",
                                status="Hello before joining")
        assert response.status == 403
        # When he joins from the directory, Then he is back there, a member
        response = await submit(http, a.base, "/communities/wound-care/join", token_from="/communities",
                                return_to="/communities")
        assert response.status == 303 and response.headers["Location"] == "/communities"
        assert await _state(a, "bob", open_group) is FollowState.accepted
        status, page = await _get(http, f"{a.base}/communities")
        assert 'id="member-wound-care"' in page and 'id="leave-wound-care"' in page
        # And his post (the text needs no mention: the page adds it) is one of its threads
        response = await submit(http, a.base, "/communities/wound-care/posts", token_from="/communities/wound-care",
                                status="Heel pressure ulcers: which foam?")
        assert response.status == 303
        status, page = await _get(http, f"{a.base}/communities/wound-care")
        assert "Heel pressure ulcers: which foam?" in page and "Hello before joining" not in page
        async with a.db.sessions() as session:
            assert len(await queries.threads(session, open_group.id, _cursor())) == 1
        # When he joins the announcement channel, Then its page has no composer, and a post is refused
        assert (await submit(http, a.base, "/communities/news/join", token_from="/communities/news")).status == 303
        status, page = await _get(http, f"{a.base}/communities/news")
        assert 'id="community-compose"' not in page and 'id="may-not-post"' in page
        response = await submit(http, a.base, "/communities/news/posts", token_from="/communities/news",
                                status="Not a moderator")
        assert response.status == 403
        # When he leaves, Then he is no member
        response = await submit(http, a.base, "/communities/wound-care/leave", token_from="/communities/wound-care")
        assert response.status == 303
        assert await _state(a, "bob", open_group) not in (FollowState.accepted, FollowState.pending)
    async with browser_like() as http:
        await sign_in(http, a.base, "alice")  # the moderator posts to the channel
        response = await submit(http, a.base, "/communities/news/posts", token_from="/communities/news",
                                status="Audit on Monday")
        assert response.status == 303
        assert "Audit on Monday" in (await _get(http, f"{a.base}/communities/news"))[1]
