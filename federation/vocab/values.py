"""Single JSON-LD values as peers send them: a value that may be one or many, a reference that
may be an id or an embedded object, a URL, a date, a count. Documents are parsed in `parse`."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from typing import Any
from urllib.parse import urlsplit

MAX_COUNT = 2**31 - 1
# http(s)://host[:port]/... with nothing urlsplit would strip, remove (tabs, line breaks) or
# check (userinfo, brackets): most ids, and is_uri can say yes to them without splitting them
# once the port, if any, is in range.
_PLAIN_URL = re.compile(r"https?://[^/?#:@\t\r\n\[\]]+(?::([0-9]{1,5}))?(?:[/?#][^\t\r\n\[\]]*)?")


def as_list(value: Any) -> list[Any]:
    """A JSON-LD value that may be absent, single or a list, as a list."""
    if value is None:
        return []
    return list(value) if isinstance(value, list) else [value]


def id_of(value: Any) -> str | None:
    """The id of a reference: a string, or an object with an `id` (or `href` for links)."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        found = value.get("id") or value.get("href")
        return found if isinstance(found, str) else None
    return None


def is_uri(value: Any) -> bool:
    """An absolute http(s) URL, as urlsplit sees it (a scheme of http or https, a host, and a
    port if any that is a number in range)."""
    if not isinstance(value, str):
        return False
    plain = _PLAIN_URL.fullmatch(value)
    if plain is not None and int(plain[1] or 0) <= 65535:
        return True
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 -- raises on a port that is not a number in range
    except ValueError:  # an unclosed IPv6 bracket, say: not a URL anyone can fetch
        return False
    return parts.scheme in ("https", "http") and bool(parts.hostname)


def count(value: Any) -> int | None:
    """A number a peer reports (a size, a tally), if it is a whole number from 0 to 2**31 - 1:
    a larger one is a forgery or a bug, and would not fit the database or a client's JSON."""
    return value if type(value) is int and 0 <= value <= MAX_COUNT else None


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
