"""Delete of a post (it becomes a tombstone) or of the actor itself (its content, follows, likes
and boosts go, and its boosts leave home timelines).

The inbox already refused deletes of other hosts' objects and of known posts by someone else.
"""

from __future__ import annotations

from sqlalchemy import delete, or_, select, update

from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.social.streams import record_post
from storage.models import Announce, FeedEntry, Follow, Like, Object


async def handle(ctx: HandlerContext) -> None:
    target = ctx.activity.object_id
    if target == ctx.actor.uri:
        await ctx.session.execute(delete(Object).where(Object.actor_id == ctx.actor.id))
        await ctx.session.execute(
            delete(Follow).where(or_(Follow.follower_id == ctx.actor.id, Follow.followee_id == ctx.actor.id))
        )
        await ctx.session.execute(delete(FeedEntry).where(FeedEntry.author_id == ctx.actor.id))
        for model in (Like, Announce):
            await ctx.session.execute(delete(model).where(model.actor_id == ctx.actor.id))
        ctx.actor.deleted_at = ctx.now
        ctx.fed.keys.forget(ctx.actor.key_id)
        return
    item = await ctx.session.scalar(select(Object).where(Object.uri == target))
    if item is None or item.deleted_at is not None:
        raise Ignore(f"unknown or already deleted object {target}")
    if item.actor_id != ctx.actor.id:
        raise Ignore(f"{ctx.actor.uri} cannot delete {target}")
    await record_post(ctx.session, item, ctx.actor, "delete")
    await ctx.session.execute(
        update(Object).where(Object.id == item.id)
        .values(deleted_at=ctx.now, content="", summary="", attachments=None, raw=None)
    )
