"""Hashtags followed and featured by local actors, and the counts a Tag entity shows.

A followed tag fans out on write: a new public post's tag followers get a home-feed row when it
arrives (`tag_followers`, asked by federation.social.streams.post_homes), and an unfollow takes
out what the tag alone brought (`unmerge`): posts by authors she does not follow, that do not
mention her and carry no other tag she still follows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, bindparam, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core
from storage.models import (
    Actor,
    Block,
    FeaturedTag,
    FeedEntry,
    Follow,
    FollowState,
    FollowedTag,
    Mention,
    Object,
    Tag,
    Visibility,
)
from storage.paging import Cursor, apply, newest_first
from storage.upsert import insert_for

_PROFILE_VISIBILITIES = (Visibility.public, Visibility.unlisted)


# --- followed ------------------------------------------------------------------------------------

async def follow(session: AsyncSession, actor_id: int, name: str) -> None:
    """Follow a tag; following it again changes nothing."""
    await session.execute(insert_for(session, FollowedTag).values(actor_id=actor_id, name=name)
                          .on_conflict_do_nothing(index_elements=["actor_id", "name"]))


async def unfollow(session: AsyncSession, actor_id: int, name: str) -> bool:
    """Stop following a tag; False if she did not follow it."""
    result = await session.execute(delete(FollowedTag).where(FollowedTag.actor_id == actor_id,
                                                             FollowedTag.name == name))
    return result.rowcount > 0


async def followed(session: AsyncSession, actor_id: int, names: Iterable[str]) -> set[str]:
    """Which of `names` the actor follows."""
    names = set(names)
    if not names:
        return set()
    return set(await session.scalars(select(FollowedTag.name).where(FollowedTag.actor_id == actor_id,
                                                                    FollowedTag.name.in_(names))))


async def followed_page(session: AsyncSession, actor_id: int, cursor: Cursor) -> list[FollowedTag]:
    """The tags the actor follows, newest follow first, paged by the follow's id."""
    query = select(FollowedTag).where(FollowedTag.actor_id == actor_id)
    return newest_first(list(await session.scalars(apply(query, FollowedTag.id, cursor))), cursor)


_TAG_FOLLOWERS = (select(FollowedTag.name, FollowedTag.actor_id).join(Actor, Actor.id == FollowedTag.actor_id)
                  .where(FollowedTag.name.in_(bindparam("names", expanding=True)), Actor.local.is_(True),
                         Actor.deleted_at.is_(None)))
_AUTHORS, _FOLLOWERS = bindparam("authors", expanding=True), bindparam("followers", expanding=True)
_BLOCKS_BETWEEN = select(Block.actor_id, Block.target_id).where(or_(
    and_(Block.actor_id.in_(_AUTHORS), Block.target_id.in_(_FOLLOWERS)),
    and_(Block.actor_id.in_(_FOLLOWERS), Block.target_id.in_(_AUTHORS))))


async def tag_followers(session: AsyncSession, names: Iterable[str], author_id: int) -> set[int]:
    """The local actors following any of `names` whom the author has not blocked and who have not
    blocked the author."""
    return (await tag_followers_of(session, [(author_id, names)]))[0]


async def tag_followers_of(session: AsyncSession, posts: list[tuple[int, Iterable[str]]]) -> list[set[int]]:
    """`tag_followers` of many posts, (author id, tag names) each, in two queries whatever their
    number: the followers of every name, then the blocks between them and the authors, either way."""
    posts = [(author, set(names)) for author, names in posts]
    names = sorted(set().union(*(names for _, names in posts)))
    if not names:
        return [set() for _ in posts]
    following: dict[str, set[int]] = {}
    for name, actor_id in await core.rows(session, _TAG_FOLLOWERS, {"names": names}):
        following.setdefault(name, set()).add(actor_id)
    found = [set().union(*(following.get(name, ()) for name in its)) for _, its in posts]
    blocks: set[tuple[int, int]] = set()
    if everyone := set().union(*found):
        authors = sorted({author for author, _ in posts})
        for blocker, blocked in await core.rows(session, _BLOCKS_BETWEEN, {"authors": authors, "followers": sorted(everyone)}):
            blocks |= {(blocker, blocked), (blocked, blocker)}
    return [{actor for actor in its if (author, actor) not in blocks} for (author, _), its in zip(posts, found)]


