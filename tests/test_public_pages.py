"""[web] public_pages: which HTML pages anyone may see. Followers-only and direct posts never."""

from __future__ import annotations

import pytest

from federation.admin import users
from federation.outbox import actions
from storage.models import Visibility
from tests.browser import chromium
from tests.web_helpers import browser_like, sign_in


async def _posts(a):
    made = {}
    async with a.db.sessions.begin() as session:
        alice = await a.actor("alice")
        for visibility in Visibility:
            made[visibility] = await actions.post(a.fed, session, alice, content=f"<p>{visibility.value} note</p>",
                                                 visibility=visibility)
    return made


@pytest.mark.parametrize(
    ("mode", "setting", "profile", "public_post"),
    [("allowlist", "", 404, 404), ("allowlist", "profiles", 200, 404), ("allowlist", "all", 200, 200),
     ("open", "", 200, 200)],
)
async def test_public_pages_setting(instances, http, mode, setting, profile, public_post):
    a = await instances.start(federation={"mode": mode}, web={"public_pages": setting})
    await a.add_user("alice")
    posts = await _posts(a)
    html = {"Accept": "text/html"}
    async with http.get(f"{a.base}/about") as r:
        assert r.status == 200
    for url in (f"{a.base}/@alice", f"{a.base}/users/alice"):
        async with http.get(url, headers=html) as r:
            assert r.status == profile, url
    async with http.get(posts[Visibility.public].url) as r:
        assert r.status == public_post
        if public_post == 200:
            assert "public note" in await r.text()
    for visibility in (Visibility.unlisted, Visibility.private, Visibility.direct):
        async with http.get(posts[visibility].url) as r:
            assert r.status == 404, visibility
            assert f"{visibility.value} note" not in await r.text()


async def test_profile_lists_only_public_posts_in_a_browser(instances):
    a = await instances.start(web={"public_pages": "all"})
    await a.add_user("alice")
    posts = await _posts(a)
    async with chromium() as browser:
        page = await browser.new_page()
        await page.goto(f"{a.base}/@alice")
        shown = await page.inner_text("#posts")
        assert "public note" in shown
        assert "private note" not in shown and "direct note" not in shown and "unlisted note" not in shown
        await page.click("#posts a.u-url")
        assert page.url == posts[Visibility.public].url
        assert "public note" in await page.inner_text("#post .e-content")


@pytest.mark.parametrize(("setting", "stranger"), [("all", 200), ("profiles", 303), ("off", 303)])
async def test_a_hashtag_page_is_public_only_when_all_public_pages_are(instances, http, setting, stranger):
    # Given alice's public, unlisted and followers-only posts tagged #handover
    a = await instances.start(web={"public_pages": setting})
    await a.add_user("alice")
    await a.add_user("bob")
    async with a.db.sessions.begin() as session:
        alice = await a.actor("alice")
        for visibility in (Visibility.public, Visibility.unlisted, Visibility.private):
            await actions.post(a.fed, session, alice, content=f"<p>{visibility.value} #handover note</p>",
                               visibility=visibility, tags=["handover"])
    # When a stranger opens /tags/handover
    async with http.get(f"{a.base}/tags/Handover", allow_redirects=False) as r:
        # Then at "all" she sees the public post alone; otherwise she is sent to sign in
        assert r.status == stranger
        page = await r.text()
    if stranger == 200:
        assert "public #handover note" in page
        assert "unlisted" not in page and "private" not in page
    else:
        assert r.headers["Location"] == "/auth/sign_in" and "handover note" not in page
    # And a signed-in practitioner sees the tag's timeline whatever the setting
    async with browser_like() as browser:
        await sign_in(browser, a.base, "bob")
        async with browser.get(f"{a.base}/tags/handover") as r:
            assert r.status == 200 and "public #handover note" in await r.text()


async def test_public_pages_carry_opengraph_an_activitypub_link_and_noindex(instances, http):
    # Given public pages on, and alice's public post behind a content warning
    a = await instances.start(web={"public_pages": "all"})
    await a.add_user("alice")
    async with a.db.sessions.begin() as session:
        alice = await a.actor("alice")
        post = await actions.post(a.fed, session, alice, content="<p>Checklist for <b>handover</b></p>",
                                  visibility=Visibility.public)
    # When a link preview fetches her profile and her post
    async with http.get(f"{a.base}/@alice") as r:
        profile = await r.text()
    async with http.get(post.url) as r:
        page = await r.text()
    # Then each names itself to OpenGraph and links its ActivityPub document
    assert '<meta property="og:type" content="profile">' in profile
    assert f'<meta property="og:url" content="{a.base}/@alice">' in profile
    assert f'<link rel="alternate" type="application/activity+json" href="{alice.uri}">' in profile
    assert '<meta property="og:type" content="article">' in page
    assert '<meta property="og:description" content="Checklist for handover">' in page
    assert f'<link rel="alternate" type="application/activity+json" href="{post.uri}">' in page
    # And asks search engines to keep out, by default
    assert '<meta name="robots" content="noindex, nofollow">' in profile + page
    b = await instances.start("b", web={"public_pages": "all", "noindex": False})
    await b.add_user("carol")
    async with http.get(f"{b.base}/@carol") as r:
        assert 'name="robots"' not in await r.text()


async def test_a_disabled_accounts_pages_are_gone(instances, http):
    # Given public pages on, and alice's profile and public post
    a = await instances.start(web={"public_pages": "all"})
    await a.add_user("alice")
    posts = await _posts(a)
    for url in (f"{a.base}/@alice", posts[Visibility.public].url):
        async with http.get(url) as r:
            assert r.status == 200
    # When an admin disables her account
    async with a.db.sessions.begin() as session:
        await users.set_disabled(session, "alice", True, by="root", at=a.clock.now())
    # Then her profile and her post are no longer shown
    for url in (f"{a.base}/@alice", posts[Visibility.public].url):
        async with http.get(url) as r:
            assert r.status == 404 and "public note" not in await r.text(), url
