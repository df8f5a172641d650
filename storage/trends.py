"""Trends (Mastodon's explore): the hashtags most people used lately, and the posts most liked
and boosted lately, among public posts (institution-only ones for the instance's users alone),
never a blocked or a limited peer's (as the public timelines leave them out)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author, limited_author
from storage.models import Announce, Like, Object, Tag, Visibility

TAG_DAYS = 7  # a tag trends by the people who used it in the last week
POST_DAYS = 2  # a post, by who liked and boosted it in the two days after it was posted


def _shown(since: datetime, users: bool):
    """Live public posts since `since`, of authors the public timelines show."""
    shown = and_(Object.visibility == Visibility.public, Object.deleted_at.is_(None), Object.published >= since,
                 ~blocked_author(Object.actor_id), ~limited_author(Object.actor_id))
    return shown if users else and_(shown, Object.local_only.is_(False))


async def trending_tags(session: AsyncSession, now: datetime, *, limit: int, offset: int, users: bool) -> list[str]:
    """The hashtags of the last TAG_DAYS by how many accounts used them, then how often."""
    people = func.count(func.distinct(Object.actor_id))
    rows = await session.execute(
        select(Tag.name).join(Object, Object.id == Tag.object_id).where(_shown(now - timedelta(days=TAG_DAYS), users))
        .group_by(Tag.name).order_by(people.desc(), func.count().desc(), Tag.name).offset(offset).limit(limit))
    return list(rows.scalars())


async def trending_posts(session: AsyncSession, now: datetime, *, limit: int, offset: int,
                         users: bool) -> list[Object]:
    """The posts of the last POST_DAYS liked or boosted at least once, by how many likes and
    boosts they have (one person's like and boost count twice, as on Mastodon)."""
    since = now - timedelta(days=POST_DAYS)
    recent = select(Object.id).where(_shown(since, users))
    likes = (select(Like.object_id, func.count().label("n")).where(Like.object_id.in_(recent))
             .group_by(Like.object_id).subquery())
    boosts = (select(Announce.object_id, func.count().label("n")).where(Announce.object_id.in_(recent))
              .group_by(Announce.object_id).subquery())
    score = func.coalesce(likes.c.n, 0) + func.coalesce(boosts.c.n, 0)
    return list(await session.scalars(
        select(Object).outerjoin(likes, likes.c.object_id == Object.id).outerjoin(boosts, boosts.c.object_id == Object.id)
        .where(_shown(since, users), score > 0).order_by(score.desc(), Object.id.desc()).offset(offset).limit(limit)))
