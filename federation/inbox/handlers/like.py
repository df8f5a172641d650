"""Like: a peer's actor favourites a post we know."""

from __future__ import annotations

from federation.social import relations
from federation.inbox.handlers.base import HandlerContext, known_object
from storage.likes import like_by


async def handle(ctx: HandlerContext) -> None:
    item = await known_object(ctx, ctx.activity.object_id)
    if await like_by(ctx.session, ctx.actor.id, item.id) is None:
        await relations.add_like(ctx.session, ctx.actor, item, ctx.activity.id, ctx.now)
