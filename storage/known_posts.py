"""Posts (local or remote) and activities by their ActivityPub id, and a post's tombstone."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, Object


async def post_by_uri(session: AsyncSession, uri: str) -> Object | None:
    """The post with this id, deleted or not (a tombstone keeps its row)."""
    return await session.scalar(select(Object).where(Object.uri == uri))


async def tombstone_post(session: AsyncSession, post_id: int, now: datetime) -> None:
    """The post's row stays, as a tombstone: its text, attachments and document go."""
    await session.execute(
        update(Object).where(Object.id == post_id)
        .values(deleted_at=now, content="", summary="", attachments=None, raw=None))


async def activity_by_uri(session: AsyncSession, uri: str) -> Activity | None:
    return await session.scalar(select(Activity).where(Activity.uri == uri))
