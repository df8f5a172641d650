"""Announce (a boost) of a post, fetched from its own origin when we do not have it; or a
community's Announce of an activity of its threads (`federation.communities.announced`)."""

from __future__ import annotations

from federation.communities import announced
from federation.social import interactions
from federation.runtime.context import Federation
from federation.inbox.handlers.base import HandlerContext, Ignore, known_object
from federation.remote.resolve import RemoteError, ensure_post
from federation.social.feeds import add_boost_to_homes
from federation.protocol.vocab import PUBLIC
from federation.protocol.vocab.parse import APActivity
from storage.interactions import mark_of
from storage.models import Announce, Visibility


def looks_up(activity: APActivity) -> set[str]:
    """The posts prefetch looks for in the database before fetching: the boosted one."""
    return {activity.object_id} if activity.object_id else set()


async def prefetch(fed: Federation, activity: APActivity) -> None:
    if isinstance(activity.object, APActivity):  # a community's announced activity: nothing to fetch
        return
    if activity.object_id is None:
        raise Ignore("Announce without an object")
    try:
        await ensure_post(fed, activity.object_id)
    except RemoteError as exc:
        raise Ignore(f"the boosted post is unavailable: {exc}") from exc


async def handle(ctx: HandlerContext) -> None:
    if isinstance(ctx.activity.object, APActivity):
        reason = await announced.apply(ctx.session, ctx.actor, ctx.activity.object, ctx.now)
        if reason is not None:
            raise Ignore(reason)
        return
    item = await known_object(ctx, ctx.activity.object_id)
    if item.visibility not in (Visibility.public, Visibility.unlisted):
        raise Ignore(f"{item.uri} is not public; it cannot be boosted")
    if await mark_of(ctx.session, Announce, ctx.actor.id, item.id) is None:
        public = PUBLIC in ctx.activity.audience
        row = await interactions.add_announce(ctx.session, ctx.actor, item, ctx.activity.id, ctx.now, public=public)
        await add_boost_to_homes(ctx.session, ctx.actor, row.id)
