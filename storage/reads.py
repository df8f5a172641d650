"""Queries behind who may read a post (federation.social.access.can_see)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Mention


async def is_mentioned(session: AsyncSession, object_id: int, actor_id: int) -> bool:
    return await session.scalar(
        select(Mention.id).where(Mention.object_id == object_id, Mention.actor_id == actor_id)) is not None
