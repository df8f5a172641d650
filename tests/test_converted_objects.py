"""Remote objects of other types (Article, Page, Image, Video, Audio, Event) are shown as
statuses the way Mastodon shows them: title, summary and link (and an Event's time and place),
with media objects as attachments; an attachment without a media type takes it from its URL.
A fake peer sends them signed to a real instance; the client API shows what was stored."""

from __future__ import annotations

from federation.protocol.vocab import PUBLIC
from federation.protocol.vocab.converted import media_type_from_url
from storage.models import InboxState, Object
from tests.api_helpers import token_for


def _object(scene, kind: str, n: str, **fields) -> dict:
    uri = f"{scene.peer.base}/objects/{n}"
    document = {"id": uri, "type": kind, "attributedTo": f"{scene.peer.base}/users/zed", "to": [PUBLIC],
                "published": "2026-12-01T10:00:00Z", **fields}
    scene.peer.serve(f"/objects/{n}", document)
    return document


async def _shown(scene, document: dict) -> dict:
    """The Status entity of `document` once zed's Create of it is handled."""
    create = await scene.send("zed", "Create", document, document["id"].rsplit("/", 1)[-1])
    await scene.run()
    assert await scene.outcome(create) == (InboxState.done, None)
    post = await scene.one(Object, Object.uri == document["id"])
    headers = await token_for(scene.a, "alice", create=False)
    async with scene.http.get(f"{scene.a.base}/api/v1/statuses/{post.id}", headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_an_article_shows_its_title_summary_and_link_not_its_body(scene):
    # When zed's server sends an Article with a title, a summary and a long body
    article = _object(scene, "Article", "1", name="Hand hygiene <audit> 2026", summary="<p>What we changed.</p>",
                      content="<p>The whole article, thousands of words...</p>",
                      url="https://blog.example/hand-hygiene")
    status = await _shown(scene, article)
    # Then the status shows its title first, its summary, and a link to it; the body is left out
    assert status["content"] == (
        "<p><strong>Hand hygiene &lt;audit&gt; 2026</strong></p><p>What we changed.</p>"
        '<p><a href="https://blog.example/hand-hygiene" rel="nofollow noopener noreferrer">'
        "https://blog.example/hand-hygiene</a></p>")
    assert "thousands of words" not in status["content"]
    # And the summary is no content warning
    assert status["spoiler_text"] == "" and status["sensitive"] is False
    assert status["url"] == "https://blog.example/hand-hygiene"


async def test_a_page_without_a_url_links_its_id(scene):
    page = _object(scene, "Page", "2", name="Ward rounds checklist", content="<p>body</p>")
    status = await _shown(scene, page)
    assert status["content"] == (f"<p><strong>Ward rounds checklist</strong></p><p><a href=\"{page['id']}\" "
                                 f'rel="nofollow noopener noreferrer">{page["id"]}</a></p>')


async def test_an_image_video_and_audio_show_as_attachments(scene):
    # Given an Image whose media is in its url, a Video with an attachment that names no media
    # type, and an Audio with a plain url
    image = _object(scene, "Image", "3", name="X-ray, day 3", url=[
        {"type": "Link", "mediaType": "text/html", "href": "https://photos.example/p/3"},
        {"type": "Link", "mediaType": "image/jpeg", "href": "https://photos.example/media/3.jpg",
         "width": 800, "height": 600}])
    video = _object(scene, "Video", "4", name="Intubation drill",
                    attachment=[{"type": "Document", "url": "https://videos.example/4.mp4"}])
    audio = _object(scene, "Audio", "5", name="Grand rounds podcast", url="https://audio.example/ep5.mp3")
    # When they arrive, Then each is a status with its title and its media as an attachment
    shown = {kind: await _shown(scene, document) for kind, document in
             (("image", image), ("video", video), ("audio", audio))}
    for kind, status in shown.items():
        [attachment] = status["media_attachments"]
        assert attachment["type"] == kind, (kind, attachment)
        assert status["content"].startswith("<p><strong>")
    assert shown["image"]["media_attachments"][0]["url"] == "https://photos.example/media/3.jpg"
    assert shown["image"]["media_attachments"][0]["meta"]["original"]["size"] == "800x600"
    assert shown["image"]["media_attachments"][0]["description"] == "X-ray, day 3"
    assert shown["image"]["url"] == "https://photos.example/p/3"
    assert shown["video"]["media_attachments"][0]["url"] == "https://videos.example/4.mp4"
    # And a preview is an image, or none: an app never loads a video or a sound as a picture
    assert shown["image"]["media_attachments"][0]["preview_url"] == "https://photos.example/media/3.jpg"
    assert [shown[kind]["media_attachments"][0]["preview_url"] for kind in ("video", "audio")] == [None, None]


async def test_an_event_shows_its_name_time_place_and_link(scene):
    event = _object(scene, "Event", "6", name="Sepsis symposium", content="<p>Long programme</p>",
                    startTime="2026-12-10T14:00:00Z", endTime="2026-12-10T17:30:00Z",
                    location={"type": "Place", "name": "Amphi B",
                              "address": {"type": "PostalAddress", "streetAddress": "1 rue de la Santé",
                                          "addressLocality": "Paris"}},
                    url="https://events.example/e/6")
    status = await _shown(scene, event)
    assert status["content"] == (
        "<p><strong>Sepsis symposium</strong></p><p>2026-12-10 14:00 – 17:30 UTC</p>"
        "<p>Amphi B, 1 rue de la Santé, Paris</p>"
        '<p><a href="https://events.example/e/6" rel="nofollow noopener noreferrer">'
        "https://events.example/e/6</a></p>")


async def test_a_notes_attachment_without_a_media_type_takes_it_from_its_url(scene):
    note = scene.note("zed", "7", attachment=[
        {"type": "Document", "url": "https://files.example/scan.JPG"},
        {"type": "Document", "url": "https://files.example/clip.webm?x=1"},
        {"type": "Document", "url": "https://files.example/notes"}])
    status = await _shown(scene, note)
    assert [a["type"] for a in status["media_attachments"]] == ["image", "video", "unknown"]


def test_media_types_from_extensions():
    assert media_type_from_url("https://x.example/a/b.png") == "image/png"
    assert media_type_from_url("https://x.example/a/b.mp3") == "audio/mpeg"
    assert media_type_from_url("https://x.example/a.dir/b") is None
    assert media_type_from_url("https://x.example/") is None
