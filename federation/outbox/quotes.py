"""Quote posts between servers: a local author's answer to a peer's QuoteRequest, a peer's
answer to ours, and a revocation. The rules (who may quote what, which moves are allowed) are
`federation.social.quotes`'; this module sends what follows from them, in the caller's
transaction. A local post quoting a peer's sends its QuoteRequest from `actions.post`.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import actions, sending
from federation.protocol.vocab.parse import APActivity
from federation.protocol.vocab.quotes import delete_quote_authorization_to_ap, quote_answer_to_ap
from federation.runtime.context import Federation
from federation.social import quotes
from storage.actors import actor_by_id
from storage.models import Actor, Object, Quote, QuoteState
from storage.posts import post_by_id


async def answer_request(fed: Federation, session: AsyncSession, quoted: Object, requester: Actor,
                         request: APActivity) -> Quote | None:
    """Answer a peer's QuoteRequest for the local post `quoted`: an Accept carrying the
    authorisation, or a Reject, to the requester. None if nothing was sent (a revoked quote)."""
    quote = await quotes.answer_request(session, quoted, requester, request.instrument, fed.urls, fed.clock.now())
    if quote is None:
        return None
    author = await actor_by_id(session, quoted.actor_id)
    kind = "Accept" if quote.state is QuoteState.accepted else "Reject"
    asked = {"id": request.id, "actor": request.actor, "object": quoted.uri, "instrument": request.instrument}
    document = quote_answer_to_ap(kind, sending.activity_uri(author, kind), author.uri, asked, quote.approval_uri)
    await sending.send(fed, session, author, document, [requester])
    return quote


async def answered(fed: Federation, session: AsyncSession, quote: Quote, answerer: Actor, state: QuoteState,
                   approval: str | None) -> bool:
    """A peer's answer to a local post's QuoteRequest: once accepted, the post goes out again
    with its authorisation, so its readers' servers can verify it."""
    if not await quotes.answered(session, quote, answerer, state, approval, fed.clock.now()):
        return False
    if state is QuoteState.accepted and quote.object_id is not None:
        item = await post_by_id(session, quote.object_id)
        if item is not None and item.local:
            await actions.republish(fed, session, item)
    return True


async def revoke(fed: Federation, session: AsyncSession, quoted_author: Actor, quote: Quote) -> bool:
    """The local quoted author withdraws her authorisation of `quote`: its Delete goes to the
    quoting author and her own followers; a local quoting post goes out again without it."""
    if not await quotes.revoke(session, quote, fed.clock.now()):
        return False
    quoting = await post_by_id(session, quote.object_id) if quote.object_id is not None else None
    quoting_author = await actor_by_id(session, quoting.actor_id) if quoting is not None else None
    if quote.approval_uri is not None:
        document = delete_quote_authorization_to_ap(quote.approval_uri, quoted_author.uri)
        recipients = [quoting_author] if quoting_author is not None and not quoting_author.local else []
        await sending.send(fed, session, quoted_author, document, recipients, followers_of=quoted_author)
    if quoting is not None and quoting.local:
        await actions.republish(fed, session, quoting)
    return True


async def revoked_by_peer(fed: Federation, session: AsyncSession, quote: Quote, revoker: Actor) -> bool:
    """A peer's quoted author deleted her authorisation of `quote`: True if it was in force (a
    local quoting post then goes out again without it)."""
    quoted = await post_by_id(session, quote.quoted_id) if quote.quoted_id is not None else None
    if quoted is None or quoted.actor_id != revoker.id or not await quotes.revoke(session, quote, fed.clock.now()):
        return False
    quoting = await post_by_id(session, quote.object_id) if quote.object_id is not None else None
    if quoting is not None and quoting.local:
        await actions.republish(fed, session, quoting)
    return True
