"""Queries on objects (notes, articles, ...)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Object, Visibility


async def count_local_posts(session: AsyncSession) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Object)
            .where(Object.local.is_(True), Object.deleted_at.is_(None))
        )
        or 0
    )


def _public(actor_id: int):
    """A local actor's posts that anyone may read: public, and not institution-only."""
    return (Object.actor_id == actor_id, Object.local.is_(True), Object.deleted_at.is_(None),
            Object.visibility == Visibility.public, Object.local_only.is_(False))


async def public_posts(session: AsyncSession, actor_id: int, *, limit: int) -> list[Object]:
    """A local actor's newest public posts (never unlisted, followers-only, direct or
    institution-only)."""
    rows = await session.scalars(select(Object).where(*_public(actor_id)).order_by(Object.id.desc()).limit(limit))
    return list(rows)


async def public_post(session: AsyncSession, actor_id: int, post_id: int) -> Object | None:
    return await session.scalar(select(Object).where(Object.id == post_id, *_public(actor_id)))
