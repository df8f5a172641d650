"""Domain rows shared by the inbox handlers and the outbox: follows, likes, boosts, edit history
and the notifications they raise. Whether an action came from a peer or from a local user, the
same function writes the same rows, so the two paths cannot drift apart.

A follow's states and moves are declared in `storage.states.FOLLOWS`.
Notifications go only to local actors.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import feeds
from federation.social.events import StreamEvent, record
from storage.ids import new_id
from storage.states import FOLLOWS
from storage.models import (
    Actor,
    Announce,
    Follow,
    FollowState,
    Like,
    Notification,
    NotificationType,
    Object,
    ObjectEdit,
)

async def follow_between(session: AsyncSession, follower: Actor, followee: Actor) -> Follow | None:
    return await session.scalar(
        select(Follow).where(Follow.follower_id == follower.id, Follow.followee_id == followee.id)
    )


async def upsert_follow(
    session: AsyncSession, follower: Actor, followee: Actor, uri: str, state: FollowState, now: datetime
) -> Follow:
    row = await follow_between(session, follower, followee)
    if row is None:
        row = Follow(follower_id=follower.id, followee_id=followee.id, state=state, uri=uri,
                     created_at=now, updated_at=now)
        session.add(row)
    else:
        row.uri = uri
        if not FOLLOWS.allows(row.state, state):  # a new request starts pending, then is answered
            FOLLOWS.move(row, FollowState.pending, now)
        FOLLOWS.move(row, state, now)
        row.updated_at = now
    await session.flush()
    return row


async def request_follow(session: AsyncSession, follower: Actor, followee: Actor, uri: str, now: datetime) -> Follow:
    """A follow of a local actor: accepted at once, or pending when they approve followers."""
    state = FollowState.pending if followee.manually_approves_followers else FollowState.accepted
    row = await upsert_follow(session, follower, followee, uri, state, now)
    kind = NotificationType.follow_request if state is FollowState.pending else NotificationType.follow
    await notify(session, followee, kind, follower, None, now)
    if state is FollowState.accepted:
        await feeds.backfill(session, follower, followee)
    return row


async def remote_followers(session: AsyncSession, actor: Actor) -> list[Actor]:
    rows = await session.scalars(
        select(Actor)
        .join(Follow, Follow.follower_id == Actor.id)
        .where(Follow.followee_id == actor.id, Follow.state == FollowState.accepted,
               Actor.local.is_(False), Actor.deleted_at.is_(None))
    )
    return list(rows)


async def notify(
    session: AsyncSession, recipient: Actor, kind: NotificationType, sender: Actor,
    item: Object | None, now: datetime, *, to_self: bool = False,
) -> None:
    """Notify a local recipient; never of their own doing, unless `to_self` (their poll ended)."""
    if recipient.local and (to_self or recipient.id != sender.id):
        row = Notification(id=new_id(), recipient_id=recipient.id, type=kind, from_actor_id=sender.id,
                           object_id=item.id if item is not None else None, created_at=now)
        session.add(row)
        record(session, StreamEvent((f"user:{recipient.id}", f"user:notification:{recipient.id}"),
                                    "notification", "notification", row.id))


async def notify_edit(session: AsyncSession, item: Object, author: Actor, now: datetime) -> None:
    """Tell the local actors who boosted `item` that it was edited (Mastodon's `update`)."""
    boosters = await session.scalars(select(Actor).where(
        Actor.local.is_(True), Actor.id.in_(select(Announce.actor_id).where(Announce.object_id == item.id))))
    for booster in boosters:
        await notify(session, booster, NotificationType.update, author, item, now)


async def notify_mentions(session: AsyncSession, item: Object, author: Actor, mentioned: list[Actor], now: datetime) -> None:
    for actor in mentioned:
        await notify(session, actor, NotificationType.mention, author, item, now)


async def add_like(session: AsyncSession, actor: Actor, item: Object, uri: str, now: datetime) -> Like:
    row = Like(uri=uri, actor_id=actor.id, object_id=item.id, created_at=now)
    session.add(row)
    await session.flush()
    author = await session.get(Actor, item.actor_id)
    if author is not None:
        await notify(session, author, NotificationType.favourite, actor, item, now)
    return row


async def add_announce(
    session: AsyncSession, actor: Actor, item: Object, uri: str, now: datetime, *, public: bool
) -> Announce:
    row = Announce(uri=uri, actor_id=actor.id, object_id=item.id, public=public, created_at=now)
    session.add(row)
    await session.flush()
    author = await session.get(Actor, item.actor_id)
    if author is not None:
        await notify(session, author, NotificationType.reblog, actor, item, now)
    return row


async def keep_version(session: AsyncSession, item: Object) -> None:
    """Save the current version of a post in its edit history before it changes."""
    session.add(ObjectEdit(
        object_id=item.id, content=item.content, summary=item.summary, sensitive=item.sensitive,
        attachments=item.attachments, edited_at=item.updated or item.published,
    ))
