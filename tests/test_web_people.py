"""The people pages over plain HTTP: profiles (local and remote) with their posts and follows,
following and unfollowing through the client API's own calls (a remote account on a second
real instance), notifications with follow requests and the unread count, and search."""

from __future__ import annotations

import re
from urllib.parse import quote

from sqlalchemy import select

from federation.outbox import drafts, relations
from federation.social.compose import Draft
from storage import notifications as stored_notifications
from storage.models import Actor, Follow, FollowState, NotificationType, Visibility
from server.web.timelines import PAGE_SIZE
from tests.api_helpers import token_for
from tests.instances import settle
from tests.web_helpers import browser_like, sign_in, submit


async def _text(http, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


async def _json(http, url: str, headers: dict[str, str]):
    async with http.get(url, headers=headers) as response:
        assert response.status == 200, (url, response.status)
        return await response.json()


def _status_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="status-(\d+)"', html)]


def _unread(html: str) -> str | None:
    found = re.search(r'<span class="badge" id="unread-count">([^<]+)</span>', html)
    return found.group(1) if found else None


async def _follows(instance) -> list[tuple[int, int, FollowState]]:
    async with instance.db.sessions() as session:
        return [(row.follower_id, row.followee_id, row.state) for row in await session.scalars(select(Follow))]


async def test_people_pages_send_strangers_to_sign_in_and_their_forms_change_nothing(instances, http):
    # Given bob, and a browser with a form token but no session
    a = await instances.start()
    _, bob = await a.add_user("bob")
    token = await token_for(a, "carol")
    for path in (f"/accounts/{bob.id}", f"/accounts/{bob.id}/followers", f"/accounts/{bob.id}/following",
                 "/notifications", "/search?q=bob"):
        # When a stranger opens a people page, even with an API token, Then she is sent to sign in
        async with http.get(f"{a.base}{path}", headers=token, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in", path
    async with browser_like() as browser:
        for action in (f"/accounts/{bob.id}/follow", f"/accounts/{bob.id}/unfollow",
                       f"/follow_requests/{bob.id}/authorize"):
            response = await submit(browser, a.base, action, token_from="/auth/sign_in")
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in", action
    # And nothing was followed
    assert await _follows(a) == []


async def test_a_profile_shows_the_account_its_posts_paged_and_only_what_the_reader_may_see(instances, http):
    # Given bob with a bio, a field, a page and two more of public posts, and one for his followers only
    a = await instances.start()
    await a.add_user("alice")
    bob_token = await token_for(a, "bob")
    async with http.patch(f"{a.base}/api/v1/accounts/update_credentials", headers=bob_token, data={
            "display_name": "Dr Bob", "note": "Infection control <nurse>",
            "fields_attributes[0][name]": "Ward", "fields_attributes[0][value]": "ICU <b>4</b>"}) as response:
        assert response.status == 200
    bob = await a.actor("bob")
    for n in range(PAGE_SIZE + 2):
        await drafts.publish(a.fed, bob, Draft(text=f"Round note {n}"))
    await drafts.publish(a.fed, bob, Draft(text="for my followers", visibility=Visibility.private))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When alice opens his profile
        status, page = await _text(browser, f"{a.base}/accounts/{bob.id}")
        # Then she sees his name, handle, bio (escaped as he typed it), field and counts
        assert status == 200
        assert '<h1 id="profile-name">Dr Bob</h1>' in page
        assert f"@bob@{a.urls.authority}" in page
        assert "Infection control &lt;nurse&gt;" in page and "<nurse>" not in page
        assert "<dt>Ward</dt><dd>ICU &lt;b&gt;4&lt;/b&gt;</dd>" in page
        assert f'<strong id="count-posts">{PAGE_SIZE + 3}</strong>' in page
        assert '<strong id="count-followers">0</strong>' in page
        # And a page of his newest public posts, not the one for his followers, with a link to older ones
        newest = _status_ids(page)
        assert len(newest) == PAGE_SIZE and "for my followers" not in page and f"Round note {PAGE_SIZE + 1}" in page
        older = re.search(r'href="([^"]+)" rel="next" id="older"', page).group(1).replace("&amp;", "&")
        _, second = await _text(browser, f"{a.base}{older}")
        assert len(_status_ids(second)) == 2 and "Round note 0" in second and max(_status_ids(second)) < min(newest)
        # And the posts' authors link to the profile page, the follow button posts to the follow form
        assert f'href="/accounts/{bob.id}">Dr Bob</a>' in page
        assert f'action="/accounts/{bob.id}/follow"' in page
        # And her own profile has no follow button
        alice = await a.actor("alice")
        _, own = await _text(browser, f"{a.base}/accounts/{alice.id}")
        assert 'id="follow"' not in own and 'id="relationship"' not in own
        # And an account that is not there is a 404
        status, _ = await _text(browser, f"{a.base}/accounts/99999999999999999999")
        assert status == 404


async def test_follow_a_remote_account_found_by_its_handle_then_unfollow(instances, http):
    # Given alice on A, and bob on B whom A has never heard of
    a, b = await instances.start("a"), await instances.start("b")
    _, alice = await a.add_user("alice")
    bob_on_b = await token_for(b, "bob")
    await drafts.publish(b.fed, await b.actor("bob"), Draft(text="Checklists before every central line"))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When she searches for his handle (the form resolves it over federation)
        handle = f"@bob@{b.urls.authority}"
        status, page = await _text(browser, f"{a.base}/search?q={quote(handle)}&resolve=true")
        # Then the result links to his profile page here
        assert status == 200
        bob_id = re.search(r'<a class="author" href="/accounts/(\d+)">bob</a>', page).group(1)
        # And his pictures, served by B, are not loaded from there: the page shows its own
        async with a.db.sessions.begin() as session:
            stored = await session.get(Actor, int(bob_id))
            stored.avatar_url, stored.header_url = f"{b.base}/media/bob.png", f"{b.base}/media/ward.png"
        _, profile = await _text(browser, f"{a.base}/accounts/{bob_id}")
        images = re.findall(r'<img [^>]*src="([^"]+)"', profile)
        assert images == ["/static/header.png", "/static/avatar.png"]
        # When she follows him from his profile
        assert f"@bob@{b.urls.authority}" in profile and 'id="follow"' in profile
        response = await submit(browser, a.base, f"/accounts/{bob_id}/follow", token_from=f"/accounts/{bob_id}")
        assert response.status == 303 and response.headers["Location"] == f"/accounts/{bob_id}"
        # Then the profile says it is requested until B answers, and offers to cancel
        _, profile = await _text(browser, f"{a.base}/accounts/{bob_id}")
        assert 'id="requested"' in profile and "Cancel request" in profile
        await settle(a, b)
        # And once B accepted: following, with an Unfollow button, and bob in her following page
        _, profile = await _text(browser, f"{a.base}/accounts/{bob_id}")
        assert 'id="requested"' not in profile and '<button type="submit" id="unfollow">Unfollow</button>' in profile
        _, following = await _text(browser, f"{a.base}/accounts/{alice.id}/following")
        assert f'href="/accounts/{bob_id}">bob</a>' in following
        # And B lists alice among bob's followers: the follow went through the federation call
        bob_local = (await b.actor("bob")).id
        followers = await _json(http, f"{b.base}/api/v1/accounts/{bob_local}/followers", bob_on_b)
        assert [x["acct"] for x in followers] == [f"alice@{a.urls.authority}"]
        # When she unfollows him
        response = await submit(browser, a.base, f"/accounts/{bob_id}/unfollow", token_from=f"/accounts/{bob_id}")
        assert response.status == 303
        await settle(a, b)
        # Then the follow is undone on both instances
        _, profile = await _text(browser, f"{a.base}/accounts/{bob_id}")
        assert 'id="follow"' in profile
        assert await _json(http, f"{b.base}/api/v1/accounts/{bob_local}/followers", bob_on_b) == []


async def test_a_pending_request_can_be_cancelled_and_one_cannot_follow_oneself(instances, http):
    # Given carol, who approves each follower, and alice signed in
    a = await instances.start()
    _, alice = await a.add_user("alice")
    carol_token = await token_for(a, "carol")
    async with http.patch(f"{a.base}/api/v1/accounts/update_credentials", headers=carol_token,
                          data={"locked": "true"}) as response:
        assert response.status == 200
    carol = await a.actor("carol")
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When alice asks to follow her, Then it is requested
        await submit(browser, a.base, f"/accounts/{carol.id}/follow", token_from=f"/accounts/{carol.id}")
        _, profile = await _text(browser, f"{a.base}/accounts/{carol.id}")
        assert 'id="locked"' in profile and 'id="requested"' in profile
        assert await _follows(a) == [(alice.id, carol.id, FollowState.pending)]
        # When she cancels the request, Then carol has no request left
        await submit(browser, a.base, f"/accounts/{carol.id}/unfollow", token_from=f"/accounts/{carol.id}")
        assert await _json(http, f"{a.base}/api/v1/follow_requests", carol_token) == []
        _, profile = await _text(browser, f"{a.base}/accounts/{carol.id}")
        assert 'id="follow"' in profile
        # And following herself is refused, with the reason on her profile
        response = await submit(browser, a.base, f"/accounts/{alice.id}/follow", token_from="/home")
        assert response.status == 403
        assert [state for *_, state in await _follows(a)] == [FollowState.undone]


async def test_notifications_answer_follow_requests_and_move_the_marker(instances, http):
    # Given carol approves each follower; alice and dave ask to follow her; bob mentions her
    a = await instances.start()
    _, alice = await a.add_user("alice")
    _, dave = await a.add_user("dave")
    _, bob = await a.add_user("bob")
    _, eve = await a.add_user("eve")
    carol_token = await token_for(a, "carol")
    async with http.patch(f"{a.base}/api/v1/accounts/update_credentials", headers=carol_token,
                          data={"locked": "true"}) as response:
        assert response.status == 200
    carol = await a.actor("carol")
    for follower in (alice, dave):
        async with a.fed.transaction() as session:
            await relations.follow(a.fed, session, follower, carol)
    await drafts.publish(a.fed, bob, Draft(text="@carol which lines need a chlorhexidine dressing?"))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "carol")
        # Then every signed-in page shows three unread notifications
        _, home = await _text(browser, f"{a.base}/home")
        assert _unread(home) == "3"
        # When she opens her notifications
        status, page = await _text(browser, f"{a.base}/notifications")
        assert status == 200
        # Then she sees the mention with its post, and both requests with accept and reject buttons
        assert page.count('data-type="follow_request"') == 2 and 'data-type="mention"' in page
        assert "chlorhexidine dressing" in page
        assert f'id="authorize-{alice.id}"' in page and f'id="reject-{dave.id}"' in page
        # And having seen them, nothing is unread: the page moved the notifications marker
        assert _unread(page) is None
        newest = re.search(r'id="notification-(\d+)"', page).group(1)
        markers = await _json(http, f"{a.base}/api/v1/markers?timeline[]=notifications", carol_token)
        assert markers["notifications"]["last_read_id"] == newest
        _, home = await _text(browser, f"{a.base}/home")
        assert _unread(home) is None
        # When she accepts alice and rejects dave
        for action in (f"/follow_requests/{alice.id}/authorize", f"/follow_requests/{dave.id}/reject"):
            response = await submit(browser, a.base, action, token_from="/notifications")
            assert response.status == 303 and response.headers["Location"] == "/notifications"
        # Then alice follows her, dave does not, and the buttons are gone
        states = {follower: state for follower, _, state in await _follows(a)}
        assert states == {alice.id: FollowState.accepted, dave.id: FollowState.rejected}
        _, page = await _text(browser, f"{a.base}/notifications")
        assert 'id="authorize-' not in page and 'id="reject-' not in page
        # And the mentions tab shows the mention alone
        _, mentions = await _text(browser, f"{a.base}/notifications?types%5B%5D=mention")
        assert re.findall(r'data-type="(\w+)"', mentions) == ["mention"]
        # When bob mentions her again, Then one is unread
        await drafts.publish(a.fed, bob, Draft(text="@carol and for PICC lines?"))
        _, home = await _text(browser, f"{a.base}/home")
        assert _unread(home) == "1"
        # And when eve then asks to follow her, viewing the mentions alone marks neither as seen
        async with a.fed.transaction() as session:
            await relations.follow(a.fed, session, eve, carol)
        _, home = await _text(browser, f"{a.base}/home")
        assert _unread(home) == "2"
        _, mentions = await _text(browser, f"{a.base}/notifications?types%5B%5D=mention")
        assert "PICC lines" in mentions
        _, home = await _text(browser, f"{a.base}/home")
        assert _unread(home) == "2"


async def test_the_unread_count_shows_99_plus_above_99(instances):
    # Given 99 notifications for alice, from bob
    a = await instances.start()
    _, alice = await a.add_user("alice")
    _, bob = await a.add_user("bob")

    async def notify(count: int) -> None:
        async with a.db.sessions.begin() as session:
            for _ in range(count):
                await stored_notifications.add_notification(session, alice.id, NotificationType.follow, bob.id,
                                                            None, a.clock.now())

    await notify(99)
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # Then the navigation counts 99
        _, page = await _text(browser, f"{a.base}/home")
        assert _unread(page) == "99"
        # When one more arrives, Then it shows 99+
        await notify(1)
        _, page = await _text(browser, f"{a.base}/home")
        assert _unread(page) == "99+"
        # And the notifications page shows a page at a time, older ones a page away
        _, page = await _text(browser, f"{a.base}/notifications")
        assert page.count('class="notification"') == PAGE_SIZE and 'id="older"' in page and _unread(page) is None
        # And reading an older page leaves the marker at the newest: nothing turns unread again
        older = re.search(r'href="([^"]+)" rel="next" id="older"', page).group(1).replace("&amp;", "&")
        _, page = await _text(browser, f"{a.base}{older}")
        assert page.count('class="notification"') == min(PAGE_SIZE, 100 - PAGE_SIZE)
        _, page = await _text(browser, f"{a.base}/home")
        assert _unread(page) is None


async def test_search_finds_accounts_posts_and_hashtags_she_may_see(instances):
    # Given bob's public post with a hashtag, and his followers-only one
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    await drafts.publish(a.fed, bob, Draft(text="Hand hygiene audit results #handhygiene"))
    await drafts.publish(a.fed, bob, Draft(text="Hand hygiene, privately", visibility=Visibility.private))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When alice searches
        _, page = await _text(browser, f"{a.base}/search?q=hand&resolve=true")
        # Then the public post is found, not the private one
        assert "Hand hygiene audit results" in page and "privately" not in page
        _, page = await _text(browser, f"{a.base}/search?q=handhy")
        assert '<a href="/tags/handhygiene">#handhygiene</a>' in page
        _, page = await _text(browser, f"{a.base}/search?q=bob")
        assert f'<a class="author" href="/accounts/{bob.id}">bob</a>' in page
        # And the search form sends the client API's parameters
        _, page = await _text(browser, f"{a.base}/search")
        assert 'name="q"' in page and '<input type="hidden" name="resolve" value="true">' in page
        # And a bad parameter is said, not a crash
        status, page = await _text(browser, f"{a.base}/search?q=x&type=people")
        assert status == 400 and 'id="search-error"' in page
