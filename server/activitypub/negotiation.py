"""Accept-header negotiation between ActivityStreams JSON and HTML.

A missing Accept, or one that accepts anything, gets JSON: federation software is the main
caller and some fetchers send no Accept at all. A browser's Accept ranks text/html first and
gets the page. An Accept that names only other types gets 406.
"""

from __future__ import annotations

import enum
import functools

from server.responses import AP_JSON, LD_JSON


class Representation(enum.Enum):
    activity_json = AP_JSON
    ld_json = LD_JSON
    html = "text/html; charset=utf-8"


_EXACT = {
    "application/activity+json": Representation.activity_json,
    "application/ld+json": Representation.ld_json,
    "application/json": Representation.activity_json,
    "text/html": Representation.html,
    "application/xhtml+xml": Representation.html,
}
_WILDCARD = {
    "*/*": Representation.activity_json,
    "application/*": Representation.activity_json,
    "text/*": Representation.html,
}


@functools.lru_cache(maxsize=256)  # clients send a few Accept headers, over and over
def negotiate(accept: str | None) -> Representation | None:
    """The representation to send for this Accept header, or None for 406."""
    if not accept or not accept.strip():
        return Representation.activity_json
    best: tuple[float, int, int, Representation] | None = None
    for position, media_range in enumerate(accept.split(",")):
        mime, *params = (part.strip() for part in media_range.split(";"))
        mime = mime.lower()
        quality = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        choice = _EXACT.get(mime)
        specificity = 1
        if choice is None:
            choice, specificity = _WILDCARD.get(mime), 0
        if choice is None or quality <= 0:
            continue
        rank = (quality, specificity, -position)
        if best is None or rank > best[:3]:
            best = (*rank, choice)
    return None if best is None else best[3]
