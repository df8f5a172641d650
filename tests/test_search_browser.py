"""Search and institution-only posts in a real headless Chromium: a practitioner posts for her
institution only from the compose form (the post says so, and never leaves), then finds posts by
a word of their body and narrows them with the search page's filters; in French too."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import select

from federation.outbox import drafts
from federation.social.compose import Draft
from storage.models import Object
from tests.browser import axe_violations, chromium, expect, watch_csp
from tests.test_people_browser import _sign_in


async def test_post_for_the_institution_then_search_and_filter(instances, tmp_path):
    a = await instances.start("a")
    await a.add_user("alice")
    _, bob = await a.add_user("bob")
    a.clock._now = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    older = await drafts.publish(a.fed, bob, Draft(text="Protocole de pédiatrie, version de mars"))
    a.clock.advance(days=10)
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base, "alice")
        # When alice posts for her institution only
        await page.fill("#status", "Pédiatrie : astreinte du week-end, interne seulement")
        await page.check("#local-only")
        await page.click("#post")
        # Then her post says so, and it is institution-only
        assert await page.locator(".local-only").first.inner_text() == "Institution only"
        async with a.db.sessions() as session:
            mine = await session.scalar(select(Object).where(Object.content.contains("astreinte")))
        assert mine.local_only is True
        # When she searches for a word of both posts' bodies, without its accent
        await page.click("#nav-search")
        await page.fill("#q", "pediatrie")
        await page.click("#search-submit")
        # Then she finds both, hers marked institution-only
        posts = page.locator("#found-posts .timeline > li")
        await expect(posts).to_have_count(2)
        texts = await posts.all_inner_texts()
        assert any("astreinte" in t and "Institution only" in t for t in texts) and any("mars" in t for t in texts)
        assert await axe_violations(page) == []
        await page.screenshot(path=tmp_path / "search-results.png", full_page=True)
        # When she narrows by author and date with the filters
        await page.click("#search-filters summary")
        await page.fill("#filter-from", "bob")
        await page.fill("#filter-before", "2026-03-05")
        await page.click("#search-submit")
        # Then only bob's older post is left, and the query shows the operators used
        await expect(posts).to_have_count(1)
        assert "mars" in await posts.nth(0).inner_text()
        assert await page.input_value("#q") == "pediatrie from:bob before:2026-03-05"
        # And a bad date typed into the query is refused with a message
        await page.fill("#q", "pediatrie before:hier")
        await page.click("#search-submit")
        assert "before:" in await page.inner_text("#search-error")
        # And the community and articles filters are written in as operators too
        await page.fill("#q", "pediatrie")
        await page.click("#search-filters summary")
        await page.fill("#filter-community", "icu")
        await page.check("#filter-articles")
        await page.click("#search-submit")
        assert await page.input_value("#q") == "pediatrie community:icu is:article"
        await expect(posts).to_have_count(0)
        # And in French the filters speak French
        await page.set_extra_http_headers({"Accept-Language": "fr"})
        await page.goto(f"{a.base}/search?q=pediatrie")
        assert await page.inner_text("#search-filters summary") == "Filtrer les publications"
        assert await axe_violations(page) == []
    assert violations == []
    assert older.local_only is False
