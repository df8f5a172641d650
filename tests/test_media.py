"""Media uploads against a real instance: POST /api/v2/media and /api/v1/media, GET/PUT
/api/v1/media/:id, the files at /media/{name}, and the ActivityPub attachment of an upload."""

from __future__ import annotations

import asyncio
import base64
import io
import logging
import os
import stat

import aiohttp
import blurhash
from PIL import ExifTags, Image
from sqlalchemy import func, select
from yarl import URL

from federation.social import media as media_logic
from federation.social.accounts import create_token
from federation.social.media import media_to_ap_attachment
from storage.models import Media, Object, Visibility

RED, BLUE = (220, 20, 20), (20, 20, 220)


async def _token(instance, username: str, scopes: str = "read write") -> str:
    await instance.add_user(username)
    async with instance.db.sessions.begin() as session:
        return (await create_token(session, username, scopes)).token


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _image(fmt: str, size=(1200, 800), **save) -> bytes:
    """A red image with a blue band along its top edge."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, 0, size[0], 60))
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def _jpeg_with_gps() -> bytes:
    """Stored sideways: EXIF orientation 6 says turn it 90° clockwise to show it; GPS and camera."""
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6
    exif[ExifTags.Base.Make] = "WardCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (48.0, 51.0, 24.0)
    return _image("JPEG", exif=exif, comment=b"bed 12")


def _noise_png(side: int) -> bytes:
    out = io.BytesIO()
    Image.frombytes("RGB", (side, side), os.urandom(side * side * 3)).save(out, "PNG")
    return out.getvalue()


async def _upload(http, instance, token, data: bytes, filename: str, *, version="v2",
                  content_type="image/png", **fields):
    form = aiohttp.FormData(fields)
    form.add_field("file", data, filename=filename, content_type=content_type)
    async with http.post(f"{instance.base}/api/{version}/media", data=form, headers=_auth(token)) as r:
        return r.status, await r.json()


async def _fetch(http, url: str) -> tuple[int, dict, bytes]:
    async with http.get(url) as r:
        return r.status, dict(r.headers), await r.read()


def _stored(instance) -> list[str]:
    root = instance.settings.data_dir / "media"
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


async def _rows(instance) -> int:
    async with instance.db.sessions() as session:
        return await session.scalar(select(func.count()).select_from(Media))


async def test_jpeg_upload_is_stored_without_exif_upright_with_thumbnail_and_blurhash(instances, http):
    # Given alice and a sideways phone photo with GPS, a camera name and a comment
    a = await instances.start()
    token = await _token(a, "alice")

    # When she uploads it with a description and a focal point
    status, entity = await _upload(http, a, token, _jpeg_with_gps(), "ward-gps.jpg", content_type="image/jpeg",
                                   description="Pressure ulcer, stage 2", focus="0.5,-0.25")

    # Then the entity is Mastodon's MediaAttachment, with the turned dimensions
    assert status == 200, entity
    assert isinstance(entity["id"], str) and entity["type"] == "image"
    assert (entity["remote_url"], entity["text_url"], entity["description"]) == (None, None, "Pressure ulcer, stage 2")
    original, small = entity["meta"]["original"], entity["meta"]["small"]
    assert (original["width"], original["height"], original["size"]) == (800, 1200, "800x1200")
    assert abs(original["aspect"] - 800 / 1200) < 1e-9
    assert small["width"] < 800 and small["height"] < 1200 and small["width"] * small["height"] <= 640 * 360
    assert entity["meta"]["focus"] == {"x": 0.5, "y": -0.25}
    # and the blurhash decodes to the photo's red
    assert blurhash.components(entity["blurhash"]) == (4, 3)
    r, g, b = blurhash.decode(entity["blurhash"], 4, 4)[3][1][:3]
    assert r > 150 and g < 90 and b < 90

    # And the served file is a JPEG with no metadata left, upright (the blue band is on the right)
    status, headers, body = await _fetch(http, entity["url"])
    assert status == 200
    assert headers["Content-Type"] == "image/jpeg" and headers["X-Content-Type-Options"] == "nosniff"
    served = Image.open(io.BytesIO(body))
    assert served.format == "JPEG" and served.size == (800, 1200)
    assert not served.getexif() and "exif" not in served.info and "comment" not in served.info
    assert b"Exif" not in body and b"WardCam" not in body and b"bed 12" not in body
    rgb = served.convert("RGB")
    assert rgb.getpixel((790, 600))[2] > 150 and rgb.getpixel((10, 600))[0] > 150

    # And the thumbnail is served, smaller in pixels and in bytes
    status, headers, thumb = await _fetch(http, entity["preview_url"])
    assert status == 200 and headers["Content-Type"] == "image/jpeg"
    assert Image.open(io.BytesIO(thumb)).size == (small["width"], small["height"])
    assert len(thumb) < len(body)

    # And the files sit in a private directory under random names, not the client's
    root = a.settings.data_dir / "media"
    assert stat.S_IMODE(root.stat().st_mode) == 0o700
    assert len(_stored(a)) == 2 and not any("ward" in name for name in _stored(a))


async def test_upload_larger_than_the_app_body_limit_streams_through_v1(instances, http):
    # Given the app's body limit (1 MB) is below the media limit (16 MB)
    a = await instances.start()
    token = await _token(a, "alice")
    picture = _noise_png(700)
    assert len(picture) > a.settings.server.max_body_bytes

    # When alice uploads it through the deprecated v1 route, Then it is accepted as a PNG
    status, entity = await _upload(http, a, token, picture, "scan.png", version="v1")
    assert status == 200, entity
    assert entity["meta"]["original"]["size"] == "700x700" and entity["url"].endswith(".png")
    status, headers, body = await _fetch(http, entity["url"])
    assert status == 200 and headers["Content-Type"] == "image/png"
    assert Image.open(io.BytesIO(body)).getpixel((3, 3)) == Image.open(io.BytesIO(picture)).getpixel((3, 3))


async def test_oversized_upload_is_413_and_leaves_nothing_behind(instances, http, caplog):
    # Given an instance that takes files up to 50 kB
    a = await instances.start(api={"media_max_bytes": 50_000})
    token = await _token(a, "alice")
    big = _noise_png(200)
    assert len(big) > 50_000

    # When alice uploads a larger one, with a Content-Length
    with caplog.at_level(logging.INFO, logger="server.api.media"):
        status, body = await _upload(http, a, token, big, "big.png")

    # Then it is refused with 413, logged, and nothing is stored
    assert status == 413 and "50000 bytes" in body["error"]
    assert any("refused (413)" in record.getMessage() for record in caplog.records)
    assert _stored(a) == [] and await _rows(a) == 0

    # When a file comes chunked (no Content-Length) and does not end after 50 kB
    release = asyncio.Event()

    async def endless():
        yield big
        await asyncio.wait_for(release.wait(), 10)

    writer = aiohttp.MultipartWriter("form-data")
    writer.append(endless()).set_content_disposition("form-data", name="file", filename="big.png")
    try:
        # Then the stream cap answers 413 while the client is still sending
        async with asyncio.timeout(5):
            async with http.post(f"{a.base}/api/v2/media", data=writer, headers=_auth(token)) as r:
                assert r.status == 413 and "error" in await r.json()
    finally:
        release.set()
    assert _stored(a) == [] and await _rows(a) == 0

    # And a file within the limit is still fine
    assert (await _upload(http, a, token, _image("PNG", size=(64, 48)), "ok.png"))[0] == 200


async def test_phone_multi_picture_jpeg_keeps_its_first_picture(instances, http):
    # Given a JPEG that holds a second picture (MPO, as phones write them)
    a = await instances.start()
    token = await _token(a, "alice")
    out = io.BytesIO()
    Image.new("RGB", (300, 200), RED).save(out, "MPO", save_all=True, append_images=[Image.new("RGB", (30, 20))])

    # When it is uploaded, Then it is stored as a plain JPEG of the first picture
    status, entity = await _upload(http, a, token, out.getvalue(), "IMG_0001.jpg", content_type="image/jpeg")
    assert status == 200, entity
    served = Image.open(io.BytesIO((await _fetch(http, entity["url"]))[2]))
    assert (served.format, served.size, getattr(served, "n_frames", 1)) == ("JPEG", (300, 200), 1)


async def test_animated_gif_keeps_its_frames_and_loses_its_comment(instances, http):
    # Given an animated GIF (an ultrasound loop, say) with a comment
    a = await instances.start()
    token = await _token(a, "alice")
    frames = [Image.new("RGB", (120, 90), color) for color in (RED, BLUE, (20, 200, 20))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=[100, 200, 300], loop=0,
                   comment=b"patient 4711")

    # When it is uploaded, Then the served GIF has the same frames and timing, and no comment
    status, entity = await _upload(http, a, token, out.getvalue(), "loop.gif", content_type="image/gif")
    assert status == 200, entity
    body = (await _fetch(http, entity["url"]))[2]
    served = Image.open(io.BytesIO(body))
    assert served.format == "GIF" and served.n_frames == 3 and b"patient 4711" not in body
    timing = []
    for n in range(3):
        served.seek(n)
        timing.append((served.info["duration"], served.convert("RGB").getpixel((60, 45))))
    assert timing == [(100, RED), (200, BLUE), (300, (20, 200, 20))]


async def test_unsupported_types_are_422_whatever_the_name_says(instances, http, caplog):
    # Given an instance that accepts PNG and JPEG only, up to 100x100 pixels
    a = await instances.start(api={"media_types": "image/png image/jpeg", "media_max_pixels": 10_000})
    token = await _token(a, "alice")
    cases = {
        "notes.png": b"Patient list:\nbed 1 ...\n" * 40,       # text named as a PNG
        "report.png": b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n" * 40,  # a PDF named as a PNG
        "loop.png": _image("GIF", size=(40, 30)),               # a real image of a type not accepted here
        "cut.png": _image("PNG")[:300],                          # a PNG whose data stops short
        "wide.png": _image("PNG", size=(400, 30)),              # more pixels than allowed
    }
    errors = {}
    for name, data in cases.items():
        # When each is uploaded as image/png
        with caplog.at_level(logging.INFO, logger="server.api.media"):
            status, body = await _upload(http, a, token, data, name)
        # Then it is refused with 422 and a reason, and logged
        assert status == 422, (name, body)
        errors[name] = body["error"]
    assert all(error.startswith("Validation failed") for error in errors.values())
    assert "image/gif is not accepted" in errors["loop.png"] and "10000 pixels" in errors["wide.png"]
    assert sum("refused (422)" in record.getMessage() for record in caplog.records) == len(cases)
    assert _stored(a) == [] and await _rows(a) == 0


async def test_scopes_and_ownership(instances, http):
    # Given alice's upload, a read-only token of hers, and bob
    a = await instances.start()
    alice = await _token(a, "alice")
    async with a.db.sessions.begin() as session:
        reader = (await create_token(session, "alice", "read")).token
    bob = await _token(a, "bob")
    status, entity = await _upload(http, a, alice, _image("PNG", size=(64, 48)), "x.png")
    assert status == 200
    url = f"{a.base}/api/v1/media/{entity['id']}"

    # Then the read-only token may neither upload, read nor edit media
    assert (await _upload(http, a, reader, _image("PNG", size=(8, 8)), "y.png"))[0] == 403
    async with http.get(url, headers=_auth(reader)) as r:
        assert r.status == 403 and "error" in await r.json()
    async with http.put(url, json={"description": "x"}, headers=_auth(reader)) as r:
        assert r.status == 403
    async with http.post(f"{a.base}/api/v2/media") as r:
        assert r.status == 401

    # And the owner sees it, while bob, a missing id and a malformed one are all 404
    async with http.get(url, headers=_auth(alice)) as r:
        assert r.status == 200 and await r.json() == entity
    for other, token in ((url, bob), (f"{a.base}/api/v1/media/1", alice), (f"{a.base}/api/v1/media/x", alice)):
        async with http.get(other, headers=_auth(token)) as r:
            assert r.status == 404 and "error" in await r.json()
    async with http.put(url, json={"description": "mine now"}, headers=_auth(bob)) as r:
        assert r.status == 404


async def test_put_updates_description_and_focus_until_attached(instances, http):
    # Given alice's upload
    a = await instances.start()
    token = await _token(a, "alice")
    _, entity = await _upload(http, a, token, _image("PNG", size=(64, 48)), "x.png")
    url = f"{a.base}/api/v1/media/{entity['id']}"

    # When she sets a description and a focal point (JSON, then a form)
    async with http.put(url, json={"description": "Wound, day 3", "focus": "-0.5,0.75"}, headers=_auth(token)) as r:
        assert r.status == 200
        assert (await r.json())["description"] == "Wound, day 3"
    async with http.put(url, data={"description": "Wound, day 4"}, headers=_auth(token)) as r:
        assert r.status == 200

    # Then a GET shows both, and the ActivityPub attachment carries them
    async with http.get(url, headers=_auth(token)) as r:
        shown = await r.json()
    assert shown["description"] == "Wound, day 4" and shown["meta"]["focus"] == {"x": -0.5, "y": 0.75}
    async with a.db.sessions() as session:
        media = await session.get(Media, int(entity["id"]))
    assert media_to_ap_attachment(media, a.base) == {
        "type": "Document", "mediaType": "image/png", "url": entity["url"], "name": "Wound, day 4",
        "blurhash": entity["blurhash"], "width": 64, "height": 48, "focalPoint": [-0.5, 0.75],
    }

    # And a focal point out of range or a description too long is 422, changing nothing
    for bad in ({"focus": "2,0"}, {"focus": "left"}, {"description": "x" * 1501}):
        async with http.put(url, json=bad, headers=_auth(token)) as r:
            assert r.status == 422, bad
    async with http.get(url, headers=_auth(token)) as r:
        assert (await r.json()) == shown

    # When the media is attached to a post, Then it can no longer be edited here
    async with a.db.sessions.begin() as session:
        actor = await a.actor("alice")
        post = Object(uri=f"{a.base}/users/alice/statuses/1", type="Note", actor_id=actor.id, local=True,
                      visibility=Visibility.public, content="<p>case</p>")
        session.add(post)
        await session.flush()
        (await session.get(Media, int(entity["id"]))).object_id = post.id
    async with http.put(url, json={"description": "late"}, headers=_auth(token)) as r:
        assert r.status == 422 and "attached" in (await r.json())["error"]


async def test_media_files_cannot_be_reached_by_traversal(instances, http):
    # Given an upload, and the database file two levels above the media directory
    a = await instances.start()
    token = await _token(a, "alice")
    _, entity = await _upload(http, a, token, _image("PNG", size=(64, 48)), "x.png")
    name = entity["url"].rsplit("/", 1)[1]
    assert (a.settings.data_dir.parent / "rounds.db").exists() or a.settings.database.schema

    # When paths that climb out, or name files we did not mint, are asked for, Then all are 404
    for path in ("..%2F..%2Frounds.db", "%2e%2e%2f%2e%2e%2frounds.db", "..%5C..%5Crounds.db", "rounds.db",
                 "%2Fetc%2Fpasswd", f"..%2Fmedia%2F{name}", "AAAAAAAAAAAAAAAAAAAAAAAA.png", ".", "..%2F"):
        async with http.get(URL(f"{a.base}/media/{path}", encoded=True)) as r:
            assert r.status == 404, path
    async with http.get(URL(f"{a.base}/media/../../rounds.db", encoded=True)) as r:
        assert r.status == 404
    # while the real name is served
    assert (await _fetch(http, f"{a.base}/media/{name}"))[0] == 200


async def test_media_names_are_unguessable_and_nothing_lists_them(instances, http):
    # Given an allowlist instance and two uploads by alice
    a = await instances.start(federation={"mode": "allowlist"})
    token = await _token(a, "alice")
    _, first = await _upload(http, a, token, _image("PNG", size=(64, 48)), "x.png")
    _, second = await _upload(http, a, token, _image("PNG", size=(64, 48)), "x.png")

    # Then every name carries 144 random bits: 24 base64url characters, fresh each time
    tokens = {url.rsplit("/", 1)[1].split(".")[0] for entity in (first, second)
              for url in (entity["url"], entity["preview_url"])}
    assert len(tokens) == 2 and media_logic.NAME_BYTES * 8 >= 128
    assert all(len(t) == 24 and len(base64.urlsafe_b64decode(t)) == media_logic.NAME_BYTES for t in tokens)

    # And a file under any other name is never served, even one sitting in the media directory
    root = a.settings.data_dir / "media"
    planted = [f"{'A' * 16}.png", f"{'B' * 23}.png", f"{'C' * 25}.png"]  # 16..64 characters were once accepted
    for name in planted:
        (root / name).write_bytes(_image("PNG", size=(8, 8)))
    real = first["url"].rsplit("/", 1)[1]
    for name in [*planted, "abc.png", real[:12] + ".png", f"{'D' * 24}.png"]:
        async with http.get(f"{a.base}/media/{name}") as r:
            assert r.status == 404, name

    # And no directory is listed, in /media or in /static
    for path, status in (("/media/", 404), ("/media", 404), ("/static/", 403), ("/static", 403)):
        async with http.get(f"{a.base}{path}") as r:
            assert r.status == status and "avatar.png" not in await r.text(), path

    # While the real name is served to anyone, in allowlist mode too: the name is the capability
    assert (await _fetch(http, first["url"]))[0] == 200


async def test_media_of_deleted_posts_and_stale_uploads_are_swept_after_a_day(instances, http):
    # Given alice's uploads: four posted, three of those posts deleted (one with delete_media), one never attached
    a = await instances.start()
    token = await _token(a, "alice")
    ids = [(await _upload(http, a, token, _image("PNG", size=(32, 32)), f"{n}.png"))[1]["id"] for n in range(5)]
    kept, redrafted, dropped, purged, loose = ids
    held = (await _upload(http, a, token, _image("PNG", size=(32, 32)), "held.png"))[1]
    async with http.post(f"{a.base}/api/rounds/v1/articles", headers=_auth(token), json={
            "title": "Pressure ulcers", "body": "Turn every two hours.", "media_ids": [held["id"]]}) as r:
        assert r.status == 200 and (await r.json())["state"] == "draft"  # an article's draft holds this one
    urls, statuses = {}, {}
    for media_id in (kept, redrafted, dropped, purged):
        async with http.post(f"{a.base}/api/v1/statuses", json={"status": "ward round", "media_ids": [media_id]},
                             headers=_auth(token)) as r:
            statuses[media_id] = await r.json()
            urls[media_id] = statuses[media_id]["media_attachments"][0]["url"]
    for media_id, query in ((redrafted, ""), (dropped, ""), (purged, "?delete_media=true")):
        async with http.delete(f"{a.base}/api/v1/statuses/{statuses[media_id]['id']}{query}", headers=_auth(token)) as r:
            assert r.status == 200
    root = a.settings.media_dir

    async def sweep_now() -> int:
        async with a.fed.transaction() as session:
            return await media_logic.sweep(session, root, a.clock.now())

    # Then delete_media took its files at once; the others stay a day, and a redraft may reuse them
    assert (await _fetch(http, urls[purged]))[0] == 404 and await _rows(a) == 5
    assert await sweep_now() == 0
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "ward round, corrected",
                                                             "media_ids": [redrafted]}, headers=_auth(token)) as r:
        assert r.status == 200 and (await r.json())["media_attachments"][0]["url"] == urls[redrafted]
    # When a day passes, Then the deleted post's media and the never-attached upload go (not the
    # one a draft article holds until it is published)
    a.clock.advance(hours=25)
    assert await sweep_now() == 2
    assert (await _fetch(http, urls[dropped]))[0] == 404
    assert [(await _fetch(http, urls[m]))[0] for m in (kept, redrafted)] == [200, 200]
    assert (await _fetch(http, held["url"]))[0] == 200
    assert len(_stored(a)) == 6 and await _rows(a) == 3
    assert await sweep_now() == 0
    async with http.get(f"{a.base}/api/v1/media/{loose}", headers=_auth(token)) as r:
        assert r.status == 404
