"""Mastodon-style paging by time-ordered ids, shared by every list the client API serves.

A page is at most `limit` items, newest first. `max_id` asks for items older than it;
`since_id` for items newer than it (still the newest `limit` of them); `min_id` for the items
just newer than it (the oldest `limit` of those).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, bindparam


@dataclass(frozen=True)
class Cursor:
    max_id: int | None = None
    since_id: int | None = None
    min_id: int | None = None
    limit: int = 20


def apply(query: Select, column, cursor: Cursor) -> Select:
    if cursor.max_id is not None:
        query = query.where(column < cursor.max_id)
    if cursor.since_id is not None:
        query = query.where(column > cursor.since_id)
    if cursor.min_id is not None:
        return query.where(column > cursor.min_id).order_by(column.asc()).limit(cursor.limit)
    return query.order_by(column.desc()).limit(cursor.limit)


class PagedStatement:
    """`query` paged by `column`, for a page read on every request: a statement is built once
    per cursor shape (which of max_id, since_id and min_id are given), and the cursor's values
    are bound when it runs. Building a statement costs more than running it."""

    def __init__(self, query: Select, column) -> None:
        self._query, self._column = query, column
        self._built: dict[tuple[bool, bool, bool], Select] = {}

    def __call__(self, cursor: Cursor, **values: Any) -> tuple[Select, dict[str, Any]]:
        shape = (cursor.max_id is not None, cursor.since_id is not None, cursor.min_id is not None)
        if shape not in self._built:
            bound = Cursor(*(bindparam(name) if given else None
                             for name, given in zip(("max_id", "since_id", "min_id"), shape)), bindparam("limit"))
            self._built[shape] = apply(self._query, self._column, bound)
        return self._built[shape], {"max_id": cursor.max_id, "since_id": cursor.since_id,
                                    "min_id": cursor.min_id, "limit": cursor.limit, **values}


def newest_first(rows: list, cursor: Cursor, key=lambda row: row.id) -> list:
    rows = sorted(rows, key=key, reverse=True)
    return rows[-cursor.limit:] if cursor.min_id is not None else rows[:cursor.limit]
