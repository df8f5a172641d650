"""Queries on uploads (media) and the posts they are attached to."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Article, ArticleState, Media, Object


async def attached_media(session: AsyncSession, object_id: int) -> list[Media]:
    """The uploads attached to a post."""
    return list(await session.scalars(select(Media).where(Media.object_id == object_id)))


def add_media(session: AsyncSession, media: Media) -> Media:
    """Add a new upload's row to the caller's transaction."""
    session.add(media)
    return media


async def owned_media(session: AsyncSession, actor_id: int, media_id: int) -> Media | None:
    """The actor's own media with this id; someone else's is as absent as a missing one."""
    return await session.scalar(select(Media).where(Media.id == media_id, Media.actor_id == actor_id))


async def stale_media(session: AsyncSession, before: datetime, limit: int) -> list[Media]:
    """Up to `limit` uploads left unattached since before `before`, or attached to a post deleted
    before then; an upload an unpublished article (a draft, one in review) or a scheduled post
    has chosen is not stale: it is attached when the article or the post is published."""
    held = {int(media_id) for ids in await session.scalars(select(Article.media_ids).where(
        Article.state != ArticleState.published, Article.media_ids.is_not(None))) for media_id in ids or ()}

    return list(await session.scalars(select(Media).where(or_(
        Media.object_id.in_(select(Object.id).where(Object.deleted_at < before)),
        Media.object_id.is_(None) & Media.scheduled_id.is_(None) & (Media.created_at < before) & Media.id.not_in(held),
    )).limit(limit)))


async def delete_media(session: AsyncSession, media_ids: list[int]) -> None:
    await session.execute(delete(Media).where(Media.id.in_(media_ids)))
