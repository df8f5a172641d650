"""Announce (a boost) of a post, fetched from its own origin when we do not have it. A community
(FEP-1b12) may wrap the post in the Create it announces, as Lemmy does: the post inside is taken
the same way, by its id, from its origin, never from the wrapping. Any other activity a community
announces is `federation.communities.announced`'s. A community's Announce of a reply whose thread
began before we followed it brings the thread in from its context (`communities.backfill`)."""

from __future__ import annotations

from federation.communities import announced, backfill
from federation.social import interactions
from federation.runtime.context import Federation
from federation.inbox.handlers.base import HandlerContext, Ignore, known_object
from federation.remote.resolve import RemoteError, ensure_stored
from federation.social.feeds import add_boost_to_homes
from federation.protocol.vocab import PUBLIC
from federation.protocol.vocab.parse import APActivity, APObject
from storage.models import ActorType, Visibility


def _boosted(activity: APActivity) -> str | None:
    """The id of the post announced: the object, or the object of the Create it wraps."""
    inner = activity.object
    if isinstance(inner, APActivity):
        return inner.object_id if inner.type == "Create" else None
    return activity.object_id


def _wrapped(activity: APActivity) -> APActivity | None:
    """The activity a community announces, other than a Create (which is a post's boost)."""
    inner = activity.object
    return inner if isinstance(inner, APActivity) and inner.type != "Create" else None


def looks_up(activity: APActivity) -> set[str]:
    """The posts prefetch looks for in the database before fetching: the boosted one."""
    return {boosted} if (boosted := _boosted(activity)) else set()


async def prefetch(fed: Federation, activity: APActivity) -> APObject | announced.Gone | backfill.Backfilled | None:
    if (inner := _wrapped(activity)) is not None:  # a community's announced activity
        return await announced.prefetch(fed, activity.actor, inner)
    boosted = _boosted(activity)
    if boosted is None:
        raise Ignore("Announce without an object")
    try:
        await ensure_stored(fed, boosted)
    except RemoteError as exc:
        raise Ignore(f"the boosted post is unavailable: {exc}") from exc
    context = backfill.owned_context(activity.actor, activity.raw)  # a community's thread (FEP-7888)
    if context is not None and await backfill.needs_backfill(fed, boosted):
        return await backfill.backfill(fed, context)
    return None


async def handle(ctx: HandlerContext) -> None:
    if (inner := _wrapped(ctx.activity)) is not None:
        reason = await announced.apply(ctx.fed, ctx.session, ctx.actor, inner, ctx.prepared, ctx.now)
        if reason is not None:
            raise Ignore(reason)
        return
    item = await known_object(ctx, _boosted(ctx.activity))
    if item.visibility not in (Visibility.public, Visibility.unlisted):
        raise Ignore(f"{item.uri} is not public; it cannot be boosted")
    public = PUBLIC in ctx.activity.audience
    row = await interactions.add_announce(ctx.session, ctx.actor, item, ctx.activity.id, ctx.now, public=public)
    if row is not None:  # a new boost
        await add_boost_to_homes(ctx.session, ctx.actor, row.id)
    if isinstance(ctx.prepared, backfill.Backfilled) and ctx.actor.type is ActorType.Group:
        await backfill.count_backfilled(ctx.session, ctx.actor, ctx.prepared, ctx.now)
