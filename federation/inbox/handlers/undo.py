"""Undo of a Follow, Like, Announce or Block the same actor made."""

from __future__ import annotations

from sqlalchemy import delete, select

from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.protocol.vocab.parse import APActivity
from storage.states import FOLLOWS
from storage.models import Announce, Block, Follow, FollowState, Like


async def handle(ctx: HandlerContext) -> None:
    inner = ctx.activity.object
    undone_id = ctx.activity.object_id
    kind = inner.type if isinstance(inner, APActivity) else None
    if kind in (None, "Follow"):
        row = await ctx.session.scalar(
            select(Follow).where(Follow.uri == undone_id, Follow.follower_id == ctx.actor.id)
        )
        if row is not None:
            if FOLLOWS.allows(row.state, FollowState.undone):
                FOLLOWS.move(row, FollowState.undone, ctx.now)
            return
        if kind == "Follow":
            raise Ignore(f"no follow {undone_id} by {ctx.actor.uri}")
    for model in (Like, Announce, Block):
        if kind in (None, model.__name__):
            result = await ctx.session.execute(
                delete(model).where(model.uri == undone_id, model.actor_id == ctx.actor.id)
            )
            if result.rowcount:
                return
    raise Ignore(f"nothing to undo for {undone_id}")
