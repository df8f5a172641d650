"""The signed-in practitioner's pages over plain HTTP: timelines with paging, the compose form
(the client API's parameters, the outbox's call), and a post with its thread."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from federation.outbox import drafts
from federation.social.compose import Draft
from server.web.timelines import PAGE_SIZE
from storage.models import Object, Visibility
from tests.api_helpers import token_for
from tests.handler_helpers import start_scene
from tests.web_helpers import browser_like, page_token, post_form, sign_in


async def _text(http, url: str) -> tuple[int, str]:
    async with http.get(url, allow_redirects=False) as response:
        return response.status, await response.text()


def _status_ids(html: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="status-(\d+)"', html)]


async def test_signed_in_pages_send_strangers_to_the_sign_in_form(instances, http):
    a = await instances.start()
    token = await token_for(a, "alice")
    for path in ("/home", "/local", "/federated", "/posts/1"):
        # Without a session, even with a valid API token, a signed-in page is a redirect to sign in
        async with http.get(f"{a.base}{path}", headers=token, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in", path


async def test_a_stranger_with_a_form_token_posts_nothing(instances):
    # Given a browser with a valid form token but no session
    a = await instances.start()
    async with browser_like() as browser:
        token = await page_token(browser, f"{a.base}/auth/sign_in")
        async with browser.post(f"{a.base}/posts", data={"csrf_token": token, "status": "who am I"},
                                allow_redirects=False) as response:
            # Then the compose form's POST sends it to sign in, and nothing is posted
            assert response.status == 303 and response.headers["Location"] == "/auth/sign_in"
    assert await a.db.read(lambda session: session.scalar(select(func.count()).select_from(Object))) == 0


async def test_posting_with_a_content_warning_shows_in_home_and_in_the_api(instances, http):
    # Given alice signed in
    a = await instances.start()
    token = await token_for(a, "alice")
    async with browser_like() as browser:
        assert (await sign_in(browser, a.base, "alice")).status == 303
        # When she posts from the home page's form, followers only, behind a content warning
        response = await post_form(browser, a.base, "/home", status="Handover notes for ward 4",
                                   spoiler_text="Patient details", visibility="private")
        assert response.status == 303 and response.headers["Location"] == "/home"
        # Then her home shows it, the text folded under the warning
        status, page = await _text(browser, f"{a.base}/home")
        assert status == 200
        assert re.search(r'<summary class="spoiler">Patient details</summary>\s*<div class="content"><p>Handover notes',
                         page)
    # And the client API sees the same post: the form's parameters meant what they mean there
    async with http.get(f"{a.base}/api/v1/timelines/home", headers=token) as response:
        [entity] = await response.json()
    assert entity["spoiler_text"] == "Patient details" and entity["visibility"] == "private"
    assert "Handover notes for ward 4" in entity["content"]


async def test_a_form_submitted_twice_posts_once_and_a_refusal_keeps_the_text(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        async with browser.get(f"{a.base}/home") as response:
            html = await response.text()
        data = {"csrf_token": re.search(r'name="csrf_token" value="([^"]+)"', html).group(1),
                "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', html).group(1),
                "status": "once"}
        for _ in range(2):
            async with browser.post(f"{a.base}/posts", data=data, allow_redirects=False) as response:
                assert response.status == 303
        assert len(_status_ids((await _text(browser, f"{a.base}/home"))[1])) == 1
        # When she posts no text, Then the form comes back with the reason and her warning kept
        response = await post_form(browser, a.base, "/home", status="  ", spoiler_text="kept")
        assert response.status == 422
        async with browser.post(f"{a.base}/posts", data={**data, "status": "", "spoiler_text": "kept",
                                                          "idempotency_key": "new"}) as response:
            page = await response.text()
            assert response.status == 422
        assert "Text can&#39;t be blank" in page and 'value="kept"' in page


async def test_timelines_page_older_and_newer(instances):
    # Given a page and 5 more of local posts by bob, and alice signed in
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    for n in range(PAGE_SIZE + 5):
        await drafts.publish(a.fed, bob, Draft(text=f"post {n}", visibility=Visibility.public))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        for timeline in ("local", "federated"):
            # When she opens the timeline, Then it shows the newest page (40) and a link to older posts
            status, first = await _text(browser, f"{a.base}/{timeline}")
            assert status == 200
            newest = _status_ids(first)
            assert len(newest) == PAGE_SIZE == 40 and newest == sorted(newest, reverse=True)
            assert 'id="newer"' not in first
            older_link = re.search(r'href="([^"]+)" rel="next" id="older"', first).group(1)
            # And the older page holds the 5 others, and links back to newer posts
            _, second = await _text(browser, f"{a.base}{older_link.replace('&amp;', '&')}")
            older = _status_ids(second)
            assert len(older) == 5 and max(older) < min(newest) and 'id="older"' not in second
            newer_link = re.search(r'href="([^"]+)" rel="prev" id="newer"', second).group(1)
            _, back = await _text(browser, f"{a.base}{newer_link}")
            assert _status_ids(back) == newest
        assert f"post {PAGE_SIZE + 4}" in first and "post 0" in second


async def test_a_reply_from_the_post_page_joins_its_thread(instances):
    # Given bob's post, and alice signed in
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    parent = await drafts.publish(a.fed, bob, Draft(text="Which dressing for a stage 2 ulcer?"))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        # When she replies from its page
        response = await post_form(browser, a.base, f"/posts/{parent.id}", status="Hydrocolloid, changed every 3 days")
        assert response.status == 303 and response.headers["Location"] == f"/posts/{parent.id}"
        # Then the page shows the post and her reply beneath it
        status, page = await _text(browser, f"{a.base}/posts/{parent.id}")
        assert status == 200
        focus, replies = page.index('id="focus"'), page.index('id="replies"')
        assert focus < page.index("stage 2 ulcer") < replies < page.index("Hydrocolloid")
        # And the reply's own page shows its parent above it
        reply_id = [i for i in _status_ids(page) if i != parent.id][0]
        _, page = await _text(browser, f"{a.base}/posts/{reply_id}")
        assert page.index('id="ancestors"') < page.index("stage 2 ulcer") < page.index('id="focus"')


async def test_a_post_page_shows_only_what_the_reader_may_see(instances):
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    secret = await drafts.publish(a.fed, bob, Draft(text="for my followers", visibility=Visibility.private))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        status, page = await _text(browser, f"{a.base}/posts/{secret.id}")
        assert status == 404 and "for my followers" not in page
        assert (await _text(browser, f"{a.base}/posts/nonsense"))[0] == 404


async def test_a_hashtag_link_in_a_post_opens_the_tags_timeline(instances):
    # Given posts by bob, one with #sepsis
    a = await instances.start()
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    await drafts.publish(a.fed, bob, Draft(text="Lactate first #Sepsis"))
    await drafts.publish(a.fed, bob, Draft(text="Nothing tagged"))
    async with browser_like() as browser:
        await sign_in(browser, a.base, "alice")
        _, local = await _text(browser, f"{a.base}/local")
        # When alice follows the hashtag's link in the post
        link = re.search(r'href="([^"]+)"[^>]*>#<span>Sepsis</span>', local) or re.search(
            r'href="([^"]+/tags/sepsis)"', local)
        assert link, "the post links its hashtag"
        status, page = await _text(browser, link.group(1))
        # Then the tag's page shows the tagged post only
        assert status == 200 and "<h1 id=\"timeline-title\">#sepsis</h1>" in page
        assert "Lactate first" in page and "Nothing tagged" not in page


async def test_a_peers_image_is_a_link_to_it_not_an_image_the_page_policy_would_block(instances, http):
    # Given a public post from a peer with an image, described
    async with start_scene(instances, http) as scene:
        await scene.a.add_user("bob")
        image = {"type": "Document", "mediaType": "image/png", "url": f"{scene.peer.base}/media/chart.png",
                 "name": "A turning chart"}
        await scene.send("zed", "Create", scene.note("zed", "1", content="<p>Our chart</p>", attachment=[image]))
        await scene.run()
        async with browser_like() as browser:
            await sign_in(browser, scene.a.base, "bob")
            # When bob reads the federated timeline
            async with browser.get(f"{scene.a.base}/federated") as response:
                page = await response.text()
        # Then the image is a link to where it lives, with its description, and no <img> from there
        assert "Our chart" in page
        assert f'<img src="{scene.peer.base}' not in page
        assert f'<a href="{scene.peer.base}/media/chart.png" rel="noopener noreferrer">Image on another server</a>: ' \
               "A turning chart" in page
