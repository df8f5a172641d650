"""Home-feed rows as they are written (fan-out on write; storage.timelines.home reads them)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core
from storage.ids import new_id
from storage.models import FeedEntry, Object, Visibility
from storage.upsert import per_backend

# feed rows are only ever written and read as rows, never loaded as ORM objects: a Core insert on the
# table (the ORM's bulk path cost more than the insert), built once (it runs for every post)
_ADD_ENTRIES = per_backend(lambda insert: insert(FeedEntry.__table__)
                           .on_conflict_do_nothing(index_elements=["owner_id", "item_id"]))


async def add_feed_entries(session: AsyncSession, owners: Iterable[int], item_id: int, author_id: int, *,
                           boost: bool) -> None:
    """One row per owner, in owner order; a row an owner already has for the item stays."""
    await add_feeds_entries(session, [(owners, item_id, author_id)], boost=boost)


async def add_feeds_entries(session: AsyncSession, items: Iterable[tuple[Iterable[int], int, int]], *,
                            boost: bool) -> None:
    """`add_feed_entries` of many items, (owners, item id, author id) each, in one statement."""
    rows = [{"id": new_id(), "owner_id": owner, "item_id": item_id, "author_id": author_id, "boost": boost}
            for owners, item_id, author_id in items for owner in sorted(owners)]
    if rows:
        await core.execute(session, _ADD_ENTRIES(session), rows)


async def recent_post_ids(session: AsyncSession, author_id: int, limit: int) -> list[int]:
    """An author's newest posts that may join a new follower's home: not deleted, not direct."""
    return list(await session.scalars(
        select(Object.id).where(Object.actor_id == author_id, Object.deleted_at.is_(None),
                                Object.visibility != Visibility.direct)
        .order_by(Object.id.desc()).limit(limit)))


async def remove_author_entries(session: AsyncSession, owner_id: int, author_id: int) -> None:
    await session.execute(delete(FeedEntry).where(FeedEntry.owner_id == owner_id, FeedEntry.author_id == author_id))
