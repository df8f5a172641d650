"""Queries on a community's threads as collections: a thread's root and its posts (FEP-7888's
context collection), and the pinned threads (the Group's `featured` collection). Kept apart from
storage.communities (the communities' policy rows) so each file stays about one thing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author
from storage.models import Actor, ActorType, Announce, Object, Pin
from storage.posts import stored_thread

MAX_GENERATIONS = 40  # how deep a thread's replies are read


async def thread_root(session: AsyncSession, item: Object, depth: int = 40) -> Object:
    """The first post of `item`'s thread as far as it is stored here (`item` itself for a
    top-level post), at most `depth` posts up."""
    chain = await stored_thread(session, item.uri, depth) if item.in_reply_to_uri else []
    return chain[-1] if chain else item


async def thread_posts(session: AsyncSession, group_id: int, root: Object, limit: int) -> list[Object]:
    """The posts of the thread that starts at `root` which the group `group_id` announced (the
    ones it vouches for), not deleted, the root first and then each generation of replies in
    the order they came; `limit` posts at most. Posts by actors of a blocked peer are left out,
    and the walk goes through them, so a reply to one still counts (as in a thread's page)."""
    found: list[Object] = []
    seen = {root.id}
    candidates: list[Object] = [root]
    for _ in range(MAX_GENERATIONS):  # bounded, whatever loops a peer's replies make
        announced = set(await session.scalars(
            select(Announce.object_id).join(Object, Object.id == Announce.object_id)
            .where(Announce.actor_id == group_id, Announce.object_id.in_([c.id for c in candidates]),
                   ~blocked_author(Object.actor_id))))
        found += [c for c in candidates if c.id in announced and c.deleted_at is None][:limit - len(found)]
        if len(found) >= limit:
            break
        children = await session.scalars(select(Object).where(
            Object.in_reply_to_uri.in_([c.uri for c in candidates])).order_by(Object.id).limit(limit))
        candidates = [child for child in children if child.id not in seen]
        if not candidates:
            break
        seen.update(child.id for child in candidates)
    return found


async def is_announced_by(session: AsyncSession, group_id: int, object_id: int) -> bool:
    return await session.scalar(select(Announce.id).where(
        Announce.actor_id == group_id, Announce.object_id == object_id)) is not None


async def add_thread_post(session: AsyncSession, group_id: int, object_id: int, uri: str, now: datetime) -> bool:
    """Count a post among a group's threads (a Group's announce row, with no boost's side
    effects: no notification, no home); False if it already was."""
    if await is_announced_by(session, group_id, object_id):
        return False
    session.add(Announce(uri=uri, actor_id=group_id, object_id=object_id, public=True, created_at=now))
    await session.flush()
    return True


async def pinned_posts(session: AsyncSession, group_id: int, limit: int = 50) -> list[Object]:
    """A community's pinned threads, newest pin first (its `featured` collection)."""
    query = (select(Object).join(Pin, Pin.object_id == Object.id)
             .where(Pin.actor_id == group_id, Object.deleted_at.is_(None)).order_by(Pin.id.desc()).limit(limit))
    return list(await session.scalars(query))


async def group_by_featured(session: AsyncSession, featured_url: str) -> Actor | None:
    """The Group actor (hosted here or not) whose featured collection is `featured_url`."""
    return await session.scalar(select(Actor).where(Actor.featured_url == featured_url, Actor.type == ActorType.Group,
                                                    Actor.deleted_at.is_(None)))
