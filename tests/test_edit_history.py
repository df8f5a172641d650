"""An edit's history keeps each earlier version as it was: its text, content warning and
attachments, not the ones the edit brought."""

from __future__ import annotations

import io

import aiohttp
from PIL import Image


def _png(colour: tuple[int, int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "PNG")
    return out.getvalue()


async def _upload(http, a, headers, colour, description: str) -> dict:
    form = aiohttp.FormData({"description": description})
    form.add_field("file", _png(colour), filename="ward.png", content_type="image/png")
    async with http.post(f"{a.base}/api/v2/media", data=form, headers=headers) as r:
        assert r.status == 200, await r.text()
        return await r.json()


async def test_replacing_an_attachment_keeps_the_old_one_in_the_history(api):
    # Given alice's post with a photo of the wound on day 1
    a, http, alice, _ = api
    day1 = await _upload(http, a, alice, (200, 20, 20), "Wound, day 1")
    async with http.post(f"{a.base}/api/v1/statuses", json={"status": "dressing changed", "media_ids": [day1["id"]],
                                                             "spoiler_text": "wound"}, headers=alice) as r:
        assert r.status == 200, await r.text()
        status = await r.json()

    # When she edits it, replacing the photo with day 4's and changing the text and warning
    day4 = await _upload(http, a, alice, (20, 20, 200), "Wound, day 4")
    async with http.put(f"{a.base}/api/v1/statuses/{status['id']}", headers=alice,
                        json={"status": "dressing changed again", "media_ids": [day4["id"]], "spoiler_text": "wound, day 4"}) as r:
        assert r.status == 200, await r.text()
        edited = await r.json()

    # Then the history's first version has the old photo, text and warning; the latest the new ones
    async with http.get(f"{a.base}/api/v1/statuses/{status['id']}/history", headers=alice) as r:
        assert r.status == 200
        first, latest = await r.json()
    assert [m["url"] for m in first["media_attachments"]] == [day1["url"]]
    assert [m["description"] for m in first["media_attachments"]] == ["Wound, day 1"]
    assert "dressing changed<" in first["content"] and first["spoiler_text"] == "wound"
    assert [m["url"] for m in latest["media_attachments"]] == [day4["url"]]
    assert "again" in latest["content"] and latest["spoiler_text"] == "wound, day 4"
    assert [m["url"] for m in edited["media_attachments"]] == [day4["url"]]
