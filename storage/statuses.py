"""Batch reads behind the client API's entities: counts, viewer flags, mentions, tags, media.

Every function takes many ids and answers in one query, so rendering a page of twenty statuses
costs a fixed handful of queries, not twenty times as many.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import id_time
from storage.models import (
    Actor,
    Announce,
    Bookmark,
    Follow,
    FollowState,
    Like,
    Media,
    Mention,
    Object,
    Pin,
    Tag,
)


async def _grouped_counts(session: AsyncSession, ids, *counts) -> list[dict[int, int]]:
    """Several per-id counts in one round trip: each of `counts` is (key column, *conditions)."""
    found: list[dict[int, int]] = [{} for _ in counts]
    if not ids:
        return found
    query = union_all(*(
        select(literal(n).label("which"), column.label("key"), func.count().label("n"))
        .where(column.in_(ids), *where).group_by(column)
        for n, (column, *where) in enumerate(counts)
    ))
    for which, key, number in await session.execute(query):
        found[which][key] = number
    return found


async def actor_counts(session: AsyncSession, ids: set[int]) -> dict[int, tuple[int, int, int, datetime | None]]:
    """(followers, following, statuses, last status time) per actor."""
    accepted = Follow.state == FollowState.accepted
    followers, following = await _grouped_counts(
        session, ids, (Follow.followee_id, accepted), (Follow.follower_id, accepted))
    statuses: dict[int, tuple[int, datetime | None]] = {}
    if ids:
        rows = await session.execute(  # index-only on ix_objects_live_actor_id; ids encode their time
            select(Object.actor_id, func.count(), func.max(Object.id))
            .where(Object.actor_id.in_(ids), Object.deleted_at.is_(None)).group_by(Object.actor_id)
        )
        statuses = {actor_id: (count, id_time(last)) for actor_id, count, last in rows}
    return {
        i: (followers.get(i, 0), following.get(i, 0), *statuses.get(i, (0, None)))
        for i in ids
    }


async def object_counts(session: AsyncSession, objects: list[Object]) -> dict[int, tuple[int, int, int]]:
    """(replies, reblogs, favourites) per object."""
    ids = {o.id for o in objects}
    reblogs, favourites = await _grouped_counts(session, ids, (Announce.object_id,), (Like.object_id,))
    replies: dict[str, int] = {}
    uris = [o.uri for o in objects]
    if uris:
        rows = await session.execute(
            select(Object.in_reply_to_uri, func.count())
            .where(Object.in_reply_to_uri.in_(uris), Object.deleted_at.is_(None)).group_by(Object.in_reply_to_uri)
        )
        replies = dict(rows.all())
    return {o.id: (replies.get(o.uri, 0), reblogs.get(o.id, 0), favourites.get(o.id, 0)) for o in objects}


async def viewer_flags(session: AsyncSession, viewer_id: int | None, ids: set[int]) -> dict[str, set[int]]:
    """Which of `ids` the viewer favourited, reblogged, bookmarked and pinned."""
    flags: dict[str, set[int]] = {"favourited": set(), "reblogged": set(), "bookmarked": set(), "pinned": set()}
    if viewer_id is None or not ids:
        return flags
    kinds = (("favourited", Like), ("reblogged", Announce), ("bookmarked", Bookmark), ("pinned", Pin))
    query = union_all(*(
        select(literal(name).label("flag"), model.object_id).where(model.actor_id == viewer_id, model.object_id.in_(ids))
        for name, model in kinds
    ))
    for name, object_id in await session.execute(query):  # one round trip for all four
        flags[name].add(object_id)
    return flags


async def mentions_of(session: AsyncSession, ids: set[int]) -> dict[int, list[Actor]]:
    found: dict[int, list[Actor]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(Mention.object_id, Actor).join(Actor, Mention.actor_id == Actor.id).where(Mention.object_id.in_(ids))
        )
        for object_id, actor in rows:
            found[object_id].append(actor)
    return found


async def tags_of(session: AsyncSession, ids: set[int]) -> dict[int, list[str]]:
    found: dict[int, list[str]] = defaultdict(list)
    if ids:
        for object_id, name in await session.execute(
            select(Tag.object_id, Tag.name).where(Tag.object_id.in_(ids)).order_by(Tag.name)
        ):
            found[object_id].append(name)
    return found


async def media_of(session: AsyncSession, ids: set[int]) -> dict[int, list[Media]]:
    found: dict[int, list[Media]] = defaultdict(list)
    if ids:
        for media in await session.scalars(select(Media).where(Media.object_id.in_(ids)).order_by(Media.id)):
            found[media.object_id].append(media)
    return found


async def objects_by_uri(session: AsyncSession, uris: set[str]) -> dict[str, Object]:
    if not uris:
        return {}
    return {o.uri: o for o in await session.scalars(select(Object).where(Object.uri.in_(uris)))}


async def actors_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Actor]:
    if not ids:
        return {}
    return {a.id: a for a in await session.scalars(select(Actor).where(Actor.id.in_(ids)))}


async def objects_by_id(session: AsyncSession, ids: set[int]) -> dict[int, Object]:
    if not ids:
        return {}
    return {o.id: o for o in await session.scalars(select(Object).where(Object.id.in_(ids)))}
