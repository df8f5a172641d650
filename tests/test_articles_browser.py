"""Articles' pages in a real headless Chromium: a practitioner writes an article in Markdown,
previews it (rendered by the server, its script shown as text), submits it to a community that
reviews articles; a moderator approves it; the author revises it with a change note; readers see
"revised on ..., version 2", "validated by", the versions and a diff. No CSP violation, no
serious accessibility problem."""

from __future__ import annotations

import re

from tests.browser import axe_violations, chromium, expect, watch_csp
from tests.community_helpers import follow_remote, make_community
from tests.test_people_browser import _sign_in

BODY = "## Dose\n\nGive **30 mL/kg** within three hours.\n\n<script>alert('x')</script>\n"


async def test_write_preview_review_revise_and_compare(instances, tmp_path):
    a = await instances.start("a")
    await a.add_user("alice")
    await a.add_user("mod")
    community, group = await make_community(a, "icu", moderators=("mod",))
    await follow_remote(a, "alice", f"@icu@{a.urls.authority}")
    async with a.db.sessions.begin() as session:
        row = await session.get(type(community), community.actor_id)
        row.articles_require_approval = True
    async with chromium() as browser:
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base, "alice")
        # When alice writes an article from the Articles page and previews it
        await page.click("#nav-articles")
        await page.click("#write-article")
        await page.fill("#title", "Fluids in septic shock")
        await page.fill("#summary", "How much, how fast")
        await page.fill("#body", BODY)
        await page.fill("#references", "[Surviving Sepsis](https://www.sccm.org/ssc)")
        await page.fill("#tags", "sepsis, icu")
        await page.select_option("#community_id", str(group.id))
        await page.click("#preview-button")
        # Then the server's preview shows the Markdown rendered, the script as text, and keeps the form
        preview = page.locator("#article-preview .content")
        assert await preview.locator("strong").inner_text() == "30 mL/kg"
        assert "<script>alert('x')</script>" in await preview.inner_text()
        assert await page.input_value("#title") == "Fluids in septic shock"
        assert await axe_violations(page) == []
        # When she publishes it to the community, which reviews articles
        await page.click("#publish-article")
        # Then it waits in review
        assert "In review" in await page.inner_text("#article-revision")
        article_url = page.url
        await page.screenshot(path=tmp_path / "article-in-review.png", full_page=True)

        # And her Articles page lists it as hers in review, and asks no review of her
        await page.click("#nav-articles")
        await expect(page.locator("#my-drafts li")).to_have_text([re.compile("Fluids in septic shock.*in review", re.S)])
        await expect(page.locator("#to-review")).to_have_count(0)

        # When the moderator opens her notifications, Then alice's article awaits her review, and
        # its link leads to her Articles page, where it waits
        moderator = await browser.new_page()
        await _sign_in(moderator, a.base, "mod")
        await moderator.click("#nav-notifications")
        notice = moderator.locator('li.notification[data-type="article_review"]')
        await expect(notice).to_contain_text("article awaits your review")
        await notice.locator("text=Review it").click()
        await expect(moderator.locator("#articles-title")).to_have_count(1)
        await expect(moderator.locator("#to-review li")).to_have_text([re.compile("Fluids in septic shock.*in icu", re.S)])
        assert await axe_violations(moderator) == []
        # When she opens it from there and approves it
        await moderator.click("#to-review >> text=Fluids in septic shock")
        assert moderator.url == article_url
        await moderator.click("#approve-article")
        # Then it is published, validated by the moderator
        assert "version 1" in await moderator.inner_text("#article-revision")
        assert "Validated by mod" in await moderator.inner_text("#article-validated")
        # And it no longer awaits anyone's review
        await moderator.click("#nav-articles")
        await expect(moderator.locator("#published-articles")).to_contain_text("Fluids in septic shock")
        await expect(moderator.locator("#to-review")).to_have_count(0)

        # When alice revises it with a change note
        await page.goto(article_url)
        await page.click("#edit-article")
        await page.fill("#body", BODY.replace("three hours", "one hour"))
        await page.fill("#change_note", "Faster bolus")
        await page.click("#save-article")
        # Then readers see the new version, and its note
        revision = await page.inner_text("#article-revision")
        assert "Revised on" in revision and "version 2" in revision and "Faster bolus" in revision
        assert "one hour" in await page.inner_text("#article-body")
        assert await axe_violations(page) == []
        # And the versions, and the diff between them, line by line
        await page.click("#article-versions")
        await expect(page.locator("#version-list li")).to_have_count(2)
        await page.click("#version-list li >> nth=1 >> text=changes")
        assert "three hours" in await page.locator("#diff-lines del").inner_text()
        assert "one hour" in await page.locator("#diff-lines ins").inner_text()
        assert await axe_violations(page) == []
        await page.screenshot(path=tmp_path / "article-diff.png", full_page=True)
        # And version 1 is still there as it was
        await page.goto(f"{article_url}/versions/1")
        assert "three hours" in await page.inner_text("#article-version")
        # And the Articles page lists it, in French too
        await page.set_extra_http_headers({"Accept-Language": "fr"})
        await page.goto(f"{a.base}/articles")
        assert "Fluids in septic shock" in await page.inner_text("#published-articles")
        assert await page.inner_text("#articles-title") == "Articles"
        assert await page.inner_text("#write-article") == "Écrire un article"
    assert violations == []
