"""Follow: a peer's actor asks to follow a local actor. Auto-accepted (an Accept is queued in
the same transaction), or left pending when the local actor approves followers by hand."""

from __future__ import annotations

from federation.outbox import actions

from federation.social import follows, notifications
from federation.inbox.handlers.base import HandlerContext, local_actor
from storage.models import FollowState, NotificationType


async def handle(ctx: HandlerContext) -> None:
    target = await local_actor(ctx, ctx.activity.object_id)
    existing = await follows.follow_between(ctx.session, ctx.actor, target)
    if existing is not None and existing.state is FollowState.accepted:
        existing.uri = ctx.activity.id
        await actions.answer_follow(ctx.fed, ctx.session, existing, accept=True)  # re-confirm
        return
    row = await follows.upsert_follow(ctx.session, ctx.actor, target, ctx.activity.id, FollowState.pending, ctx.now)
    if target.manually_approves_followers:
        await notifications.notify(ctx.session, target, NotificationType.follow_request, ctx.actor, None, ctx.now)
        return
    await notifications.notify(ctx.session, target, NotificationType.follow, ctx.actor, None, ctx.now)
    await actions.answer_follow(ctx.fed, ctx.session, row, accept=True)
