"""[web] public_pages: which HTML pages anyone may see. Followers-only and direct posts never."""

from __future__ import annotations

import pytest

from federation.outbox import actions
from storage.models import Visibility
from tests.browser import chromium


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
