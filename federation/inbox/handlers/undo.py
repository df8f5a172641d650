"""Undo of a Follow, Like, Announce or Block the same actor made.

An embedded Follow is matched by its id, else by the pair it names (its actor, who sends the
Undo, and its object): Misskey undoes a follow with a Follow rebuilt for the Undo, whose id is
not the one it first sent."""

from __future__ import annotations

from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.protocol.vocab.parse import APActivity
from storage.interactions import withdraw_announce
from storage.interactions import withdraw_block
from storage.follows import follow_by, follow_by_uri
from storage.interactions import withdraw_like
from storage.states import FOLLOWS
from storage.models import FollowState

# what else an Undo may name, tried in this order when it does not say which kind it undoes
WITHDRAW = {"Like": withdraw_like, "Announce": withdraw_announce, "Block": withdraw_block}


async def handle(ctx: HandlerContext) -> None:
    inner = ctx.activity.object
    undone_id = ctx.activity.object_id
    kind = inner.type if isinstance(inner, APActivity) else None
    if kind in (None, "Follow"):
        row = await follow_by_uri(ctx.session, undone_id, follower_id=ctx.actor.id)
        if row is None and kind == "Follow" and inner.actor == ctx.actor.uri:
            row = await follow_by(ctx.session, ctx.actor.id, inner.object_id)
        if row is not None:
            if FOLLOWS.allows(row.state, FollowState.undone):
                FOLLOWS.move(row, FollowState.undone, ctx.now)
            return
        if kind == "Follow":
            raise Ignore(f"no follow {undone_id} by {ctx.actor.uri}")
    for name, withdraw in WITHDRAW.items():
        if kind in (None, name) and await withdraw(ctx.session, undone_id, ctx.actor.id):
            return
    raise Ignore(f"nothing to undo for {undone_id}")
