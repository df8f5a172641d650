"""What a practitioner does to posts from the web pages, over plain HTTP: the composer's image
with its alt text and its poll, the buttons (boost, favourite, bookmark) and a vote, each back to
a local `return_to` only, editing and deleting only one's own post, /bookmarks and /favourites."""

from __future__ import annotations

import io
import os
import re

import aiohttp
from PIL import Image
from sqlalchemy import select

from federation.outbox import drafts
from federation.social.compose import Draft
from server.web.actions import local_path
from storage.models import Media, Object
from tests.api_helpers import token_for
from tests.web_helpers import browser_like, form_token, page_token, post_form, sign_in, submit


def _png(size=(60, 40)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


async def _signed_in(a, username: str):
    """A cookie-keeping client signed in as `username` (who must exist)."""
    context = browser_like()
    http = await context.__aenter__()
    assert (await sign_in(http, a.base, username)).status == 303
    return context, http


async def _entity(http, a, token, post_id) -> dict:
    async with http.get(f"{a.base}/api/v1/statuses/{post_id}", headers=token) as response:
        assert response.status == 200
        return await response.json()


def test_only_a_path_on_this_site_is_a_place_to_go_back_to():
    assert local_path("/local?max_id=3#status-4") == "/local?max_id=3#status-4"
    for outside in ("https://evil.example/", "//evil.example/home", "/\\evil.example", "http:/home",
                    "home", "", None, "/home\r\nSet-Cookie: x=1", "javascript:alert(1)"):
        assert local_path(outside) == "/home", outside


async def test_a_favourite_goes_back_to_a_local_path_only(instances, http):
    # Given alice signed in and a post of hers
    a = await instances.start()
    _, alice = await a.add_user("alice")
    token = await token_for(a, "alice", create=False)
    post = await drafts.publish(a.fed, alice, Draft(text="Checklist for central lines"))
    context, browser = await _signed_in(a, "alice")
    try:
        # When she favourites it from the local timeline's second page
        response = await submit(browser, a.base, f"/posts/{post.id}/favourite", token_from="/local",
                                return_to=f"/local?max_id=9#status-{post.id}")
        # Then it is her favourite, and she is back where she was, with a 303
        assert response.status == 303 and response.headers["Location"] == f"/local?max_id=9#status-{post.id}"
        assert (await _entity(http, a, token, post.id))["favourited"] is True
        # When a form sends her elsewhere (an absolute URL, another host), Then she goes home instead
        for outside in ("https://evil.example/steal", "//evil.example/steal", "/\\evil.example"):
            response = await submit(browser, a.base, f"/posts/{post.id}/unfavourite", token_from="/local",
                                    return_to=outside)
            assert response.status == 303 and response.headers["Location"] == "/home", outside
        assert (await _entity(http, a, token, post.id))["favourited"] is False
        # When she boosts and bookmarks it, Then the API says so, and /bookmarks lists it
        await submit(browser, a.base, f"/posts/{post.id}/reblog", token_from="/home", return_to="/home")
        await submit(browser, a.base, f"/posts/{post.id}/bookmark", token_from="/home", return_to="/home")
        entity = await _entity(http, a, token, post.id)
        assert entity["reblogged"] is True and entity["bookmarked"] is True
        async with browser.get(f"{a.base}/bookmarks") as response:
            page = await response.text()
        assert f'id="status-{post.id}"' in page and "Checklist for central lines" in page
        assert f'action="/posts/{post.id}/unbookmark"' in page
        # And in place (as rounds.js asks), the answer is the post's buttons as they now are
        token_field = form_token(page)
        async with browser.post(f"{a.base}/posts/{post.id}/favourite", headers={"Rounds-In-Place": "1"},
                                data={"csrf_token": token_field, "return_to": "/favourites"},
                                allow_redirects=False) as response:
            assert response.status == 200
            fragment = await response.text()
        assert f'action="/posts/{post.id}/unfavourite"' in fragment and "<html" not in fragment
        async with browser.get(f"{a.base}/favourites") as response:
            assert f'id="status-{post.id}"' in await response.text()
        # And a button's form sent as multipart (not streamed there) is read whole, as any form
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("csrf_token", token_field)
        form.add_field("return_to", "/bookmarks")
        async with browser.post(f"{a.base}/posts/{post.id}/unbookmark", data=form, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/bookmarks"
        assert (await _entity(http, a, token, post.id))["bookmarked"] is False
    finally:
        await context.__aexit__(None, None, None)


async def test_only_ones_own_post_can_be_edited_or_deleted(instances, http):
    # Given alice and bob, and a post by each
    a = await instances.start()
    _, alice = await a.add_user("alice")
    _, bob = await a.add_user("bob")
    token = await token_for(a, "alice", create=False)
    hers = await drafts.publish(a.fed, alice, Draft(text="Ward round at nine"))
    his = await drafts.publish(a.fed, bob, Draft(text="Bob's note"))
    context, browser = await _signed_in(a, "alice")
    try:
        # When she opens bob's post's edit or delete page, or posts to them, Then she is refused
        for page in ("edit", "delete"):
            async with browser.get(f"{a.base}/posts/{his.id}/{page}", allow_redirects=False) as response:
                assert response.status == 403, page
        response = await submit(browser, a.base, f"/posts/{his.id}/edit", token_from="/home", status="Mine now")
        assert response.status == 403
        response = await submit(browser, a.base, f"/posts/{his.id}/delete", token_from="/home")
        assert response.status == 403
        async with a.db.sessions() as session:
            kept = await session.get(Object, his.id)
            assert kept.deleted_at is None and "note" in kept.content

        # When she opens her own post's edit page, Then it holds her text as she typed it
        async with browser.get(f"{a.base}/posts/{hers.id}/edit") as response:
            assert response.status == 200
            page = await response.text()
        assert re.search(r'<textarea name="status" id="status"[^>]*>Ward round at nine</textarea>', page)
        # When she empties it, Then the form comes back, 422, and nothing changed
        response = await submit(browser, a.base, f"/posts/{hers.id}/edit", token_from=f"/posts/{hers.id}/edit",
                                status="", spoiler_text="")
        assert response.status == 422
        # When she saves a new text, Then the post says it, edited, and she is on its page
        response = await submit(browser, a.base, f"/posts/{hers.id}/edit", token_from=f"/posts/{hers.id}/edit",
                                status="Ward round at ten", spoiler_text="")
        assert response.status == 303 and response.headers["Location"] == f"/posts/{hers.id}"
        entity = await _entity(http, a, token, hers.id)
        assert "Ward round at ten" in entity["content"] and entity["edited_at"] is not None

        # When she opens the delete page, Then it asks first; When she confirms, Then it is gone
        async with browser.get(f"{a.base}/posts/{hers.id}/delete") as response:
            page = await response.text()
        assert f'action="/posts/{hers.id}/delete"' in page and 'id="confirm-delete"' in page
        response = await submit(browser, a.base, f"/posts/{hers.id}/delete", token_from=f"/posts/{hers.id}/delete")
        assert response.status == 303 and response.headers["Location"] == "/home"
        async with http.get(f"{a.base}/api/v1/statuses/{hers.id}", headers=token) as response:
            assert response.status == 404
    finally:
        await context.__aexit__(None, None, None)


async def test_an_image_posted_from_the_composer_keeps_its_alt_text(instances):
    # Given alice signed in, on her home page
    a = await instances.start()
    await a.add_user("alice")
    context, browser = await _signed_in(a, "alice")
    try:
        token_field = await page_token(browser, f"{a.base}/home")
        # When she posts a text with an image and its description, as the multipart form sends it
        form = aiohttp.FormData()
        form.add_field("csrf_token", token_field)
        form.add_field("status", "Pressure ulcer staging chart")
        form.add_field("visibility", "public")
        form.add_field("file", _png(), filename="chart.png", content_type="image/png")
        form.add_field("description", "A chart of the four stages of pressure ulcers")
        async with browser.post(f"{a.base}/posts", data=form, allow_redirects=False) as response:
            assert response.status == 303 and response.headers["Location"] == "/home"
        # Then the upload is stored with its alt text and attached to the post
        async with a.db.sessions() as session:
            media = (await session.scalars(select(Media))).all()
        assert len(media) == 1 and media[0].description == "A chart of the four stages of pressure ulcers"
        assert media[0].object_id is not None
        # And her home shows the image with that alt text
        async with browser.get(f"{a.base}/home") as response:
            page = await response.text()
        assert re.search(r'<img src="[^"]+" alt="A chart of the four stages of pressure ulcers"', page)

        # When a multipart form does not start with its form token, Then the guard refuses it
        form = aiohttp.FormData(default_to_multipart=True)
        form.add_field("status", "no token first")
        form.add_field("csrf_token", token_field)
        async with browser.post(f"{a.base}/posts", data=form, allow_redirects=False) as response:
            assert response.status == 403
    finally:
        await context.__aexit__(None, None, None)


async def test_an_image_larger_than_the_media_limit_is_refused(instances):
    # Given an instance that takes uploads of at most 2 KB
    a = await instances.start(api={"media_max_bytes": 2_000})
    await a.add_user("alice")
    context, browser = await _signed_in(a, "alice")
    try:
        token_field = await page_token(browser, f"{a.base}/home")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token_field)
        form.add_field("status", "Too big")
        form.add_field("file", _png((400, 400)) + b"\0" * 4_000, filename="big.png", content_type="image/png")
        # When she posts a larger image, Then the composer comes back with the refusal, nothing stored
        async with browser.post(f"{a.base}/posts", data=form, allow_redirects=False) as response:
            assert response.status == 422
            assert "larger than" in await response.text()
        async with a.db.sessions() as session:
            assert (await session.scalars(select(Media))).all() == []
            assert (await session.scalars(select(Object))).all() == []
    finally:
        await context.__aexit__(None, None, None)


async def test_a_poll_from_the_composer_and_a_vote_from_its_form(instances, http):
    # Given alice and bob signed in
    a = await instances.start()
    await a.add_user("alice")
    await a.add_user("bob")
    bob_token = await token_for(a, "bob", create=False)
    alice_context, alice = await _signed_in(a, "alice")
    bob_context, bob = await _signed_in(a, "bob")
    try:
        # When alice posts a poll from her composer, two options filled and two left empty
        response = await post_form(alice, a.base, "/home", status="Which dressing do you use?",
                                   **{"poll[options][]": ["Foam", "Hydrocolloid", "", ""],
                                      "poll[expires_in]": "86400", "poll[multiple]": "true"})
        assert response.status == 303
        # Then it is a poll with those two options, several choices allowed
        async with a.db.sessions() as session:
            post = (await session.scalars(select(Object))).one()
        assert post.type == "Question"
        async with http.get(f"{a.base}/api/v1/polls/{post.id}", headers=bob_token) as answer:
            poll = await answer.json()
        assert [option["title"] for option in poll["options"]] == ["Foam", "Hydrocolloid"] and poll["multiple"]

        # When bob votes for the second option from the local timeline's form
        async with bob.get(f"{a.base}/local") as answer:
            page = await answer.text()
        assert f'action="/polls/{post.id}/votes"' in page and 'name="choices[]" value="1"' in page
        response = await submit(bob, a.base, f"/polls/{post.id}/votes", token_from="/local",
                                return_to=f"/local#status-{post.id}", **{"choices[]": "1"})
        # Then he is back on the local timeline, and his vote counts
        assert response.status == 303 and response.headers["Location"] == f"/local#status-{post.id}"
        async with http.get(f"{a.base}/api/v1/polls/{post.id}", headers=bob_token) as answer:
            poll = await answer.json()
        assert poll["own_votes"] == [1] and poll["options"][1]["votes_count"] == 1
        # And the page shows the results, no longer the form
        async with bob.get(f"{a.base}/local") as answer:
            page = await answer.text()
        assert f'action="/polls/{post.id}/votes"' not in page and 'class="mine"' in page
        # When he votes with no choice, Then he is told, and nothing more is counted
        response = await submit(bob, a.base, f"/polls/{post.id}/votes", token_from="/local", return_to="/local")
        assert response.status == 422
    finally:
        await alice_context.__aexit__(None, None, None)
        await bob_context.__aexit__(None, None, None)


async def test_a_poll_and_an_image_together_are_refused_as_the_api_refuses_them(instances):
    a = await instances.start()
    _, alice = await a.add_user("alice")
    context, browser = await _signed_in(a, "alice")
    try:
        token_field = await page_token(browser, f"{a.base}/home")
        form = aiohttp.FormData()
        form.add_field("csrf_token", token_field)
        form.add_field("status", "Both")
        form.add_field("poll[options][]", "Yes")
        form.add_field("poll[options][]", "No")
        form.add_field("poll[expires_in]", "3600")
        form.add_field("file", _png(), filename="a.png", content_type="image/png")
        form.add_field("description", "kept")
        async with browser.post(f"{a.base}/posts", data=form, allow_redirects=False) as response:
            assert response.status == 422
            page = await response.text()
        # Then the form comes back with the image kept (its id), so it need not be sent again
        assert "a post can have media or a poll, not both" in page
        async with a.db.sessions() as session:
            media = (await session.scalars(select(Media))).one()
        assert f'name="media_ids[]" value="{media.id}"' in page and 'id="attached"' in page
    finally:
        await context.__aexit__(None, None, None)



async def _until(stream, text: str) -> str:
    """The event stream's lines up to the end of the first event that holds `text`."""
    seen: list[str] = []
    found = False
    while line := (await stream.content.readline()).decode():
        seen.append(line)
        found = found or text in line
        if found and line == "\n":
            return "".join(seen)
    raise AssertionError(f"the stream ended before {text!r}: {''.join(seen)}")


async def test_the_live_stream_renders_posts_and_ends_when_the_session_does(instances):
    # Given alice signed in, her home's live stream open
    a = await instances.start()
    _, alice = await a.add_user("alice")
    context, browser = await _signed_in(a, "alice")
    try:
        async with browser.get(f"{a.base}/live/home") as stream:
            assert stream.status == 200 and stream.headers["Content-Type"].startswith("text/event-stream")
            assert "Access-Control-Allow-Origin" not in stream.headers  # read by this site's pages only
            await stream.content.readline()
            # When she posts, Then the stream carries it as the page's status partial, with its buttons
            post = await drafts.publish(a.fed, alice, Draft(text="Heard live"))
            events = await _until(stream, "Heard live")
            assert "event: update" in events and f'id="status-{post.id}"' in events
            assert f'action="/posts/{post.id}/favourite"' in events
            # When she signs out, and posts again from elsewhere, Then the stream ends without it
            assert (await submit(browser, a.base, "/auth/sign_out", token_from="/home")).status == 303
            await drafts.publish(a.fed, alice, Draft(text="Not for a closed session"))
            rest = (await stream.content.read()).decode()
            assert "Not for a closed session" not in rest
    finally:
        await context.__aexit__(None, None, None)


async def test_an_image_larger_than_a_form_body_is_streamed_past_the_body_limit(instances):
    # Given an instance whose request bodies are capped at 20 KB, and uploads at 16 MB (the default)
    a = await instances.start(server={"max_body_bytes": 20_000})
    await a.add_user("alice")
    noise = Image.frombytes("RGB", (160, 160), os.urandom(160 * 160 * 3))
    out = io.BytesIO()
    noise.save(out, "PNG")
    assert len(out.getvalue()) > 60_000
    context, browser = await _signed_in(a, "alice")
    try:
        form = aiohttp.FormData()
        form.add_field("csrf_token", await page_token(browser, f"{a.base}/home"))
        form.add_field("status", "A photo of the new isolation room")
        form.add_field("file", out.getvalue(), filename="room.png", content_type="image/png")
        form.add_field("description", "An empty isolation room with its anteroom door open")
        # When she posts an image three times that size from the composer
        async with browser.post(f"{a.base}/posts", data=form, allow_redirects=False) as response:
            # Then it is taken, as the media API takes it: read as a stream, not as a whole form
            assert response.status == 303
        async with a.db.sessions() as session:
            assert (await session.scalars(select(Media))).one().object_id is not None
    finally:
        await context.__aexit__(None, None, None)
