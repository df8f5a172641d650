"""Follows, whether a peer or a local user asked: the same function writes the same row, so the
inbox and the outbox cannot drift apart. A follow's states and moves are declared in
`storage.states.FOLLOWS`; a move it does not declare raises."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities import membership
from federation.social import feeds
from federation.social.notifications import notify
from storage import follows as queries
from storage.models import Actor, Follow, FollowState, NotificationType
from storage.states import FOLLOWS


async def follow_between(session: AsyncSession, follower: Actor, followee: Actor) -> Follow | None:
    return await queries.follow_between(session, follower.id, followee.id)


async def upsert_follow(
    session: AsyncSession, follower: Actor, followee: Actor, uri: str, state: FollowState, now: datetime
) -> Follow:
    row = await follow_between(session, follower, followee)
    if row is None:
        return await queries.add_follow(session, follower.id, followee.id, uri, state, now)
    row.uri = uri
    if not FOLLOWS.allows(row.state, state):  # a new request starts pending, then is answered
        FOLLOWS.move(row, FollowState.pending, now)
    FOLLOWS.move(row, state, now)
    row.updated_at = now
    return row


async def request_follow(session: AsyncSession, follower: Actor, followee: Actor, uri: str, now: datetime) -> Follow:
    """A follow of a local actor: accepted at once, or pending when they approve followers. A
    follow of a community hosted here is a join, answered by its policy (`membership`): it may
    also start rejected, and its moderators hear of a pending one."""
    joined = await membership.join_state(session, follower, followee)
    if joined is not None:
        state = joined
    else:
        state = FollowState.pending if followee.manually_approves_followers else FollowState.accepted
    row = await upsert_follow(session, follower, followee, uri, state, now)
    if joined is None:
        kind = NotificationType.follow_request if state is FollowState.pending else NotificationType.follow
        await notify(session, followee, kind, follower, None, now)
    elif state is FollowState.pending:
        await membership.notify_moderators(session, followee, follower, now)
    if state is FollowState.accepted:
        await feeds.backfill(session, follower, followee)
    return row


async def remote_followers(session: AsyncSession, actor: Actor) -> list[Actor]:
    return await queries.remote_followers(session, actor.id)
