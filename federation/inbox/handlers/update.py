"""Update of a post (kept with its edit history) or of the actor's own profile. An Update of a
Question also brings its poll's counts, and any post's Update who may quote it and its quote's
authorisation (checked at its source by `prefetch`), which change without the post being edited."""

from __future__ import annotations

from federation.social import notifications, polls, quotes
from federation.communities import threads
from federation.remote.actors import ActorError, upsert_remote_actor
from federation.inbox.handlers.base import HandlerContext, Ignore, known_object
from federation.remote.limits import PostRefused
from federation.social.posts import apply_remote_edit
from federation.social.streams import record_post
from federation.protocol.vocab.actors import APActor
from federation.protocol.vocab.parse import APActivity, APObject
from federation.remote.quotes import check_quote
from federation.runtime.context import Federation


async def prefetch(fed: Federation, activity: APActivity) -> APObject | None:
    """A post's quote checked at its source (federation.remote.quotes), before the transaction."""
    return await check_quote(fed, activity.object) if isinstance(activity.object, APObject) else None


async def handle(ctx: HandlerContext) -> None:
    embedded = ctx.prepared if isinstance(ctx.prepared, APObject) else ctx.activity.object
    if isinstance(embedded, APActor):
        if embedded.id != ctx.actor.uri:
            raise Ignore(f"{ctx.actor.uri} cannot update the actor {embedded.id}")
        try:
            await upsert_remote_actor(ctx.session, embedded, ctx.now)
        except ActorError as exc:  # nothing was written: upsert checks before it writes
            raise Ignore(f"actor update refused: {exc}") from exc
        return
    if not isinstance(embedded, APObject):
        raise Ignore("Update of an object that is neither a post nor the actor")
    item = await known_object(ctx, embedded.id)
    if item.actor_id != ctx.actor.id:
        raise Ignore(f"{ctx.actor.uri} cannot edit {item.uri}")
    counted = item.type == "Question" and await polls.store_remote(ctx.session, item, embedded.question)
    requoted = item.quote_policy != embedded.quote_policy  # who may quote it changed (no edit of its own)
    requoted = await quotes.link_remote(ctx.session, item, embedded, ctx.actor, ctx.now) or requoted  # or its quote
    try:
        edited = await apply_remote_edit(ctx.session, item, embedded, ctx.now, ctx.fed.settings)
    except PostRefused as exc:
        raise Ignore(f"edit refused: {exc}") from exc
    if not edited:
        if counted or requoted:
            return
        raise Ignore("the update changes nothing")
    await record_post(ctx.session, item, ctx.actor, "status.update")
    await notifications.notify_edit(ctx.session, item, ctx.actor, ctx.now)
    await threads.relay_activity(ctx.fed, ctx.session, item, ctx.activity.raw)  # to a community's members
