"""Queries on announces (boosts) that federation makes by actor and by activity id."""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Announce


async def announce_by(session: AsyncSession, actor_id: int, object_id: int) -> Announce | None:
    """The actor's boost of the post, if they boosted it."""
    return await session.scalar(
        select(Announce).where(Announce.actor_id == actor_id, Announce.object_id == object_id))


async def withdraw_announce(session: AsyncSession, uri: str | None, actor_id: int) -> bool:
    """Remove the boost with this activity id, if this actor made it; True if one went."""
    result = await session.execute(delete(Announce).where(Announce.uri == uri, Announce.actor_id == actor_id))
    return bool(result.rowcount)
