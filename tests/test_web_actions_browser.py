"""Actions on posts in a real headless Chromium: posting an image with its alt text, boosting
and favouriting in place (and the same forms with JavaScript off), a post arriving live on
home from another session, and the composer used from the keyboard alone. Screenshots at
375 px and 1280 px go to test-artifacts/ (not committed)."""

from __future__ import annotations

from pathlib import Path

from PIL import Image

from federation.outbox import drafts
from federation.social.compose import Draft
from tests.browser import artifacts_dir, chromium, expect, watch_csp
from tests.web_helpers import PASSWORD

WIDTHS = {"phone": (375, 740), "desktop": (1280, 800)}
UNLABELLED = """[...document.querySelectorAll("input:not([type=hidden]), textarea, select")]
  .filter((control) => control.labels.length === 0 && !control.getAttribute("aria-label"))
  .map((control) => control.id || control.name)"""


def _png(path: Path) -> Path:
    Image.new("RGB", (120, 80), (30, 90, 200)).save(path, "PNG")
    return path


async def _sign_in(page, base: str, username: str = "alice") -> None:
    await page.goto(f"{base}/auth/sign_in")
    await page.fill("#username", username)
    await page.fill("#password", PASSWORD)
    async with page.expect_navigation():
        await page.click("#submit")


async def test_an_image_with_its_alt_text_is_posted_and_shown_at_both_widths(instances, tmp_path):
    a = await instances.start()
    await a.add_user("alice")
    shots = artifacts_dir()
    async with chromium() as browser:
        page = await browser.new_page(viewport={"width": 375, "height": 740})
        violations = await watch_csp(page)
        await _sign_in(page, a.base)
        # When she writes a post, chooses an image and describes it, and posts
        await page.fill("#status", "Our new hand hygiene poster")
        await page.set_input_files("#file", _png(tmp_path / "poster.png"))
        await page.fill("#description", "A poster showing the five moments for hand hygiene")
        async with page.expect_navigation():
            await page.click("#post")
        # Then her home shows the image, described by its alt text
        assert page.url == f"{a.base}/home"
        image = page.locator("ol.timeline article.status img").first
        assert await image.get_attribute("alt") == "A poster showing the five moments for hand hygiene"
        await image.scroll_into_view_if_needed()  # it loads lazily; decode() waits for it, however long
        assert await image.evaluate("(img) => img.decode().then(() => img.naturalWidth)") == 120
        post_id = (await page.locator("ol.timeline article.status").first.get_attribute("id")).removeprefix("status-")
        await page.click(f"#status-{post_id} button[data-kind=bookmark]")
        await page.locator(f"#status-{post_id} button[data-kind=bookmark].on").wait_for()
        # And the pages of this subject fit both widths, every control labelled
        for name, (width, height) in WIDTHS.items():
            await page.set_viewport_size({"width": width, "height": height})
            for path in ("/home", f"/posts/{post_id}/edit", f"/posts/{post_id}/delete", "/bookmarks"):
                await page.goto(f"{a.base}{path}")
                assert await page.evaluate("document.documentElement.scrollWidth") <= width, (path, name)
                assert await page.evaluate(UNLABELLED) == [], path
                shot = path.strip("/").replace(f"posts/{post_id}/", "post-")
                await page.screenshot(path=shots / f"actions-{shot}-{name}.png", full_page=True)
        await expect(page.locator(f"#status-{post_id}")).to_have_count(1)  # on /bookmarks
    assert violations == []


