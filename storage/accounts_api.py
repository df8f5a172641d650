"""Read queries behind the client API's account and search endpoints.

Lists page by a time-ordered row id, newest first, the way Mastodon pages: `max_id` asks for rows
older than it, `since_id` for rows newer than it (the newest `limit` of them), `min_id` for the
rows just newer than it. Followers, following and follow requests page by the Follow row's id,
so a page boundary stays put when an actor is renamed or followed again.

An account's statuses follow the visibility rule of `federation.social.access.can_see`, written as SQL
so a page is filled before the limit applies: public and unlisted for anyone, followers-only for
the author's accepted followers and the mentioned, direct for the mentioned, all for the author.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import String, and_, cast, delete, exists, func, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.communities import institution_only_group
from storage.coverage import blocked_author, on_blocked_peer
from storage.ids import new_id
from storage.models import (
    Account,
    AccountNote,
    Actor,
    ActorType,
    Announce,
    Block,
    Follow,
    FollowState,
    Media,
    Mention,
    Mute,
    Object,
    Pin,
    Tag,
    Visibility,
)
from storage.paging import Cursor, apply, newest_first

OPEN = (Visibility.public, Visibility.unlisted)


def _like(text: str) -> str:
    """`text` as a LIKE pattern that matches it literally anywhere."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


# --- accounts ------------------------------------------------------------------------------------

async def actor_by_acct(session: AsyncSession, username: str, domain: str | None, local_domain: str) -> Actor | None:
    """A known actor by `username` (local) or `username@domain`; no network."""
    query = select(Actor).where(func.lower(Actor.username) == username.lower(), Actor.deleted_at.is_(None))
    if domain is None or domain.lower() == local_domain.lower():
        query = query.where(Actor.local.is_(True))
    else:
        query = query.where(Actor.domain == domain.lower())
    return await session.scalar(query.limit(1))


async def actor_by_link(session: AsyncSession, link: str) -> Actor | None:
    """A known actor whose id or profile URL is `link`."""
    return await session.scalar(
        select(Actor).where(or_(Actor.uri == link, Actor.url == link), Actor.deleted_at.is_(None)).limit(1))


async def post_by_link(session: AsyncSession, link: str) -> Object | None:
    """A known post whose id or page URL is `link`."""
    return await session.scalar(
        select(Object).where(or_(Object.uri == link, Object.url == link), Object.deleted_at.is_(None)).limit(1))


async def on_blocked_peers(session: AsyncSession, actor_ids: set[int]) -> set[int]:
    """Which of these actors are on a blocked peer (storage.coverage)."""
    if not actor_ids:
        return set()
    # blocked_author reads the actor's domain in a subquery of its own: the outer actor is
    # another alias, or that subquery would read every actor's first domain, not this one's
    outer = aliased(Actor)
    return set(await session.scalars(select(outer.id).where(outer.id.in_(actor_ids), blocked_author(outer.id))))


async def actors_by_ids(session: AsyncSession, ids: set[int]) -> list[Actor]:
    if not ids:
        return []
    return list(await session.scalars(select(Actor).where(Actor.id.in_(ids), Actor.deleted_at.is_(None))))


async def account_of(session: AsyncSession, actor_id: int) -> Account | None:
    return await session.scalar(select(Account).where(Account.actor_id == actor_id))


