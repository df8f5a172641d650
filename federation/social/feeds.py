"""Home timelines, written as items arrive (fan-out on write).

When a post or a boost arrives, or is made here, one row per local home it belongs in goes into
`home_feed`; following someone copies in their recent posts, and unfollowing or blocking takes
theirs out. Reading a home timeline is then one index range scan (see storage.timelines.home).
Deletes and mutes are applied when reading, so a feed row may outlive what it points at.
"""

from __future__ import annotations

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import new_id
from storage.models import Actor, FeedEntry, Object, Visibility
from storage.upsert import insert_for

BACKFILL = 40


async def add(session: AsyncSession, owners: set[int], item_id: int, author_id: int, *, boost: bool = False) -> None:
    if not owners:
        return
    statement = insert_for(session, FeedEntry).values([
        {"id": new_id(), "owner_id": owner, "item_id": item_id, "author_id": author_id, "boost": boost}
        for owner in sorted(owners)
    ]).on_conflict_do_nothing(index_elements=["owner_id", "item_id"])
    await session.execute(statement)


async def backfill(session: AsyncSession, follower: Actor, followee: Actor) -> None:
    """A new follow: the followee's recent posts join the follower's home timeline."""
    if not follower.local:
        return
    posts = await session.scalars(
        select(Object.id).where(Object.actor_id == followee.id, Object.deleted_at.is_(None),
                                Object.visibility != Visibility.direct)
        .order_by(Object.id.desc()).limit(BACKFILL)
    )
    for post_id in posts:
        await add(session, {follower.id}, post_id, followee.id)


async def remove_author(session: AsyncSession, owner: Actor, author: Actor) -> None:
    """An unfollow or a block: the author's items leave the owner's home timeline."""
    if owner.local:
        await session.execute(delete(FeedEntry).where(FeedEntry.owner_id == owner.id, FeedEntry.author_id == author.id))
