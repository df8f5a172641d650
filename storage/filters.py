"""A practitioner's content filters: their rows, read and written for the filters API, and the
active ones read whole for rendering (synchronously, inside `Database.read`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session

from storage.models import Filter, FilterKeyword, FilterStatus


@dataclass
class FilterRows:
    """A filter with its keywords and filtered posts."""

    filter: Filter
    keywords: list[FilterKeyword] = field(default_factory=list)
    statuses: list[FilterStatus] = field(default_factory=list)


def _gather(filters: list[Filter], keywords: list[FilterKeyword], statuses: list[FilterStatus]) -> list[FilterRows]:
    by_id = {f.id: FilterRows(f) for f in filters}
    for keyword in keywords:
        by_id[keyword.filter_id].keywords.append(keyword)
    for status in statuses:
        by_id[status.filter_id].statuses.append(status)
    return list(by_id.values())


def _parts(ids):
    return (select(FilterKeyword).where(FilterKeyword.filter_id.in_(ids)).order_by(FilterKeyword.id),
            select(FilterStatus).where(FilterStatus.filter_id.in_(ids)).order_by(FilterStatus.id))


async def filters_of(session: AsyncSession, actor_id: int, filter_id: int | None = None) -> list[FilterRows]:
    """The actor's filters (or the one with `filter_id`, if hers), oldest first, whole."""
    query = select(Filter).where(Filter.actor_id == actor_id).order_by(Filter.id)
    if filter_id is not None:
        query = query.where(Filter.id == filter_id)
    filters = list(await session.scalars(query))
    keywords, statuses = _parts([f.id for f in filters])
    return _gather(filters, list(await session.scalars(keywords)), list(await session.scalars(statuses)))


def active_filters(session: Session, actor_id: int, now: datetime) -> list[FilterRows]:
    """The actor's filters that have not expired at `now`, whole (what a rendering matches against)."""
    filters = list(session.scalars(select(Filter).where(
        Filter.actor_id == actor_id, or_(Filter.expires_at.is_(None), Filter.expires_at > now)).order_by(Filter.id)))
    if not filters:
        return []
    keywords, statuses = _parts([f.id for f in filters])
    return _gather(filters, list(session.scalars(keywords)), list(session.scalars(statuses)))


async def keyword_of(session: AsyncSession, actor_id: int, keyword_id: int) -> FilterKeyword | None:
    """A keyword of one of the actor's filters."""
    return await session.scalar(select(FilterKeyword).join(Filter, Filter.id == FilterKeyword.filter_id).where(
        FilterKeyword.id == keyword_id, Filter.actor_id == actor_id))


async def status_of(session: AsyncSession, actor_id: int, row_id: int) -> FilterStatus | None:
    """A filtered post of one of the actor's filters."""
    return await session.scalar(select(FilterStatus).join(Filter, Filter.id == FilterStatus.filter_id).where(
        FilterStatus.id == row_id, Filter.actor_id == actor_id))


async def filtered_status(session: AsyncSession, filter_id: int, object_id: int) -> FilterStatus | None:
    return await session.scalar(select(FilterStatus).where(
        FilterStatus.filter_id == filter_id, FilterStatus.object_id == object_id))


async def delete_keywords(session: AsyncSession, filter_id: int, keyword_ids: set[int]) -> None:
    await session.execute(delete(FilterKeyword).where(FilterKeyword.filter_id == filter_id,
                                                      FilterKeyword.id.in_(keyword_ids)))
