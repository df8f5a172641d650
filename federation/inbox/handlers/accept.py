"""Accept and Reject of a Follow a local actor sent. Only the followee may answer. An answer to
a quote request is quote_answer's. A community elsewhere that approves joins accepting ours is
its moderators' approval: the new member here is told (`join_approved`)."""

from __future__ import annotations

from federation.social import feeds
from federation.social.notifications import notify
from federation.inbox.handlers import quote_answer
from federation.inbox.handlers.base import HandlerContext, Ignore
from storage import actors as actor_queries
from storage.follows import follow_by_uri, follow_of
from storage.states import FOLLOWS
from storage.models import ActorType, Follow, FollowState, NotificationType


async def _follow(ctx: HandlerContext) -> Follow:
    activity = ctx.activity
    row = None
    if activity.object_id:
        row = await follow_by_uri(ctx.session, activity.object_id)
    if row is None and activity.object_type is not None:
        # Some servers answer with a re-built Follow whose id is not ours; match on the pair.
        row = await follow_of(ctx.session, activity.object_actor, ctx.actor.id)
    if row is None or row.followee_id != ctx.actor.id:
        raise Ignore(f"{activity.type} of a follow {activity.actor} was not asked for")
    return row


async def handle(ctx: HandlerContext) -> None:
    if quote_answer.answers_quote_request(ctx.activity):
        return await quote_answer.handle(ctx)
    row = await _follow(ctx)
    state = FollowState.accepted if ctx.activity.type == "Accept" else FollowState.rejected
    if not FOLLOWS.allows(row.state, state):
        raise Ignore(f"follow is {row.state.value}; cannot become {state.value}")
    FOLLOWS.move(row, state, ctx.now)
    follower = await actor_queries.actor_by_id(ctx.session, row.follower_id)
    if state is FollowState.accepted:
        await feeds.backfill(ctx.session, follower, ctx.actor)
        if ctx.actor.type is ActorType.Group and ctx.actor.manually_approves_followers and follower.local:
            await notify(ctx.session, follower, NotificationType.join_approved, ctx.actor, None, ctx.now)
    else:
        await feeds.remove_author(ctx.session, follower, ctx.actor)
