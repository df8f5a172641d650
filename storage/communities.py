"""Queries on communities hosted here: their policy rows, moderators and bans. Membership is the
group's follows (storage.follows); the threads are the group's announces."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import BigInteger, bindparam, delete, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.coverage import blocked_author

from storage.models import (
    Actor,
    ActorType,
    Announce,
    Community,
    CommunityBan,
    CommunityModerator,
    Follow,
    FollowState,
    Object,
    Pin,
)
from storage.paging import Cursor, apply, newest_first


async def add_community(session: AsyncSession, community: Community) -> Community:
    session.add(community)
    await session.flush()
    return community


async def community_of(session: AsyncSession, actor_id: int) -> Community | None:
    """The policy row of the local group `actor_id`, or None (a person, or a remote group)."""
    return await session.get(Community, actor_id)


async def local_group(session: AsyncSession, username: str) -> Actor | None:
    """The Group actor of the community hosted here called `username`, if there is one."""
    return await session.scalar(select(Actor).join(Community, Community.actor_id == Actor.id).where(
        Actor.local.is_(True), Actor.username == username.lower(), Actor.deleted_at.is_(None)))


async def communities(session: AsyncSession, *, include_local_only: bool) -> list[tuple[Community, Actor]]:
    """Every community hosted here with its actor, by name."""
    query = select(Community, Actor).join(Actor, Actor.id == Community.actor_id).order_by(Actor.username)
    if not include_local_only:
        query = query.where(Community.local_only.is_(False))
    return [(row[0], row[1]) for row in await session.execute(query)]


async def local_only_usernames(session: AsyncSession) -> set[str]:
    """The usernames of the institution-only communities (few: a read-access cache holds them)."""
    query = select(Actor.username).join(Community, Community.actor_id == Actor.id).where(Community.local_only.is_(True))
    return set(await session.scalars(query))


def institution_only_group(actor_id):
    """SQL: the actor with this id (a column, or a value) is an institution-only community
    hosted here, for the instance's users only (federation.social.access.may_reach)."""
    return exists().where(Community.actor_id == actor_id, Community.local_only.is_(True))


async def is_local_only_actor(session: AsyncSession, actor_id: int) -> bool:
    return bool(await session.scalar(select(institution_only_group(actor_id))))


async def moderators(session: AsyncSession, community_id: int) -> list[Actor]:
    query = (select(Actor).join(CommunityModerator, CommunityModerator.actor_id == Actor.id)
             .where(CommunityModerator.community_id == community_id).order_by(CommunityModerator.id))
    return list(await session.scalars(query))


_COMMUNITY_ID = bindparam("community_id", type_=BigInteger)
_ACTOR_ID = bindparam("actor_id", type_=BigInteger)
# built once, as the rest of this block: the inbox worker's relay asks them for posts and likes
_IS_MODERATOR = select(exists().where(CommunityModerator.community_id == _COMMUNITY_ID,
                                      CommunityModerator.actor_id == _ACTOR_ID))


async def is_moderator(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    return bool(await session.scalar(_IS_MODERATOR, {"community_id": community_id, "actor_id": actor_id}))


async def moderated_by(session: AsyncSession, actor_id: int) -> list[int]:
    """The communities `actor_id` is a moderator of (by its own row, not as an instance's admin)."""
    return list(await session.scalars(select(CommunityModerator.community_id).where(
        CommunityModerator.actor_id == actor_id).order_by(CommunityModerator.community_id)))


async def add_moderator(session: AsyncSession, community_id: int, actor_id: int, now: datetime) -> bool:
    """Make `actor_id` a moderator; False if it already was."""
    if await is_moderator(session, community_id, actor_id):
        return False
    session.add(CommunityModerator(community_id=community_id, actor_id=actor_id, created_at=now))
    await session.flush()
    return True


async def remove_moderator(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    result = await session.execute(delete(CommunityModerator).where(
        CommunityModerator.community_id == community_id, CommunityModerator.actor_id == actor_id))
    return bool(result.rowcount)


async def memberships_elsewhere(session: AsyncSession, community_id: int) -> list[tuple[Follow, Actor]]:
    """The pending and accepted follows of the community by actors on other servers, with them."""
    rows = await session.execute(select(Follow, Actor).join(Actor, Actor.id == Follow.follower_id).where(
        Follow.followee_id == community_id, Actor.local.is_(False),
        Follow.state.in_((FollowState.pending, FollowState.accepted))).order_by(Follow.id))
    return [(row, actor) for row, actor in rows]


async def moderators_elsewhere(session: AsyncSession, community_id: int) -> list[Actor]:
    return [actor for actor in await moderators(session, community_id) if not actor.local]


async def is_banned(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(
        CommunityBan.community_id == community_id, CommunityBan.actor_id == actor_id))))


async def add_ban(session: AsyncSession, community_id: int, actor_id: int, now: datetime) -> bool:
    if await is_banned(session, community_id, actor_id):
        return False
    session.add(CommunityBan(community_id=community_id, actor_id=actor_id, created_at=now))
    await session.flush()
    return True


_IS_MEMBER = select(exists().where(Follow.followee_id == _COMMUNITY_ID, Follow.follower_id == _ACTOR_ID,
                                   Follow.state == FollowState.accepted))


async def is_member(session: AsyncSession, community_id: int, actor_id: int) -> bool:
    """An accepted follow of the group."""
    return bool(await session.scalar(_IS_MEMBER, {"community_id": community_id, "actor_id": actor_id}))


