"""Cursor paging over newest-first collections.

Every collection pages by a time-ordered row id (see `storage.ids`): `max_id` gives the page of
items older than a cursor, `min_id` the page of items newer than it. A page knows whether there
is anything beyond each of its ends, so the caller can emit `next`/`prev` only when they lead
somewhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from sqlalchemy import Select, and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.communities import institution_only_group
from storage.models import Activity, Actor, Follow, FollowState, Object

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[tuple[int, T]]  # (cursor id, item), newest first
    has_older: bool
    has_newer: bool

    @property
    def newest_id(self) -> int | None:
        return self.items[0][0] if self.items else None

    @property
    def oldest_id(self) -> int | None:
        return self.items[-1][0] if self.items else None


async def _page(
    session: AsyncSession,
    query: Select,
    id_column,
    *,
    limit: int,
    max_id: int | None,
    min_id: int | None,
) -> Page:
    """Run `query` (selecting (id, item)) as one page. `min_id` wins over `max_id`."""
    if min_id is not None:
        rows = list(
            await session.execute(
                query.where(id_column > min_id).order_by(id_column.asc()).limit(limit + 1)
            )
        )
        has_newer = len(rows) > limit
        rows = list(reversed(rows[:limit]))
        has_older = await _any(session, query, id_column <= min_id)
    else:
        base = query if max_id is None else query.where(id_column < max_id)
        rows = list(await session.execute(base.order_by(id_column.desc()).limit(limit + 1)))
        has_older = len(rows) > limit
        rows = rows[:limit]
        has_newer = max_id is not None and await _any(session, query, id_column >= max_id)
    return Page([(row[0], row[1]) for row in rows], has_older=has_older, has_newer=has_newer)


async def _any(session: AsyncSession, query: Select, condition) -> bool:
    return bool(await session.scalar(select(exists(query.where(condition)))))


async def _count(session: AsyncSession, query: Select) -> int:
    return await session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _follows_query(actor_id: int, *, followers: bool) -> Select:
    """Accepted follows of (followers=True) or by (followers=False) an actor: (id, other's uri);
    never an institution-only community's, which no peer may learn of."""
    other = aliased(Actor)
    mine, theirs = (
        (Follow.followee_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followee_id)
    )
    return (
        select(Follow.id, other.uri)
        .join(other, theirs == other.id)
        .where(mine == actor_id, Follow.state == FollowState.accepted, ~institution_only_group(other.id))
    )


def _outbox_query(actor_id: int) -> Select:
    """Public activities of a local actor whose object (if any) still exists."""
    return (
        select(Activity.id, Activity.raw)
        .outerjoin(Object, Activity.object_id == Object.id)
        .where(
            Activity.actor_id == actor_id,
            Activity.local.is_(True),
            Activity.public.is_(True),
            Activity.type.in_(("Create", "Announce")),
            or_(Activity.object_id.is_(None),
                and_(Object.id.is_not(None), Object.deleted_at.is_(None), Object.local_only.is_(False))),
        )
    )


_QUERIES = {
    "followers": (partial(_follows_query, followers=True), Follow.id),
    "following": (partial(_follows_query, followers=False), Follow.id),
    "outbox": (_outbox_query, Activity.id),
}


async def collection_total(session: AsyncSession, name: str, actor_id: int) -> int:
    query_for, _ = _QUERIES[name]
    return await _count(session, query_for(actor_id))


async def collection_page(
    session: AsyncSession,
    name: str,
    actor_id: int,
    *,
    limit: int,
    max_id: int | None = None,
    min_id: int | None = None,
) -> Page:
    """One page of the named collection ('followers', 'following' or 'outbox') of an actor."""
    query_for, id_column = _QUERIES[name]
    return await _page(
        session, query_for(actor_id), id_column, limit=limit, max_id=max_id, min_id=min_id
    )
