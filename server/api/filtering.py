"""Filters as the client API shows them: the Filter, FilterKeyword and FilterStatus entities, and
a post's `filtered` (a FilterResult for each active filter of the viewer's that matches it).

`filtered` names every matching filter, whatever its contexts, as Mastodon does: a client picks
those of the context it shows. A listing of one context (home, public, notifications, thread,
account) leaves out, itself, the posts a `hide` filter of that context matches (`hidden`), so a
client that knows nothing of filters does not show them either.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from federation.social.filters import Match, Matcher, html_text
from server.api.times import iso
from storage.filters import FilterRows, active_filters
from storage.models import Filter, FilterAction, FilterKeyword, FilterStatus


def filter_head(row: Filter) -> dict[str, Any]:
    """A Filter entity without its keywords and statuses (as a FilterResult carries it)."""
    return {"id": str(row.id), "title": row.title, "context": row.context_list,
            "expires_at": iso(row.expires_at), "filter_action": row.action.value}


def keyword_entity(row: FilterKeyword) -> dict[str, Any]:
    return {"id": str(row.id), "keyword": row.keyword, "whole_word": row.whole_word}


def status_entity(row: FilterStatus) -> dict[str, Any]:
    return {"id": str(row.id), "status_id": str(row.object_id)}


def filter_entity(rows: FilterRows) -> dict[str, Any]:
    return {**filter_head(rows.filter), "keywords": [keyword_entity(k) for k in rows.keywords],
            "statuses": [status_entity(s) for s in rows.statuses]}


def v1_filter_entity(row: Filter, keyword: FilterKeyword) -> dict[str, Any]:
    """One keyword of a filter as the v1 API showed a filter (Mastodon's V1::Filter)."""
    return {"id": str(keyword.id), "phrase": keyword.keyword, "context": row.context_list,
            "whole_word": keyword.whole_word, "expires_at": iso(row.expires_at),
            "irreversible": row.action is FilterAction.hide}


def _result(match: Match) -> dict[str, Any]:
    return {"filter": filter_head(match.filter), "keyword_matches": match.keywords or None,
            "status_matches": match.statuses or None}


class FilterResults:
    """The `filtered` of posts, for one viewer in one rendering: the active filters are read once,
    on the first post that needs them."""

    def __init__(self, session: Session, viewer_id: int | None, now) -> None:
        self._session, self._viewer_id, self._now = session, viewer_id, now
        self._matcher: Matcher | None = None

    def _load(self) -> Matcher:
        if self._matcher is None:
            rows = active_filters(self._session, self._viewer_id, self._now) if self._viewer_id is not None else []
            self._matcher = Matcher(rows)
        return self._matcher

    def of(self, object_id: int, author_id: int, content: str, spoiler: str, poll_options: list[str],
           descriptions: list[str | None]) -> list[dict[str, Any]]:
        """The `filtered` of a post; the viewer's own posts match none of her filters."""
        if author_id == self._viewer_id:
            return []
        matcher = self._load()
        if not matcher:
            return []
        texts = [spoiler, html_text(content), *poll_options, *(d for d in descriptions if d)]
        return [_result(m) for m in matcher.match(object_id, texts)]


def hidden(entity: dict[str, Any], context: str) -> bool:
    """Whether a `hide` filter of `context` matches the status `entity` (a boost: its post)."""
    return any(result["filter"]["filter_action"] == FilterAction.hide.value and context in result["filter"]["context"]
               for result in entity.get("filtered") or ())


def shown(entities: list[dict[str, Any]], context: str) -> list[dict[str, Any]]:
    """The status entities a listing of `context` shows: those no `hide` filter of it matches."""
    return [entity for entity in entities if not hidden(entity, context)]
