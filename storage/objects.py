"""Queries on objects (notes, articles, ...)."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Object


async def count_local_posts(session: AsyncSession) -> int:
    return (
        await session.scalar(
            select(func.count())
            .select_from(Object)
            .where(Object.local.is_(True), Object.deleted_at.is_(None))
        )
        or 0
    )
