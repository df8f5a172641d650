"""Content filters (Mastodon's filters v2): what a practitioner's active filters match in a post,
and the writes of the filters API.

A keyword matches the post's text as a reader sees it: its content without markup, its content
warning, its poll's options and its media descriptions, in any case. A `whole_word` keyword
matches only where it is not part of a longer word: at each end that is a word character, the
text next to it must not be one. A filter also matches the posts listed in it, by id. Which
contexts a filter names and whether its action hides is for the reader of the match
(server.api.filtering); an expired filter is never loaded, so it matches nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from html.parser import HTMLParser

from sqlalchemy.ext.asyncio import AsyncSession

from storage import filters as stored
from storage.filters import FilterRows
from storage.models import FILTER_CONTEXTS, Filter, FilterAction, FilterKeyword, FilterStatus

MAX_FILTERS = 100
MAX_KEYWORDS = 100
MAX_TITLE = 256
MAX_KEYWORD = 512
KEEP = object()  # an update that leaves the expiry as it is


class FilterRefused(Exception):
    """A filter write the API answers with `status` (404 or 422) and `message`; nothing is written."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class KeywordChange:
    """One entry of `keywords_attributes`: a new keyword (no id), a change to one, or its removal."""

    id: int | None = None
    keyword: str | None = None
    whole_word: bool | None = None
    destroy: bool = False


@dataclass(frozen=True)
class FilterChange:
    """A filter as created, or the fields an update changes (None: unchanged)."""

    title: str | None = None
    contexts: list[str] | None = None
    action: FilterAction | None = None
    expires_in: object = KEEP  # seconds, None for never, KEEP for unchanged
    keywords: tuple[KeywordChange, ...] = ()


# --- matching ----------------------------------------------------------------------------------

class _Text(HTMLParser):
    BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_text(html: str) -> str:
    """The text a reader sees in `html`, lines kept apart."""
    parser = _Text()
    parser.feed(html)
    parser.close()
    return "".join(parser.parts)


_WORD = re.compile(r"\w")


def keyword_pattern(keyword: str, whole_word: bool) -> str:
    pattern = re.escape(keyword)
    if whole_word and keyword:
        if _WORD.match(keyword[0]):
            pattern = r"(?<!\w)" + pattern
        if _WORD.match(keyword[-1]):
            pattern += r"(?!\w)"
    return pattern


@dataclass(frozen=True)
class Match:
    filter: Filter
    keywords: list[str]   # the keywords of the filter found in the post
    statuses: list[str]   # the post's id, if the filter lists it


class Matcher:
    """A viewer's active filters, compiled once for a rendering."""

    def __init__(self, rows: list[FilterRows]) -> None:
        self._filters = [(row.filter, [(k.keyword, re.compile(keyword_pattern(k.keyword, k.whole_word), re.IGNORECASE))
                                       for k in row.keywords if k.keyword],
                          {s.object_id for s in row.statuses}) for row in rows]

    def __bool__(self) -> bool:
        return bool(self._filters)

    def match(self, object_id: int, texts: list[str]) -> list[Match]:
        """The filters matching the post `object_id`, whose text (already without markup) is `texts`."""
        text = "\n".join(t for t in texts if t)
        found = []
        for row, keywords, status_ids in self._filters:
            words = [keyword for keyword, pattern in keywords if pattern.search(text)]
            listed = [str(object_id)] if object_id in status_ids else []
            if words or listed:
                found.append(Match(row, words, listed))
        return found


# --- writes --------------------------------------------------------------------------------------

def _title(title: str) -> str:
    title = title.strip()
    if not title:
        raise FilterRefused(422, "Validation failed: Title can't be blank")
    if len(title) > MAX_TITLE:
        raise FilterRefused(422, f"Validation failed: Title is too long (at most {MAX_TITLE} characters)")
    return title


def _contexts(contexts: list[str]) -> str:
    unknown = sorted(set(contexts) - set(FILTER_CONTEXTS))
    if unknown:
        raise FilterRefused(422, f"Validation failed: Context has an unknown value: {', '.join(unknown)} "
                                 f"(one of {', '.join(FILTER_CONTEXTS)})")
    if not contexts:
        raise FilterRefused(422, "Validation failed: Context can't be blank")
    return ",".join(c for c in FILTER_CONTEXTS if c in contexts)


def _keyword(keyword: str | None) -> str:
    keyword = (keyword or "").strip()
    if not keyword:
        raise FilterRefused(422, "Validation failed: Keyword can't be blank")
    if len(keyword) > MAX_KEYWORD:
        raise FilterRefused(422, f"Validation failed: Keyword is too long (at most {MAX_KEYWORD} characters)")
    return keyword


