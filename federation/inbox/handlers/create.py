"""Create of a Note, Article, Page or Question: store the post, thread it, notify the mentioned.
A Create of a poll vote (see federation.social.polls) counts the vote instead.

A post delivered by reference (a bare id) is fetched from its origin; missing ancestors of a
reply are fetched up to `reply_fetch_depth`, before the transaction opens.

A post may be stored before its Create arrives, fetched as a reply's parent or a boost's target;
such a post has not reached its followers' homes, so its author's Create still adds it there
and notifies its mentions, once (`_first_create_of_fetched`). Any other post already stored is
a duplicate and is ignored.

Many Creates of plain notes (`alike`: no quote, no poll, no article), which are most of what
arrives, are handled together (`handle_many`), with a statement per table for all of them instead
of several per post; what that leaves (a post over the limits, or stored already) goes through
`handle` one at a time.
"""

from __future__ import annotations

import logging

from federation.communities import relay
from federation.social import notifications, polls
from federation.social.feeds import add_post_to_homes, add_posts_to_homes
from federation.runtime.context import Federation
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.remote.limits import PostRefused
from federation.remote.quotes import check_quote
from federation.social.posts import (
    claim_homes, mentioned_actors, store_new_remote_posts, store_remote_post, stored_alike)
from federation.remote.resolve import NotAPost, RemoteError, ensure_stored, fetch_post
from federation.protocol.vocab.parse import APActivity, APObject
from federation.protocol.vocab.polls import APVote
from storage.models import Object
from storage.posts import post_by_id

log = logging.getLogger(__name__)


async def _post(fed: Federation, activity: APActivity) -> APObject:
    if isinstance(activity.object, APObject):
        return activity.object
    if activity.object_type is not None:  # embedded, and not a post: a missing type included
        raise Ignore(f"Create of an unsupported object type {activity.object_type}")
    if activity.object_id is None:
        raise Ignore("Create without an object")
    try:
        post = await fetch_post(fed, activity.object_id)
    except NotAPost as exc:
        raise Ignore(str(exc)) from exc
    if post.attributed_to != activity.actor:
        raise Ignore(f"{post.id} is attributed to {post.attributed_to}, not {activity.actor}")
    return post


def looks_up(activity: APActivity) -> set[str]:
    """The posts prefetch looks for in the database before fetching: the one a reply answers."""
    post = activity.object
    return {post.in_reply_to} if isinstance(post, APObject) and post.in_reply_to else set()


async def prefetch(fed: Federation, activity: APActivity) -> APObject | APVote:
    if activity.vote is not None:
        return activity.vote
    post = await _post(fed, activity)
    if post.in_reply_to:
        try:
            await ensure_stored(fed, post.in_reply_to, ancestors=fed.settings.reply_fetch_depth - 1)
        except RemoteError as exc:  # a deleted or private parent: keep the reply, linked by uri
            log.info("reply %s: parent %s unavailable: %s", post.id, post.in_reply_to, exc)
    return await check_quote(fed, post)


async def _first_create_of_fetched(ctx: HandlerContext, item: Object) -> bool:
    """Whether this Create is the first from its author of a post we hold only because we
    fetched it (a reply's parent, a boost's target, stored with `reached_homes` False): then it
    still has to reach its followers' homes and notify its mentions. A second Create of a post
    that already did is a duplicate (its feed rows would be kept once, its notifications and
    stream events would not)."""
    if item.actor_id != ctx.actor.id:
        return False
    return await claim_homes(ctx.session, item)


async def handle(ctx: HandlerContext) -> None:
    if isinstance(ctx.prepared, APVote):
        try:
            await polls.receive_vote(ctx.session, ctx.actor, ctx.prepared, ctx.now)
        except polls.PollError as exc:
            raise Ignore(f"poll vote not counted: {exc}") from exc
        return
    post: APObject = ctx.prepared
    try:
        item, links = await store_remote_post(ctx.session, post, ctx.actor, ctx.now, ctx.fed.settings)
    except PostRefused as exc:
        raise Ignore(f"post refused: {exc}") from exc
    if links is None and not await _first_create_of_fetched(ctx, item):
        raise Ignore(f"{post.id} is already stored")
    await add_post_to_homes(ctx.session, item, ctx.actor, links)
    mentioned = links.mentions if links is not None else await mentioned_actors(ctx.session, item)
    local_mentions = [actor for actor in mentioned if actor.local]
    await notifications.notify_mentions(ctx.session, item, ctx.actor, local_mentions, ctx.now)
    await relay.relay(ctx.fed, ctx.session, item, ctx.actor, post.addressed, ctx.activity.raw,  # to a community here
                      known=mentioned)


def alike(prepared) -> bool:
    """Whether a Create, prepared, may be handled with others by `handle_many`."""
    return isinstance(prepared, APObject) and stored_alike(prepared)


async def handle_many(ctxs: list[HandlerContext]) -> list[HandlerContext]:
    """`handle` of Creates that are all `alike`, together, in the caller's transaction (they
    share it, and its clock); those it leaves for `handle`, which tells why their posts were not
    stored here (over the limits, stored already, their id taken). If it raises, roll back what
    it wrote: nothing tells which Create caused it."""
    fed, session, now = ctxs[0].fed, ctxs[0].session, ctxs[0].now
    stored = await store_new_remote_posts(session, [(ctx.prepared, ctx.actor) for ctx in ctxs], now, fed.settings)
    new = [(ctx, *found) for ctx, found in zip(ctxs, stored) if found is not None]
    await add_posts_to_homes(session, [(item, ctx.actor, links) for ctx, item, _, links in new])
    communal = await relay.for_communities(fed, session, [(item, ctx.prepared.addressed, links.mentions)
                                                          for ctx, item, _, links in new])
    for (ctx, item, _, links), for_community in zip(new, communal):
        local_mentions = [actor for actor in links.mentions if actor.local]
        await notifications.notify_mentions(session, item, ctx.actor, local_mentions, now)
        if for_community:  # the row as stored, in the session (announcing it links to it)
            await relay.relay(fed, session, await post_by_id(session, item.id), ctx.actor, ctx.prepared.addressed,
                              ctx.activity.raw, known=links.mentions)
    return [ctx for ctx, found in zip(ctxs, stored) if found is None]
