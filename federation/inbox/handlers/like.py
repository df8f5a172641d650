"""Like: a peer's actor favourites a post we know."""

from __future__ import annotations

from federation.communities import threads
from federation.social import interactions
from federation.inbox.handlers.base import HandlerContext, known_object


async def handle(ctx: HandlerContext) -> None:
    item = await known_object(ctx, ctx.activity.object_id)
    if await interactions.add_like(ctx.session, ctx.actor, item, ctx.activity.id, ctx.now) is not None:  # a new like
        await threads.relay_activity(ctx.fed, ctx.session, item, ctx.activity.raw)  # to a community's members
