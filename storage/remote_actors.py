"""Writes on remote actors' rows: a new actor, and the erasure of a deleted actor's content."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, or_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Actor, Announce, FeedEntry, Follow, Like, Object


def add_remote_actor(session: AsyncSession, uri: str, published: datetime) -> Actor:
    """A new row for a remote actor, in the session; the caller fills it in, then `save_actor`."""
    actor = Actor(uri=uri, local=False, published=published)
    session.add(actor)
    return actor


async def save_actor(session: AsyncSession, actor: Actor) -> None:
    """Write the actor's row now (with whatever else the session holds), so it has its id and
    its unique keys are checked."""
    await session.flush()


async def erase_actor_content(session: AsyncSession, actor_id: int) -> None:
    """A deleted actor's posts, follows both ways, home-feed entries, likes and boosts go."""
    await session.execute(delete(Object).where(Object.actor_id == actor_id))
    await session.execute(delete(Follow).where(or_(Follow.follower_id == actor_id, Follow.followee_id == actor_id)))
    await session.execute(delete(FeedEntry).where(FeedEntry.author_id == actor_id))
    for model in (Like, Announce):
        await session.execute(delete(model).where(model.actor_id == actor_id))
