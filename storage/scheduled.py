"""Scheduled posts (storage.models.scheduled): a practitioner's, and the due ones a worker claims."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor, ScheduledStatus
from storage.paging import Cursor, apply, newest_first


async def scheduled_of(session: AsyncSession, actor_id: int, cursor: Cursor) -> list[ScheduledStatus]:
    """Her scheduled posts, newest first (by when they were asked for)."""
    query = select(ScheduledStatus).where(ScheduledStatus.actor_id == actor_id)
    return newest_first(list(await session.scalars(apply(query, ScheduledStatus.id, cursor))), cursor)


async def scheduled_by_id(session: AsyncSession, actor_id: int, scheduled_id: int) -> ScheduledStatus | None:
    """Her scheduled post with this id (None if it is not hers)."""
    return await session.scalar(select(ScheduledStatus).where(
        ScheduledStatus.id == scheduled_id, ScheduledStatus.actor_id == actor_id))


async def claim_due(session: AsyncSession, now: datetime, until: datetime, limit: int, *,
                    skip_locked: bool) -> list[ScheduledStatus]:
    """Up to `limit` posts due by `now` that no worker holds, claimed until `until`, oldest due
    first (on PostgreSQL, rows another worker is claiming are passed over)."""
    query = (select(ScheduledStatus).where(
        ScheduledStatus.scheduled_at <= now,
        or_(ScheduledStatus.claimed_until.is_(None), ScheduledStatus.claimed_until < now))
        .order_by(ScheduledStatus.scheduled_at).limit(limit))
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    rows = list(await session.scalars(query))
    for row in rows:
        row.claimed_until = until
    return rows


async def live_author(session: AsyncSession, actor_id: int) -> Actor | None:
    """The scheduled post's author, if she may still post: not deleted, her account not disabled."""
    return await session.scalar(select(Actor).join(Account, Account.actor_id == Actor.id).where(
        Actor.id == actor_id, Actor.deleted_at.is_(None), Account.disabled.is_(False)))


async def forget(session: AsyncSession, row_id: int) -> None:
    await session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == row_id))


async def held_media_ids(session: AsyncSession) -> set[int]:
    """The uploads scheduled posts will publish: not stale while they wait."""
    return {media_id for ids in await session.scalars(select(ScheduledStatus.media_ids)) for media_id in ids or ()}