async def test_boost_and_favourite_in_place_and_without_javascript(instances):
    a = await instances.start()
    _, alice = await a.add_user("alice")
    post = await drafts.publish(a.fed, alice, Draft(text="Discharge summary template, version 3"))
    article = f"#status-{post.id}"
    async with chromium() as browser:
        # Given alice on her home page, with the script
        page = await browser.new_page()
        violations = await watch_csp(page)
        await _sign_in(page, a.base)
        await page.evaluate("window.stayed = true")
        # When she favourites and boosts the post
        await page.click(f"{article} button[data-kind=favourite]")
        await page.locator(f"{article} button[data-kind=favourite]", has_text="Unfavourite").wait_for()
        # Then the button says so, the count shows, the focus stays on it, and the page did not reload
        assert await page.inner_text(f"{article} button[data-kind=favourite] .count") == "1"
        assert await page.evaluate("document.activeElement.dataset.kind") == "favourite"
        await page.click(f"{article} button[data-kind=boost]")
        await page.locator(f"{article} button[data-kind=boost]", has_text="Unboost").wait_for()
        assert await page.evaluate("window.stayed") is True
        # And after a reload the page agrees (it was saved, not only drawn)
        await page.reload()
        assert "Unfavourite" in await page.inner_text(f"{article} button[data-kind=favourite]")

        # Given a browser with JavaScript off, signed in as alice
        context = await browser.new_context(java_script_enabled=False)
        plain = await context.new_page()
        await _sign_in(plain, a.base)
        # When she takes the favourite back and the boost too, each a plain form and a 303 back
        async with plain.expect_navigation():
            await plain.click(f"{article} button[data-kind=favourite]")
        assert plain.url == f"{a.base}/home#status-{post.id}"
        assert (await plain.inner_text(f"{article} button[data-kind=favourite]")).strip() == "Favourite"
        async with plain.expect_navigation():
            await plain.click(f"{article} button[data-kind=boost]")
        assert (await plain.inner_text(f"{article} button[data-kind=boost]")).strip() == "Boost"
        await context.close()
    assert violations == []


async def test_a_post_from_another_session_arrives_live_on_home(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        # Given alice's home open in one browser, listening
        reader = await browser.new_page()
        violations = await watch_csp(reader)
        await _sign_in(reader, a.base)
        await reader.locator("#timeline[data-connected=true]").wait_for()
        # When she posts from another browser (another session)
        context = await browser.new_context()
        writer = await context.new_page()
        await _sign_in(writer, a.base)
        await writer.fill("#status", "Arrived live: the night shift handover is moved to 19:30")
        async with writer.expect_navigation():
            await writer.click("#post")
        # Then it appears at the top of the first home, without a reload, with its buttons
        first = reader.locator("ol.timeline > li").first
        await first.locator(".content", has_text="Arrived live").wait_for()
        await expect(reader.locator("#empty")).to_have_count(0)
        await expect(first.locator("button[data-kind=favourite]")).to_have_count(1)
        assert await reader.inner_text("#live-news") == "New post by alice"  # for screen readers
        # And an older page does not listen
        await writer.goto(f"{a.base}/home?max_id=1")
        await expect(writer.locator("#timeline[data-live]")).to_have_count(0)
        await context.close()
    assert violations == []


async def test_the_composer_from_the_keyboard_alone(instances):
    a = await instances.start()
    await a.add_user("alice")
    async with chromium() as browser:
        page = await browser.new_page()
        await _sign_in(page, a.base)
        # When she tabs from the top of the page to the composer's first control
        for _ in range(20):
            await page.keyboard.press("Tab")
            if await page.evaluate("document.activeElement.id") == "spoiler_text":
                break
        focus = "document.activeElement.id"
        assert await page.evaluate(focus) == "spoiler_text"
        await page.keyboard.type("Outbreak")
        # Then each control is the next Tab, and she fills them in by typing
        await page.keyboard.press("Tab")
        assert await page.evaluate(focus) == "status"
        await page.keyboard.type("Which ward should open the cohort bay?")
        await page.keyboard.press("Tab")
        assert await page.evaluate(focus) == "file"
        await page.keyboard.press("Tab")
        assert await page.evaluate(focus) == "description"
        await page.keyboard.press("Tab")
        assert await page.evaluate(focus) == "poll-toggle"
        await page.keyboard.press("Enter")  # opens the poll's fields
        for n, option in ((1, "Ward 4"), (2, "Ward 7")):
            await page.keyboard.press("Tab")
            assert await page.evaluate(focus) == f"poll-option-{n}"
            await page.keyboard.type(option)
        for expected in ("poll-option-3", "poll-option-4", "poll-expires", "poll-multiple", "visibility", "local-only",
                         "post"):
            await page.keyboard.press("Tab")
            assert await page.evaluate(focus) == expected
        outline = await page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline == "solid"
        # When she presses Space on the Post button, Then her post with its poll is first in home
        async with page.expect_navigation():
            await page.keyboard.press("Space")
        first = page.locator("ol.timeline > li").first
        assert await first.locator("summary.spoiler").inner_text() == "Outbreak"
        await first.locator("summary.spoiler").press("Enter")
        assert "cohort bay" in await first.locator(".content").inner_text()
        # And she votes from the keyboard too: her own poll shows its results (as on Mastodon)
        await expect(first.locator(".poll .results li")).to_have_count(2)
