"""Accept or Reject of a local post's QuoteRequest (FEP-044f), from the quoted author: the quote
becomes accepted (with the authorisation the Accept's `result` names) or rejected. The request
is known by its id (`actions.quote_request_uri`: the quoting post's id and a fragment), whether
the answer embeds it or names it."""

from __future__ import annotations

from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.outbox import quotes
from federation.protocol.vocab.parse import APActivity
from storage.models import QuoteState
from storage.quotes import quote_by_uri

FRAGMENT = "#quote-request"


def answers_quote_request(activity: APActivity) -> bool:
    embedded = activity.object
    return (isinstance(embedded, APActivity) and embedded.type == "QuoteRequest") or bool(
        activity.object_id and activity.object_id.endswith(FRAGMENT))


async def handle(ctx: HandlerContext) -> None:
    activity = ctx.activity
    request_id = activity.object_id or ""
    quote = await quote_by_uri(ctx.session, request_id.removesuffix(FRAGMENT)) if request_id.endswith(FRAGMENT) else None
    if quote is None:
        raise Ignore(f"{activity.type} of a quote request this server did not send: {request_id}")
    state = QuoteState.accepted if activity.type == "Accept" else QuoteState.rejected
    if not await quotes.answered(ctx.fed, ctx.session, quote, ctx.actor, state, activity.result):
        raise Ignore(f"{activity.type} of the quote {quote.uri} by {ctx.actor.uri} changes nothing")
