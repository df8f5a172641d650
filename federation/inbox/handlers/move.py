"""Move: an account elsewhere says it moved to another (Mastodon's account migration). It is
taken only if the new account, fetched from its server now, names the old one among its
aliases (`alsoKnownAs`): then the old account shows where it went (`moved_to_id`), and each local
follower of it follows the new one (a Follow to its server) and no longer the old, but for one
with a block between her and the new account, who keeps following the old. A Move of another
account, to an account that does not name it or has moved itself, or to where it already went,
is ignored."""

from __future__ import annotations

import logging

from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.outbox import relations
from federation.outbox.actions import OutboxError
from federation.protocol.vocab.actors import APActor
from federation.protocol.vocab.parse import APActivity
from federation.remote.actors import ActorError, fetch_actor, upsert_remote_actor
from federation.runtime.context import Federation
from storage.actors import actor_by_id
from storage.streams import local_follower_ids

log = logging.getLogger(__name__)


async def prefetch(fed: Federation, activity: APActivity) -> APActor:
    if activity.object_id != activity.actor:
        raise Ignore(f"{activity.actor} cannot move another account, {activity.object_id}")
    if not activity.target or activity.target == activity.actor:
        raise Ignore("a Move names no other account to move to")
    try:
        moved_to = await fetch_actor(fed.fetcher, activity.target)  # its aliases as they are now
    except ActorError as exc:
        raise Ignore(f"the account it moves to cannot be read: {exc}") from exc
    if moved_to.id == activity.actor:  # a document served at another address, saying it is the old account
        raise Ignore(f"{activity.target} is {activity.actor} itself")
    if activity.actor not in moved_to.also_known_as:
        raise Ignore(f"{moved_to.id} does not name {activity.actor} among its aliases")
    return moved_to


async def handle(ctx: HandlerContext) -> None:
    try:
        new = await upsert_remote_actor(ctx.session, ctx.prepared, ctx.now)
    except ActorError as exc:
        raise Ignore(f"the account it moves to is refused: {exc}") from exc
    if new.id == ctx.actor.id:
        raise Ignore(f"{ctx.actor.uri} cannot move to itself")
    if ctx.actor.moved_to_id == new.id:
        raise Ignore(f"{ctx.actor.uri} moved to {new.uri} already")
    if new.moved_to_id is not None:
        raise Ignore(f"{new.uri} has itself moved")
    ctx.actor.moved_to_id = new.id
    for follower_id in await local_follower_ids(ctx.session, ctx.actor.id):
        follower = await actor_by_id(ctx.session, follower_id)
        try:
            await relations.follow(ctx.fed, ctx.session, follower, new)
        except OutboxError as exc:  # a block between them: she stays where she was
            log.info("move of %s: %s does not follow %s: %s", ctx.actor.uri, follower.username, new.uri, exc)
            continue
        await relations.unfollow(ctx.fed, ctx.session, follower, ctx.actor)
