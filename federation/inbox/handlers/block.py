"""Block: a peer's actor blocks a local one. Follows between them end in both directions."""

from __future__ import annotations

from sqlalchemy import select

from federation.social import feeds, follows
from federation.inbox.handlers.base import HandlerContext, local_actor
from storage.states import FOLLOWS
from storage.models import Block, FollowState


async def handle(ctx: HandlerContext) -> None:
    target = await local_actor(ctx, ctx.activity.object_id)
    existing = await ctx.session.scalar(select(Block).where(Block.actor_id == ctx.actor.id, Block.target_id == target.id))
    if existing is None:
        ctx.session.add(Block(uri=ctx.activity.id, actor_id=ctx.actor.id, target_id=target.id, created_at=ctx.now))
    for follower, followee in ((ctx.actor, target), (target, ctx.actor)):
        row = await follows.follow_between(ctx.session, follower, followee)
        if row is not None:
            if FOLLOWS.allows(row.state, FollowState.undone):
                FOLLOWS.move(row, FollowState.undone, ctx.now)
    await feeds.remove_author(ctx.session, target, ctx.actor)