async def join_requests(session: AsyncSession, community_id: int) -> list[tuple[Follow, Actor]]:
    """The pending joins of a community, oldest first, with who asked."""
    query = (select(Follow, Actor).join(Actor, Actor.id == Follow.follower_id)
             .where(Follow.followee_id == community_id, Follow.state == FollowState.pending).order_by(Follow.id))
    return [(row[0], row[1]) for row in await session.execute(query)]


_GROUPS_BY_URIS = (select(Community, Actor).join(Actor, Actor.id == Community.actor_id)
                   .where(Actor.uri.in_(bindparam("uris", expanding=True))))
_OF_THREAD = (select(Community, Actor).join(Actor, Actor.id == Community.actor_id)
              .join(Announce, Announce.actor_id == Community.actor_id)
              .join(Object, Object.id == Announce.object_id)
              .where(Object.uri == bindparam("uri")).limit(1))
_THREADS = (select(Object.uri).join(Announce, Announce.object_id == Object.id)
            .join(Community, Community.actor_id == Announce.actor_id)
            .where(Object.uri.in_(bindparam("uris", expanding=True))).distinct())
_GROUPS_ANNOUNCING = (select(Actor).join(Announce, Announce.actor_id == Actor.id)
                      .where(Announce.object_id == bindparam("object_id", type_=BigInteger),
                             Actor.type == ActorType.Group, Actor.deleted_at.is_(None)))


async def local_groups_by_uris(session: AsyncSession, uris: list[str]) -> list[tuple[Community, Actor]]:
    """The communities hosted here among these actor ids."""
    if not uris:
        return []
    return [(row[0], row[1]) for row in await session.execute(_GROUPS_BY_URIS, {"uris": list(uris)})]


async def community_of_thread(session: AsyncSession, post_uri: str) -> tuple[Community, Actor] | None:
    """The local community that announced the post `post_uri`, if one did."""
    row = (await session.execute(_OF_THREAD, {"uri": post_uri})).first()
    return (row[0], row[1]) if row is not None else None


async def in_community_threads(session: AsyncSession, post_uris: Collection[str]) -> set[str]:
    """Those of the posts `post_uris` that a local community announced (`community_of_thread`
    of many, in one query)."""
    if not post_uris:
        return set()
    return set(await session.scalars(_THREADS, {"uris": sorted(set(post_uris))}))


async def groups_announcing(session: AsyncSession, object_id: int) -> list[Actor]:
    """The Group actors (hosted here or not) that announced the post `object_id`: the communities
    its thread belongs to."""
    return list(await session.scalars(_GROUPS_ANNOUNCING, {"object_id": object_id}))


async def withdraw_group_announce(session: AsyncSession, group_id: int, object_id: int) -> bool:
    """Take a post out of a community's threads (its Announce by the group); True if it was in."""
    result = await session.execute(delete(Announce).where(Announce.actor_id == group_id,
                                                          Announce.object_id == object_id))
    return bool(result.rowcount)


async def local_members(session: AsyncSession, community_id: int) -> list[Actor]:
    """The members on this server (accepted follows of the group by local actors)."""
    query = (select(Actor).join(Follow, Follow.follower_id == Actor.id)
             .where(Follow.followee_id == community_id, Follow.state == FollowState.accepted, Actor.local.is_(True)))
    return list(await session.scalars(query))


async def member_count(session: AsyncSession, community_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Follow).where(
        Follow.followee_id == community_id, Follow.state == FollowState.accepted)) or 0


async def pinned_ids(session: AsyncSession, community_id: int) -> list[int]:
    """The community's pinned threads, newest pin first."""
    return list(await session.scalars(select(Pin.object_id).where(Pin.actor_id == community_id).order_by(Pin.id.desc())))


async def threads(session: AsyncSession, community_id: int, cursor: Cursor, *, leave_out: Collection[int] = ()
                  ) -> list[tuple[int, Object]]:
    """A page of a community's threads for its page: (announce id, post) for each post it
    announced that answers none of the other posts it announced (a reply stays in its thread),
    newest announce first and paged by the announce's id, leaving out the posts `leave_out` (the
    pinned ones, shown apart), deleted posts and authors on blocked peers."""
    parent, parent_announce = aliased(Object), aliased(Announce)
    in_a_thread = exists().where(parent.uri == Object.in_reply_to_uri, parent_announce.object_id == parent.id,
                                 parent_announce.actor_id == community_id)
    query = (select(Announce.id, Object).join(Object, Object.id == Announce.object_id)
             .where(Announce.actor_id == community_id, Object.deleted_at.is_(None), ~in_a_thread,
                    ~blocked_author(Object.actor_id)))
    if leave_out:
        query = query.where(Announce.object_id.not_in(list(leave_out)))
    rows = [(announce_id, post) for announce_id, post in await session.execute(apply(query, Announce.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def joined_elsewhere(session: AsyncSession, follower_id: int) -> list[tuple[Actor, FollowState]]:
    """The communities on other servers that `follower_id` has joined or asked to join, by name,
    with the state of the join."""
    query = (select(Actor, Follow.state).join(Follow, Follow.followee_id == Actor.id)
             .where(Follow.follower_id == follower_id, Follow.state.in_((FollowState.accepted, FollowState.pending)),
                    Actor.type == ActorType.Group, Actor.local.is_(False), Actor.deleted_at.is_(None))
             .order_by(Actor.username, Actor.domain))
    return [(row[0], row[1]) for row in await session.execute(query)]
