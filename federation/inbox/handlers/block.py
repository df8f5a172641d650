"""Block: a peer's actor blocks a local one. Follows between them end in both directions. A
Block whose `target` is a community hosted here is a ban by one of its moderators elsewhere
(`communities.remote_moderators`)."""

from __future__ import annotations

from federation.social import feeds, follows
from federation.communities import remote_moderators
from federation.inbox.handlers.base import HandlerContext, Ignore, local_actor
from storage.states import FOLLOWS
from storage.accounts_api import block_between
from storage.interactions import add_block
from storage.models import FollowState


async def handle(ctx: HandlerContext) -> None:
    if ctx.activity.target is not None:  # a ban from a community
        reason = await remote_moderators.ban(ctx.fed, ctx.session, ctx.actor, ctx.activity)
        if reason is not None:
            raise Ignore(reason)
        return
    target = await local_actor(ctx, ctx.activity.object_id)
    if await block_between(ctx.session, ctx.actor.id, target.id) is None:
        add_block(ctx.session, ctx.actor.id, target.id, ctx.activity.id, ctx.now)
    for follower, followee in ((ctx.actor, target), (target, ctx.actor)):
        row = await follows.follow_between(ctx.session, follower, followee)
        if row is not None:
            if FOLLOWS.allows(row.state, FollowState.undone):
                FOLLOWS.move(row, FollowState.undone, ctx.now)
    await feeds.remove_author(ctx.session, target, ctx.actor)
