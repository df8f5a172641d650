"""Add to a collection: a thread pinned in a community's `featured` collection (by a moderator
elsewhere of a community hosted here, or by a community elsewhere; `communities.remote_moderators`).
Any other Add changes nothing here."""

from __future__ import annotations

from federation.communities import remote_moderators
from federation.inbox.handlers.base import HandlerContext, Ignore


async def handle(ctx: HandlerContext) -> None:
    reason = await remote_moderators.change_featured(ctx.fed, ctx.session, ctx.actor, ctx.activity, pinned=True,
                                                     now=ctx.now)
    if reason is not None:
        raise Ignore(reason)
