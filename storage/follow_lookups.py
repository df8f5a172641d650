"""Follows found by what a peer names: the Follow's activity id, or the follower's actor id
(an Accept or Undo names the Follow it answers; the pair of actors is read by
federation.social.relations.follow_between)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Follow


async def follow_by_uri(session: AsyncSession, uri: str | None, *, follower_id: int | None = None) -> Follow | None:
    """The follow with this activity id (only if `follower_id` made it, when given)."""
    query = select(Follow).where(Follow.uri == uri)
    if follower_id is not None:
        query = query.where(Follow.follower_id == follower_id)
    return await session.scalar(query)


async def follow_of(session: AsyncSession, follower_uri: str | None, followee_id: int) -> Follow | None:
    """The follow of `followee_id` by the actor whose id is `follower_uri`."""
    return await session.scalar(
        select(Follow).join(Actor, Follow.follower_id == Actor.id)
        .where(Actor.uri == follower_uri, Follow.followee_id == followee_id))
