"""QuoteRequest (FEP-044f): a peer's author asks to quote a local post. The local author's
policy answers at once (federation.social.quotes): an Accept carrying a QuoteAuthorization, or
a Reject. The quoting post (`instrument`) must live on the requester's own server."""

from __future__ import annotations

from federation.inbox.handlers.base import HandlerContext, Ignore, known_object
from federation.outbox import quotes
from federation.protocol.urls import authority


async def handle(ctx: HandlerContext) -> None:
    activity = ctx.activity
    if activity.instrument is None or authority(activity.instrument) != authority(ctx.actor.uri):
        raise Ignore(f"QuoteRequest of {activity.object_id} names no quoting post of {ctx.actor.uri}'s server")
    quoted = await known_object(ctx, activity.object_id)
    if not quoted.local:
        raise Ignore(f"{activity.object_id} is not a post of this server")
    if await quotes.answer_request(ctx.fed, ctx.session, quoted, ctx.actor, activity) is None:
        raise Ignore(f"the quote of {activity.object_id} by {activity.instrument} was revoked")