async def unmerge(session: AsyncSession, owner_id: int, name: str) -> None:
    """Take out of the owner's home the posts only the tag `name` brought there (call it once she
    no longer follows the tag): those by authors she does not follow (nor herself), that do not
    mention her and carry none of the tags she still follows."""
    tagged = select(Tag.object_id).where(Tag.name == name)
    still = select(Tag.object_id).where(
        Tag.name.in_(select(FollowedTag.name).where(FollowedTag.actor_id == owner_id)))
    followees = select(Follow.followee_id).where(Follow.follower_id == owner_id, Follow.state == FollowState.accepted)
    mentioning = select(Mention.object_id).where(Mention.actor_id == owner_id)
    await session.execute(delete(FeedEntry).where(
        FeedEntry.owner_id == owner_id, FeedEntry.boost.is_(False), FeedEntry.item_id.in_(tagged),
        FeedEntry.author_id != owner_id, FeedEntry.author_id.not_in(followees),
        FeedEntry.item_id.not_in(mentioning), FeedEntry.item_id.not_in(still)))


# --- featured ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeaturedUse:
    """How often an actor used a featured tag on her profile's posts."""

    statuses: int
    last: datetime | None


async def feature(session: AsyncSession, actor_id: int, name: str) -> FeaturedTag:
    """Feature a tag (the row it already has, if featured)."""
    await session.execute(insert_for(session, FeaturedTag).values(actor_id=actor_id, name=name)
                          .on_conflict_do_nothing(index_elements=["actor_id", "name"]))
    return await session.scalar(select(FeaturedTag).where(FeaturedTag.actor_id == actor_id,
                                                          FeaturedTag.name == name))


async def unfeature(session: AsyncSession, actor_id: int, *, featured_id: int | None = None,
                    name: str | None = None) -> bool:
    """Stop featuring a tag, by its featured row's id or by name; False if it was not featured."""
    where = FeaturedTag.id == featured_id if featured_id is not None else FeaturedTag.name == name
    result = await session.execute(delete(FeaturedTag).where(FeaturedTag.actor_id == actor_id, where))
    return result.rowcount > 0


async def featured_of(session: AsyncSession, actor_id: int) -> list[FeaturedTag]:
    """The actor's featured tags, in the order she featured them."""
    return list(await session.scalars(select(FeaturedTag).where(FeaturedTag.actor_id == actor_id)
                                      .order_by(FeaturedTag.id)))


async def featured_count(session: AsyncSession, actor_id: int) -> int:
    return await session.scalar(select(func.count()).where(FeaturedTag.actor_id == actor_id))


async def featured_uses(session: AsyncSession, actor_id: int, names: Iterable[str]) -> dict[str, FeaturedUse]:
    """For each of `names`: how many of the actor's live public and unlisted posts carry it, and
    when the latest was published."""
    names = set(names)
    if not names:
        return {}
    rows = await session.execute(
        select(Tag.name, func.count(), func.max(Object.published)).join(Object, Object.id == Tag.object_id)
        .where(Tag.name.in_(names), Object.actor_id == actor_id, Object.deleted_at.is_(None),
               Object.visibility.in_(_PROFILE_VISIBILITIES))
        .group_by(Tag.name))
    return {name: FeaturedUse(count, last) for name, count, last in rows}


async def suggestions(session: AsyncSession, actor_id: int, limit: int) -> list[str]:
    """The tags the actor uses most on her public and unlisted posts, not featured yet."""
    featured = select(FeaturedTag.name).where(FeaturedTag.actor_id == actor_id)
    query = (select(Tag.name).join(Object, Object.id == Tag.object_id)
             .where(Object.actor_id == actor_id, Object.deleted_at.is_(None),
                    Object.visibility.in_(_PROFILE_VISIBILITIES), Tag.name.not_in(featured))
             .group_by(Tag.name).order_by(func.count().desc(), Tag.name).limit(limit))
    return list(await session.scalars(query))


# --- history -------------------------------------------------------------------------------------

async def uses_since(session: AsyncSession, names: Iterable[str], since: datetime, *,
                     include_local_only: bool) -> list[tuple[str, datetime, int]]:
    """(tag, published, author) of every live public or unlisted post carrying one of `names`
    published since `since` (institution-only ones if `include_local_only`): what a Tag
    entity's daily history counts."""
    names = set(names)
    if not names:
        return []
    query = (select(Tag.name, Object.published, Object.actor_id).join(Object, Object.id == Tag.object_id)
             .where(Tag.name.in_(names), Object.published >= since, Object.deleted_at.is_(None),
                    Object.visibility.in_(_PROFILE_VISIBILITIES)))
    if not include_local_only:
        query = query.where(Object.local_only.is_(False))
    rows = await session.execute(query)
    return [tuple(row) for row in rows]
