"""Queries on likes (favourites) that federation makes by actor and by activity id."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Like


async def like_by(session: AsyncSession, actor_id: int, object_id: int) -> Like | None:
    """The actor's like of the post, if they liked it."""
    return await session.scalar(select(Like).where(Like.actor_id == actor_id, Like.object_id == object_id))


async def withdraw_like(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the like with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Like).where(Like.uri == uri, Like.actor_id == actor_id))
    return bool(result.rowcount)
