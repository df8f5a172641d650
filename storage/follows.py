"""Queries on follows as the domain writes them (the client API's follow pages are in
storage.accounts_api). A follow's states and moves are declared in storage.states.FOLLOWS."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Follow, FollowState


async def follow_between(session: AsyncSession, follower_id: int, followee_id: int) -> Follow | None:
    """The follow row from one actor to another, in whatever state, or None."""
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower_id, Follow.followee_id == followee_id))


async def add_follow(session: AsyncSession, follower_id: int, followee_id: int, uri: str, state: FollowState,
                     now: datetime) -> Follow:
    row = Follow(follower_id=follower_id, followee_id=followee_id, state=state, uri=uri,
                 created_at=now, updated_at=now)
    session.add(row)
    await session.flush()
    return row


async def remote_followers(session: AsyncSession, actor_id: int) -> list[Actor]:
    """The remote actors, not deleted, whose follow of the actor is accepted."""
    rows = await session.scalars(
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followee_id == actor_id, Follow.state == FollowState.accepted,
               Actor.local.is_(False), Actor.deleted_at.is_(None))
    )
    return list(rows)


async def follow_by_uri(session: AsyncSession, uri: str | None, *, follower_id: int | None = None) -> Follow | None:
    """The follow with this activity id (only if `follower_id` made it, when given)."""
    query = select(Follow).where(Follow.uri == uri)
    if follower_id is not None:
        query = query.where(Follow.follower_id == follower_id)
    return await session.scalar(query)


async def follow_by(session: AsyncSession, follower_id: int, followee_uri: str | None) -> Follow | None:
    """The follow by `follower_id` of the actor whose id is `followee_uri`."""
    return await session.scalar(
        select(Follow).join(Actor, Follow.followee_id == Actor.id)
        .where(Follow.follower_id == follower_id, Actor.uri == followee_uri))


async def follow_of(session: AsyncSession, follower_uri: str | None, followee_id: int) -> Follow | None:
    """The follow of `followee_id` by the actor whose id is `follower_uri`."""
    return await session.scalar(
        select(Follow).join(Actor, Follow.follower_id == Actor.id)
        .where(Actor.uri == follower_uri, Follow.followee_id == followee_id))
