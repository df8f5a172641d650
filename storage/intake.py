"""What intake asks the database before it stores an activity."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Object


async def author_uri(session: AsyncSession, object_uri: str) -> str | None:
    """The id of the actor who made the object `object_uri`, if we hold it."""
    return await session.scalar(
        select(Actor.uri).join(Object, Object.actor_id == Actor.id).where(Object.uri == object_uri))
