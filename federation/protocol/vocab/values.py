"""Single JSON-LD values as peers send them: a type that may be one name or several, a value
that may be one or many, a reference that may be an id or an embedded object, a URL, a date, a
count. Documents are parsed in `parse`.

`type_of` is the one reader of a document's `type`: every caller (the parser, polls, handlers)
asks it, so a list-valued, null or numeric type means the same thing everywhere: a known type,
or UNSUPPORTED, which is recorded and acknowledged, never retried and never a crash."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timezone
from collections.abc import Collection
from typing import Any
from urllib.parse import urlsplit

MAX_COUNT = 2**31 - 1
MAX_URI_CHARS = 2048  # the longest id or URL the database keeps
MAX_TYPE_CHARS = 64   # the longest activity type the inbox records
UNSUPPORTED = "unsupported"
_AS_PREFIXES = ("https://www.w3.org/ns/activitystreams#", "as:")
_LANGUAGE = re.compile(r"[A-Za-z]{2,8}(?:-[A-Za-z0-9]{1,8})*")  # a BCP 47 tag, roughly
MAX_LANGUAGE_CHARS = 16  # the longest language tag the database keeps
MAX_HASHTAG_CHARS = 255  # the longest tag name the database keeps
HASHTAG_JOINERS = "\u00b7\u30fb\u200c"  # middle dot, katakana middle dot, zero-width non-joiner
# http(s)://host[:port]/... with nothing urlsplit would strip, remove (tabs, line breaks) or
# check (userinfo, brackets): most ids, and is_uri can say yes to them without splitting them
# once the port, if any, is in range.
_PLAIN_URL = re.compile(r"https?://[^/?#:@\t\r\n\[\]]+(?::([0-9]{1,5}))?(?:[/?#][^\t\r\n\[\]]*)?")


def type_of(value: Any, known: Collection[str] | None = None) -> str:
    """A document's `type` as one name: the first of its names (JSON-LD allows a list, such as
    ["Note", "Thing"]) that is in `known`, or with no `known`, the first name at all (an
    activity: whether it has a handler is the registry's business). `as:Note` and the full IRI
    read as `Note`. UNSUPPORTED for anything else: no name we know, null, a number, an object,
    a missing key, a name longer than MAX_TYPE_CHARS."""
    for name in (value if isinstance(value, list) else [value]):
        if not isinstance(name, str):
            continue
        for prefix in _AS_PREFIXES:
            name = name.removeprefix(prefix)
        if name and len(name) <= MAX_TYPE_CHARS and (known is None or name in known):
            return name
    return UNSUPPORTED


def hashtag_name(name: str) -> str | None:
    """A hashtag's name as stored (`#Tag` -> `tag`), or None if it is not a valid one. The rule
    is Mastodon's: letters, digits, combining marks and underscores, with HASHTAG_JOINERS allowed
    between them (never first or last), and at least one letter: so no spaces, punctuation,
    control characters or names of digits only."""
    name = name.removeprefix("#").lower()
    if not name or len(name) > MAX_HASHTAG_CHARS or name[0] in HASHTAG_JOINERS or name[-1] in HASHTAG_JOINERS:
        return None
    if name.isascii():  # most names: the rule below, without a look at each character
        letters_digits = name.replace("_", "")
        return name if letters_digits.isalnum() and not letters_digits.isdigit() else None
    if not any(c.isalpha() for c in name):
        return None
    if not all(c.isalnum() or c == "_" or c in HASHTAG_JOINERS or unicodedata.category(c).startswith("M")
               for c in name):
        return None
    return name


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
    port if any that is a number in range), of at most MAX_URI_CHARS."""
    if not isinstance(value, str) or len(value) > MAX_URI_CHARS:
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


def uri_or_none(value: Any) -> str | None:
    """The id of a reference if it is an absolute http(s) URL, else None."""
    found = id_of(value)
    return found if is_uri(found) else None


def language_tag(value: Any) -> str | None:
    """A language tag (`en`, `pt-BR`) as a `contentMap` key names it, or None if it is not one."""
    if isinstance(value, str) and len(value) <= MAX_LANGUAGE_CHARS and _LANGUAGE.fullmatch(value):
        return value
    return None


def shown(value: Any) -> str:
    """A peer's value for an error message: its repr, cut short."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def count(value: Any) -> int | None:
    """A number a peer reports (a size, a tally), if it is a whole number from 0 to 2**31 - 1:
    a larger one is a forgery or a bug, and would not fit the database or a client's JSON."""
    return value if type(value) is int and 0 <= value <= MAX_COUNT else None


def parse_datetime(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed.astimezone(timezone.utc) if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError):  # not a date, or one that is not a time in UTC (year 1, -05:00)
        return None


class VocabError(ValueError):
    """The document cannot be understood; the message says what is wrong, in one line."""


def required_uri(document: dict, key: str, what: str) -> str:
    value = id_of(document.get(key))
    if not is_uri(value):
        raise VocabError(f"{what} needs an absolute http(s) '{key}', got {shown(document.get(key))}")
    return value


def text_of(value: Any) -> str:
    return value if isinstance(value, str) else ""


def html_url(document: dict) -> str | None:
    for candidate in as_list(document.get("url")):
        if isinstance(candidate, dict) and candidate.get("mediaType") not in (None, "text/html"):
            continue
        uri = id_of(candidate)
        if is_uri(uri):
            return uri
    return None
