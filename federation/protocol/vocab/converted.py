"""Objects of other types, shown as posts the way Mastodon shows them.

An Article, a Page, an Image, a Video, an Audio or an Event is not a microblog post, but it can
be shown as one, and Mastodon does: its text is the object's title as the first paragraph, then
its summary, then a link to the object itself; its own `content` (a whole article, an event's
description) is left to its page, and the summary is no content warning. An Event's text also
says when and where it takes place. A media object (Image, Video, Audio) with no `attachment`
is its own attachment: the media links in its `url`.

An attachment that does not say its media type takes it from its URL's file extension
(`media_type_from_url`), so a `.jpg` still shows as an image.
"""

from __future__ import annotations

import html
import mimetypes
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from federation.protocol.vocab.values import as_list, count, id_of, is_uri, parse_datetime

CONVERTED_TYPES = frozenset({"Article", "Page", "Image", "Video", "Audio", "Event"})
MEDIA_TYPES = frozenset({"Image", "Video", "Audio"})
_MEDIA = ("image/", "video/", "audio/")
# extensions mimetypes may not know on every system
_EXTENSIONS = {".webp": "image/webp", ".avif": "image/avif", ".heic": "image/heic", ".webm": "video/webm",
               ".m4a": "audio/mp4", ".opus": "audio/ogg", ".oga": "audio/ogg", ".ogg": "audio/ogg",
               ".flac": "audio/flac", ".mov": "video/quicktime", ".mp4": "video/mp4", ".mp3": "audio/mpeg"}


def media_type_from_url(url: str) -> str | None:
    """The media type a URL's file extension names (`.../scan.JPG` -> image/jpeg), or None."""
    path = urlsplit(url).path.lower()
    dot = path.rfind(".")
    if dot < 0 or "/" in path[dot:]:
        return None
    return _EXTENSIONS.get(path[dot:]) or mimetypes.guess_type(f"file{path[dot:]}", strict=False)[0]


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _title(document: dict) -> str:
    title = _text(document.get("name"))
    mapping = document.get("nameMap")
    if not title and isinstance(mapping, dict) and mapping:
        title = _text(next(iter(mapping.values())))
    return title


def _when(start: datetime | None, end: datetime | None) -> str:
    def shown(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%d %H:%M UTC")
    if start is None:
        return ""
    if end is None or end <= start:
        return shown(start)
    if end.date() == start.date():
        return f"{shown(start)[:-4]} – {end.strftime('%H:%M')} UTC"
    return f"{shown(start)} – {shown(end)}"


def _place(value: Any) -> str:
    """A `location` as one line: a Place's name and its address (a PostalAddress or text)."""
    value = value[0] if isinstance(value, list) and value else value
    if isinstance(value, str):
        return value.strip()
    if not isinstance(value, dict):
        return ""
    address = value.get("address")
    if isinstance(address, dict):
        address = ", ".join(_text(address.get(key)) for key in (
            "streetAddress", "postalCode", "addressLocality", "addressRegion", "addressCountry")
            if _text(address.get(key)))
    parts = [_text(value.get("name")), _text(address)]
    return ", ".join(dict.fromkeys(part for part in parts if part))


def converted_content(document: dict, kind: str, summary: str, link: str) -> str:
    """The HTML a post of another type shows (sanitised later, as any remote HTML is)."""
    paragraphs = []
    title = _title(document)
    if title:
        paragraphs.append(f"<p><strong>{html.escape(title)}</strong></p>")
    if kind == "Event":
        when = _when(parse_datetime(document.get("startTime")), parse_datetime(document.get("endTime")))
        place = _place(document.get("location"))
        paragraphs += [f"<p>{html.escape(line)}</p>" for line in (when, place) if line]
    if summary.strip():
        paragraphs.append(summary if summary.lstrip().startswith("<") else f"<p>{html.escape(summary)}</p>")
    paragraphs.append(f'<p><a href="{html.escape(link)}">{html.escape(link)}</a></p>')
    return "".join(paragraphs)


def media_in_url(document: dict) -> list[dict[str, Any]]:
    """A media object's own media: each link in its `url` whose media type (given, the
    object's, or from the extension) is an image, a video or an audio, as attachment fields."""
    found = []
    for candidate in as_list(document.get("url")):
        link = candidate if isinstance(candidate, dict) else {}
        url = id_of(link.get("href")) if link else id_of(candidate)
        if not is_uri(url):
            continue
        media_type = next((value for value in (link.get("mediaType"), document.get("mediaType"))
                           if isinstance(value, str)), None) or media_type_from_url(url)
        if media_type and media_type.startswith(_MEDIA):
            found.append({"url": url, "media_type": media_type, "name": _title(document) or None,
                          "width": count(link.get("width")) or None, "height": count(link.get("height")) or None})
    return found
