"""Home timelines, written as items arrive (fan-out on write).

When a post or a boost arrives, or is made here, one row per local home it belongs in goes into
`home_feed`; following someone copies in their recent posts, and unfollowing or blocking takes
theirs out. Reading a home timeline is then one index range scan (see storage.timelines.home).
Deletes and mutes are applied when reading, so a feed row may outlive what it points at.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from storage.home_feeds import add_feed_entries, recent_post_ids, remove_author_entries
from storage.models import Actor

BACKFILL = 40


async def add(session: AsyncSession, owners: set[int], item_id: int, author_id: int, *, boost: bool = False) -> None:
    if not owners:
        return
    await add_feed_entries(session, owners, item_id, author_id, boost=boost)


async def backfill(session: AsyncSession, follower: Actor, followee: Actor) -> None:
    """A new follow: the followee's recent posts join the follower's home timeline."""
    if not follower.local:
        return
    for post_id in await recent_post_ids(session, followee.id, BACKFILL):
        await add(session, {follower.id}, post_id, followee.id)


async def remove_author(session: AsyncSession, owner: Actor, author: Actor) -> None:
    """An unfollow or a block: the author's items leave the owner's home timeline."""
    if owner.local:
        await remove_author_entries(session, owner.id, author.id)
