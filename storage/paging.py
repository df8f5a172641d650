"""Mastodon-style paging by time-ordered ids, shared by every list the client API serves.

A page is at most `limit` items, newest first. `max_id` asks for items older than it;
`since_id` for items newer than it (still the newest `limit` of them); `min_id` for the items
just newer than it (the oldest `limit` of those).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Select


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


def newest_first(rows: list, cursor: Cursor, key=lambda row: row.id) -> list:
    rows = sorted(rows, key=key, reverse=True)
    return rows[-cursor.limit:] if cursor.min_id is not None else rows[:cursor.limit]
