"""Like: a peer's actor favourites a post we know."""

from __future__ import annotations

from sqlalchemy import select

from federation.social import interactions
from federation.inbox.handlers.base import HandlerContext, known_object
from storage.models import Like


async def handle(ctx: HandlerContext) -> None:
    item = await known_object(ctx, ctx.activity.object_id)
    existing = await ctx.session.scalar(select(Like).where(Like.actor_id == ctx.actor.id, Like.object_id == item.id))
    if existing is None:
        await interactions.add_like(ctx.session, ctx.actor, item, ctx.activity.id, ctx.now)
