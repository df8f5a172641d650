"""Custom emoji tags (`{"type": "Emoji", "name": ":blobcat:", "icon": {"url": ...}}`), as
Mastodon, Misskey and others put them in a post's or an actor's `tag`: parsed at the boundary
(`emoji_tags`), and rendered for ours (`emoji_to_ap`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from federation.protocol.vocab.context import AS_CONTEXT
from federation.protocol.vocab.render import ap_datetime
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


EMOJI_CONTEXT: list[Any] = [AS_CONTEXT, {"toot": "http://joinmastodon.org/ns#", "Emoji": "toot:Emoji"}]


def emoji_to_ap(emoji_id: str, shortcode: str, image_url: str, media_type: str, updated: datetime) -> dict[str, Any]:
    """One of our emojis, as the tag of a document that uses it and as its own document (at
    `emoji_id`, which receivers such as GoToSocial require); Mastodon's shape. `updated` tells
    a peer that kept an older image to fetch it again."""
    return {"id": emoji_id, "type": "Emoji", "name": f":{shortcode}:", "updated": ap_datetime(updated),
            "icon": {"type": "Image", "mediaType": media_type, "url": image_url}}
