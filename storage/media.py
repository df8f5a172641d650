"""Queries on uploads (media) and the posts they are attached to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Media


async def attached_media(session: AsyncSession, object_id: int) -> list[Media]:
    """The uploads attached to a post."""
    return list(await session.scalars(select(Media).where(Media.object_id == object_id)))
