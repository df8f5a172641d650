"""Follow: a peer's actor asks to follow a local actor. Auto-accepted (an Accept is queued in
the same transaction), or left pending when the local actor approves followers by hand; a join of
a community may also be rejected at once (its policy: `federation.communities.membership`). The
follow itself is `follows.request_follow`, the same call a local follow makes. A follow across a
block, either way, is rejected at once (a Reject to its server), as a local one is refused: a
blocked account never follows again, nor receives what is for followers."""

from __future__ import annotations

from federation.outbox import relations

from federation.social import follows
from federation.inbox.handlers.base import HandlerContext, local_actor
from storage.accounts_api import blocked_either_way
from storage.models import FollowState


async def handle(ctx: HandlerContext) -> None:
    target = await local_actor(ctx, ctx.activity.object_id)
    if await blocked_either_way(ctx.session, ctx.actor.id, target.id):
        row = await follows.upsert_follow(ctx.session, ctx.actor, target, ctx.activity.id, FollowState.pending, ctx.now)
        await relations.answer_follow(ctx.fed, ctx.session, row, accept=False)
        return
    existing = await follows.follow_between(ctx.session, ctx.actor, target)
    if existing is not None and existing.state is FollowState.accepted:
        existing.uri = ctx.activity.id
        await relations.answer_follow(ctx.fed, ctx.session, existing, accept=True)  # re-confirm
        return
    row = await follows.request_follow(ctx.session, ctx.actor, target, ctx.activity.id, ctx.now)
    if row.state is not FollowState.pending:  # sends the Accept, or a community's Reject
        await relations.answer_follow(ctx.fed, ctx.session, row, accept=row.state is FollowState.accepted)
