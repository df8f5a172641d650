"""Custom emoji tags (`{"type": "Emoji", "name": ":blobcat:", "icon": {"url": ...}}`), as
Mastodon, Misskey and others put them in a post's or an actor's `tag`, parsed at the boundary."""

from __future__ import annotations

import re
from dataclasses import dataclass
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

