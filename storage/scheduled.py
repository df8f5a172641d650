"""Scheduled posts (storage.models.scheduled): a practitioner's, and the due ones a worker claims.

Not a queue of storage.leases' kind (a row has no states: it waits, then it is published and
deleted in the post's own transaction, `take`), so it claims here: a lease on the due rows, so
that two workers do not both start on one, and one that died leaves it to another."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor, Media, ScheduledStatus
from storage.paging import Cursor, apply, newest_first


async def scheduled_of(session: AsyncSession, actor_id: int, cursor: Cursor) -> list[ScheduledStatus]:
    """Her scheduled posts, newest first (by when they were asked for)."""
    query = select(ScheduledStatus).where(ScheduledStatus.actor_id == actor_id)
    return newest_first(list(await session.scalars(apply(query, ScheduledStatus.id, cursor))), cursor)


async def scheduled_by_id(session: AsyncSession, actor_id: int, scheduled_id: int) -> ScheduledStatus | None:
    """Her scheduled post with this id (None if it is not hers)."""
    return await session.scalar(select(ScheduledStatus).where(
        ScheduledStatus.id == scheduled_id, ScheduledStatus.actor_id == actor_id))


async def scheduled_by_key(session: AsyncSession, actor_id: int, key: str) -> ScheduledStatus | None:
    return await session.scalar(select(ScheduledStatus).where(
        ScheduledStatus.actor_id == actor_id, ScheduledStatus.idempotency_key == key))


async def counts(session: AsyncSession, actor_id: int, day: datetime) -> tuple[int, int]:
    """(how many she has scheduled, how many of them fall on the UTC day of `day`)."""
    start = day.replace(hour=0, minute=0, second=0, microsecond=0)
    mine = ScheduledStatus.actor_id == actor_id
    total = await session.scalar(select(func.count()).select_from(ScheduledStatus).where(mine)) or 0
    that_day = await session.scalar(select(func.count()).select_from(ScheduledStatus).where(
        mine, ScheduledStatus.scheduled_at >= start, ScheduledStatus.scheduled_at < start + timedelta(days=1))) or 0
    return total, that_day


async def hold_media(session: AsyncSession, row_id: int, media: list[Media]) -> None:
    for upload in media:
        upload.scheduled_id = row_id


async def uploads_of(session: AsyncSession, row_ids: list[int]) -> dict[int, list[Media]]:
    """The uploads each scheduled post holds."""
    found: dict[int, list[Media]] = {row_id: [] for row_id in row_ids}
    for upload in await session.scalars(select(Media).where(Media.scheduled_id.in_(row_ids)).order_by(Media.id)):
        found[upload.scheduled_id].append(upload)
    return found


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


async def take(session: AsyncSession, row_id: int, now: datetime) -> bool:
    """Delete the row if it is still due by `now` (not cancelled, not moved later meanwhile), and
    free its uploads for its post; whether it was."""
    taken = await session.execute(delete(ScheduledStatus).where(
        ScheduledStatus.id == row_id, ScheduledStatus.scheduled_at <= now))
    if taken.rowcount:
        await _free(session, row_id)
    return taken.rowcount > 0


async def forget(session: AsyncSession, row_id: int) -> None:
    """Delete the row, and free its uploads (swept a day after, if no post takes them)."""
    await session.execute(delete(ScheduledStatus).where(ScheduledStatus.id == row_id))
    await _free(session, row_id)


async def _free(session: AsyncSession, row_id: int) -> None:
    await session.execute(update(Media).where(Media.scheduled_id == row_id).values(scheduled_id=None))