async def follow_page(
    session: AsyncSession, actor_id: int, cursor: Cursor, *, followers: bool, state: FollowState = FollowState.accepted,
    institution_only: bool,
) -> list[tuple[int, Actor]]:
    """(follow id, other actor) of follows to (followers=True) or by an actor, in `state`; without
    institution-only communities unless `institution_only` (the reader is one of our users)."""
    mine, theirs = (Follow.followee_id, Follow.follower_id) if followers else (Follow.follower_id, Follow.followee_id)
    query = select(Follow.id, Actor).join(Actor, theirs == Actor.id).where(
        mine == actor_id, Follow.state == state, Actor.deleted_at.is_(None))
    if not institution_only:
        query = query.where(~institution_only_group(Actor.id))
    rows = [(follow_id, actor) for follow_id, actor in await session.execute(apply(query, Follow.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def blocks_page(session: AsyncSession, actor_id: int, cursor: Cursor) -> list[tuple[int, Actor]]:
    """(block id, blocked actor) of the actor's blocks, newest first."""
    query = select(Block.id, Actor).join(Actor, Block.target_id == Actor.id).where(
        Block.actor_id == actor_id, Actor.deleted_at.is_(None))
    rows = [(block_id, actor) for block_id, actor in await session.execute(apply(query, Block.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def mutes_page(session: AsyncSession, actor_id: int, cursor: Cursor, now: datetime
                     ) -> list[tuple[int, Actor, datetime | None]]:
    """(mute id, muted actor, when the mute ends) of the actor's mutes in force, newest first."""
    query = select(Mute.id, Actor, Mute.expires_at).join(Actor, Mute.target_id == Actor.id).where(
        Mute.actor_id == actor_id, Actor.deleted_at.is_(None), or_(Mute.expires_at.is_(None), Mute.expires_at > now))
    rows = [tuple(row) for row in await session.execute(apply(query, Mute.id, cursor))]
    return newest_first(rows, cursor, key=lambda row: row[0])


async def pending_follow(session: AsyncSession, follower_id: int, followee_id: int) -> Follow | None:
    return await session.scalar(select(Follow).where(
        Follow.follower_id == follower_id, Follow.followee_id == followee_id, Follow.state == FollowState.pending))


async def count_follow_requests(session: AsyncSession, actor_id: int) -> int:
    return await session.scalar(select(func.count()).select_from(Follow).where(
        Follow.followee_id == actor_id, Follow.state == FollowState.pending)) or 0


# --- relationships -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Relations:
    """What stands between a viewer and each of some actors (sets of actor ids)."""

    following: set[int]
    requested: set[int]
    followed_by: set[int]
    requested_by: set[int]
    blocking: set[int]
    blocked_by: set[int]
    muting: set[int]
    muting_notifications: set[int]
    notes: dict[int, str]  # her own notes about them


async def relations(session: AsyncSession, viewer_id: int, ids: set[int], now: datetime) -> Relations:
    async def pairs(query) -> list[tuple]:
        return list((await session.execute(query)).all()) if ids else []

    outgoing = await pairs(select(Follow.followee_id, Follow.state).where(
        Follow.follower_id == viewer_id, Follow.followee_id.in_(ids)))
    incoming = await pairs(select(Follow.follower_id, Follow.state).where(
        Follow.followee_id == viewer_id, Follow.follower_id.in_(ids)))
    blocks = await pairs(select(Block.actor_id, Block.target_id).where(or_(
        and_(Block.actor_id == viewer_id, Block.target_id.in_(ids)),
        and_(Block.target_id == viewer_id, Block.actor_id.in_(ids)))))
    mutes = await pairs(select(Mute.target_id, Mute.notifications).where(
        Mute.actor_id == viewer_id, Mute.target_id.in_(ids), or_(Mute.expires_at.is_(None), Mute.expires_at > now)))
    notes = await pairs(select(AccountNote.target_id, AccountNote.comment).where(
        AccountNote.owner_id == viewer_id, AccountNote.target_id.in_(ids)))
    return Relations(
        following={i for i, state in outgoing if state is FollowState.accepted},
        requested={i for i, state in outgoing if state is FollowState.pending},
        followed_by={i for i, state in incoming if state is FollowState.accepted},
        requested_by={i for i, state in incoming if state is FollowState.pending},
        blocking={target for actor, target in blocks if actor == viewer_id},
        blocked_by={actor for actor, target in blocks if target == viewer_id},
        muting={i for i, _ in mutes},
        muting_notifications={i for i, notifications in mutes if notifications},
        notes=dict(notes),
    )


async def set_note(session: AsyncSession, owner_id: int, target_id: int, comment: str) -> None:
    """Her note about the account; an empty one is none."""
    await session.execute(delete(AccountNote).where(AccountNote.owner_id == owner_id, AccountNote.target_id == target_id))
    if comment:
        session.add(AccountNote(id=new_id(), owner_id=owner_id, target_id=target_id, comment=comment))


async def block_between(session: AsyncSession, actor_id: int, target_id: int) -> Block | None:
    return await session.scalar(select(Block).where(Block.actor_id == actor_id, Block.target_id == target_id))


async def mute_between(session: AsyncSession, actor_id: int, target_id: int) -> Mute | None:
    return await session.scalar(select(Mute).where(Mute.actor_id == actor_id, Mute.target_id == target_id))


async def unmute(session: AsyncSession, actor_id: int, target_id: int) -> None:
    if (row := await mute_between(session, actor_id, target_id)) is not None:
        await session.delete(row)


def add_mute(session: AsyncSession, actor_id: int, target_id: int, now: datetime) -> Mute:
    row = Mute(actor_id=actor_id, target_id=target_id, created_at=now)
    session.add(row)
    return row


async def blocked_either_way(session: AsyncSession, a_id: int, b_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(or_(
        and_(Block.actor_id == a_id, Block.target_id == b_id),
        and_(Block.actor_id == b_id, Block.target_id == a_id))))))


# --- an account's statuses -----------------------------------------------------------------------

@dataclass(frozen=True)
class StatusFilter:
    only_media: bool = False
    exclude_replies: bool = False
    exclude_reblogs: bool = False
    pinned: bool = False
    tagged: str | None = None

    @property
    def with_boosts(self) -> bool:
        return not (self.only_media or self.exclude_reblogs or self.pinned or self.tagged)


def has_media():
    """SQL: the post (Object) has media, uploaded here or attached by its remote author."""
    uploaded = exists().where(Media.object_id == Object.id)
    attached = and_(Object.attachments.is_not(None), cast(Object.attachments, String).not_in(["null", "[]"]))
    return or_(uploaded, attached)


def _visible(author_id: int, viewer_id: int | None, follows_author: bool):
    """SQL for `can_see` on posts by one author."""
    if viewer_id == author_id:
        return true()
    if viewer_id is None:  # anonymous: never an institution-only post
        return and_(Object.visibility.in_(OPEN), Object.local_only.is_(False))
    mentioned = Object.id.in_(select(Mention.object_id).where(Mention.actor_id == viewer_id))
    allowed = (*OPEN, Visibility.private) if follows_author else OPEN
    return or_(Object.visibility.in_(allowed), mentioned)


async def follows(session: AsyncSession, follower_id: int, followee_id: int) -> bool:
    return bool(await session.scalar(select(exists().where(
        Follow.follower_id == follower_id, Follow.followee_id == followee_id, Follow.state == FollowState.accepted))))


async def account_statuses(
    session: AsyncSession, author_id: int, viewer_id: int | None, cursor: Cursor, only: StatusFilter,
) -> list[Object | Announce]:
    """Posts (and, unless filtered out, boosts) by an author that the viewer may see; none by an
    author on a blocked peer, and no boosts of such authors' posts."""
    follows_author = viewer_id is not None and await follows(session, viewer_id, author_id)
    posts = select(Object).where(
        Object.actor_id == author_id, Object.deleted_at.is_(None), _visible(author_id, viewer_id, follows_author),
        ~blocked_author(Object.actor_id))
    if only.pinned:  # its pins: a community's pinned threads are its members' posts, public or unlisted ones
        others = and_(Object.visibility.in_(OPEN), Object.local_only.is_(False) if viewer_id is None else true())
        posts = select(Object).where(
            Object.id.in_(select(Pin.object_id).where(Pin.actor_id == author_id)), Object.deleted_at.is_(None),
            or_(and_(Object.actor_id == author_id, _visible(author_id, viewer_id, follows_author)),
                and_(Object.actor_id != author_id, others)),
            ~blocked_author(Object.actor_id))
    if only.only_media:
        posts = posts.where(has_media())
    if only.exclude_replies:
        parent = aliased(Object)
        own_thread = exists().where(parent.uri == Object.in_reply_to_uri, parent.actor_id == author_id)
        posts = posts.where(or_(Object.in_reply_to_uri.is_(None), own_thread))
    if only.tagged:
        posts = posts.where(Object.id.in_(select(Tag.object_id).where(Tag.name == only.tagged.lower().lstrip("#"))))
    rows: list = list(await session.scalars(apply(posts, Object.id, cursor)))
    if only.with_boosts:
        boosted = aliased(Object)
        boosts = select(Announce).join(boosted, boosted.id == Announce.object_id).where(
            Announce.actor_id == author_id, boosted.deleted_at.is_(None), ~blocked_author(Announce.actor_id),
            ~blocked_author(boosted.actor_id),
            Announce.public.is_(True) if not (follows_author or viewer_id == author_id) else true())
        rows += list(await session.scalars(apply(boosts, Announce.id, cursor)))
    return newest_first(rows, cursor)


# --- search --------------------------------------------------------------------------------------

async def search_accounts(
    session: AsyncSession, text: str, domain: str | None, *, limit: int, offset: int, followed_by: int | None = None,
    institution_only: bool,
) -> list[Actor]:
    """Actors whose username or display name contains `text` (and whose domain starts with
    `domain`, when given), not on a blocked peer, nor institution-only communities unless
    `institution_only` (the reader is one of our users): exact usernames first, then prefixes,
    then local actors."""
    pattern = _like(text)
    disabled = select(Account.actor_id).where(Account.disabled.is_(True))
    query = select(Actor).where(
        Actor.deleted_at.is_(None), Actor.type != ActorType.Application, Actor.id.not_in(disabled),
        or_(Actor.local.is_(True), ~on_blocked_peer(Actor.domain)),
        or_(Actor.username.ilike(pattern, escape="\\"), Actor.display_name.ilike(pattern, escape="\\")),
    )
    if not institution_only:
        query = query.where(~institution_only_group(Actor.id))
    if domain:
        query = query.where(Actor.domain.ilike(_like(domain.lower())[1:], escape="\\"))
    if followed_by is not None:
        query = query.where(Actor.id.in_(select(Follow.followee_id).where(
            Follow.follower_id == followed_by, Follow.state == FollowState.accepted)))
    lowered = func.lower(Actor.username)
    rank = (lowered == text.lower()).desc(), lowered.like(_like(text.lower())[1:], escape="\\").desc()
    query = query.order_by(*rank, Actor.local.desc(), Actor.username, Actor.id).offset(offset).limit(limit)
    return list(await session.scalars(query))


async def search_tags(session: AsyncSession, text: str, *, limit: int, offset: int) -> list[str]:
    """Hashtag names starting with `text`, the most used first."""
    pattern = _like(text.lower().lstrip("#"))[1:]
    query = (select(Tag.name).where(Tag.name.like(pattern, escape="\\")).group_by(Tag.name)
             .order_by(func.count().desc(), Tag.name).offset(offset).limit(limit))
    return list(await session.scalars(query))


async def familiar_followers(session: AsyncSession, viewer_id: int, target_ids: set[int], limit: int
                             ) -> dict[int, list[Actor]]:
    """For each target, up to `limit` of its followers whom the viewer follows (both follows
    accepted), newest follow first; none on a blocked peer, none deleted."""
    if not target_ids:
        return {}
    mine, theirs = aliased(Follow), aliased(Follow)
    rows = await session.execute(
        select(theirs.followee_id, Actor).join(mine, mine.followee_id == theirs.follower_id)
        .join(Actor, Actor.id == theirs.follower_id)
        .where(mine.follower_id == viewer_id, mine.state == FollowState.accepted,
               theirs.followee_id.in_(target_ids), theirs.state == FollowState.accepted,
               Actor.deleted_at.is_(None), ~on_blocked_peer(Actor.domain))
        .order_by(theirs.id.desc()))
    found: dict[int, list[Actor]] = {target: [] for target in target_ids}
    for target, actor in rows:
        if len(found[target]) < limit:
            found[target].append(actor)
    return found