def _expiry(expires_in: object, now: datetime) -> datetime | None:
    if expires_in is None:
        return None
    if not isinstance(expires_in, int) or expires_in <= 0 or expires_in > 10 * 365 * 86400:
        raise FilterRefused(422, "Validation failed: expires_in must be a number of seconds, at most ten years")
    return now + timedelta(seconds=expires_in)


async def create(session: AsyncSession, actor_id: int, change: FilterChange, now: datetime) -> int:
    """A new filter of the actor's, with its keywords; its id."""
    if change.title is None or change.contexts is None:
        raise FilterRefused(422, "Validation failed: a filter needs a title and at least one context")
    if any(k.id is not None for k in change.keywords):
        raise FilterRefused(404, "Record not found: a new filter has no keywords to change")
    if len(await stored.filters_of(session, actor_id)) >= MAX_FILTERS:
        raise FilterRefused(422, f"Validation failed: at most {MAX_FILTERS} filters")
    row = Filter(actor_id=actor_id, title=_title(change.title), contexts=_contexts(change.contexts),
                 action=change.action or FilterAction.warn,
                 expires_at=None if change.expires_in is KEEP else _expiry(change.expires_in, now), created_at=now)
    keywords = [FilterKeyword(keyword=_keyword(k.keyword), whole_word=True if k.whole_word is None else k.whole_word)
                for k in change.keywords if not k.destroy]
    if len(keywords) > MAX_KEYWORDS:
        raise FilterRefused(422, f"Validation failed: at most {MAX_KEYWORDS} keywords a filter")
    session.add(row)
    await session.flush()
    for keyword in keywords:
        keyword.filter_id = row.id
        session.add(keyword)
    return row.id


async def update(session: AsyncSession, rows: FilterRows, change: FilterChange, now: datetime) -> None:
    """Change a filter and its keywords; everything is checked before anything is written."""
    row = rows.filter
    title = _title(change.title) if change.title is not None else row.title
    contexts = _contexts(change.contexts) if change.contexts is not None else row.contexts
    expires_at = row.expires_at if change.expires_in is KEEP else _expiry(change.expires_in, now)
    existing = {k.id: k for k in rows.keywords}
    edits, removals, additions = [], set(), []
    for k in change.keywords:
        if k.id is not None and k.id not in existing:
            raise FilterRefused(404, "Record not found: no such keyword in this filter")
        if k.id is not None and k.destroy:
            removals.add(k.id)
        elif k.id is not None:
            keyword = _keyword(k.keyword) if k.keyword is not None else existing[k.id].keyword
            edits.append((existing[k.id], keyword, k.whole_word))
        elif not k.destroy:
            additions.append(FilterKeyword(filter_id=row.id, keyword=_keyword(k.keyword),
                                           whole_word=True if k.whole_word is None else k.whole_word))
    if len(existing) - len(removals) + len(additions) > MAX_KEYWORDS:
        raise FilterRefused(422, f"Validation failed: at most {MAX_KEYWORDS} keywords a filter")
    row.title, row.contexts, row.expires_at = title, contexts, expires_at
    if change.action is not None:
        row.action = change.action
    for keyword, text, whole_word in edits:
        keyword.keyword = text
        if whole_word is not None:
            keyword.whole_word = whole_word
    if removals:
        await stored.delete_keywords(session, row.id, removals)
    session.add_all(additions)


async def add_keyword(session: AsyncSession, rows: FilterRows, keyword: str | None, whole_word: bool) -> FilterKeyword:
    if len(rows.keywords) >= MAX_KEYWORDS:
        raise FilterRefused(422, f"Validation failed: at most {MAX_KEYWORDS} keywords a filter")
    row = FilterKeyword(filter_id=rows.filter.id, keyword=_keyword(keyword), whole_word=whole_word)
    session.add(row)
    await session.flush()
    return row


def edit_keyword(row: FilterKeyword, keyword: str | None, whole_word: bool | None) -> None:
    if keyword is not None:
        row.keyword = _keyword(keyword)
    if whole_word is not None:
        row.whole_word = whole_word


async def add_status(session: AsyncSession, rows: FilterRows, object_id: int) -> FilterStatus:
    """List a post in a filter (once: listing it again answers the same row)."""
    row = await stored.filtered_status(session, rows.filter.id, object_id)
    if row is None:
        row = FilterStatus(filter_id=rows.filter.id, object_id=object_id)
        session.add(row)
        await session.flush()
    return row
