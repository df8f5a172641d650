"""Custom emoji tags (`{"type": "Emoji", "name": ":blobcat:", "icon": {"url": ...}}`), as
Mastodon, Misskey and others put them in a post's or an actor's `tag`: parsed at the boundary
(`emoji_tags`), and rendered for ours (`emoji_to_ap`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from federation.protocol.vocab.values import as_list, id_of, is_uri

SHORTCODE = re.compile(r"[A-Za-z0-9_]{2,64}")
MAX_EMOJIS = 100  # per document: more are ignored


@dataclass(frozen=True)
class EmojiTag:
    shortcode: str  # without the colons
    url: str


def emoji_tags(document: dict[str, Any]) -> tuple[EmojiTag, ...]:
    """The well-formed Emoji tags of a document: a shortcode and an http(s) image URL each."""
    found: dict[str, EmojiTag] = {}
    for tag in as_list(document.get("tag")):
        if not isinstance(tag, dict) or tag.get("type") not in ("Emoji", "toot:Emoji"):
            continue
        name = tag.get("name")
        code = name.strip(":") if isinstance(name, str) else ""
        icon = tag.get("icon")
        if isinstance(icon, list):
            icon = icon[0] if icon else None
        url = id_of(icon.get("url")) if isinstance(icon, dict) else None
        if SHORTCODE.fullmatch(code) and is_uri(url) and code not in found:
            found[code] = EmojiTag(code, url)
        if len(found) >= MAX_EMOJIS:
            break
    return tuple(found.values())


def emoji_to_ap(shortcode: str, image_url: str, media_type: str, updated: datetime) -> dict[str, Any]:
    """One of our emojis as a tag of a document that uses it (Mastodon's shape; `updated` tells a
    peer that kept an older image to fetch it again)."""
    stamp = (updated if updated.tzinfo else updated.replace(tzinfo=UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"type": "Emoji", "name": f":{shortcode}:", "updated": stamp,
            "icon": {"type": "Image", "mediaType": media_type, "url": image_url}}
