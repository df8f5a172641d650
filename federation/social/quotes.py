"""Quote posts (FEP-044f, as Mastodon 4.5 does them): who may quote a post, and the state of a
quote as the quoted author decides it.

A post's policy says whom its author approves at once: everyone (`public`), her followers, or
nobody but herself; a followers-only or direct post can be quoted by its author alone, and a
peer's post that publishes no policy is `unknown` (a request may still be sent). Quoting one's
own post needs nobody's approval. Anyone else's quote is `pending` until the quoted author's
server answers: `accepted` with a QuoteAuthorization (whose id is kept: peers verify quotes by
fetching it), or `rejected`; an accepted quote may later be `revoked`. The states and their
moves are storage.states.QUOTES. The server of the quoted author decides: for a local quoted
post, what a peer's post claims is never taken for an answer.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.urls import LocalUrls, authority
from federation.protocol.vocab.parse import APObject
from federation.protocol.vocab.quotes import interaction_policy_to_ap, quote_fields_to_ap
from federation.social.access import can_see, is_ours
from federation.social.notifications import notify
from storage import quotes as queries
from storage.accounts_api import blocked_either_way
from storage.follows import follow_between
from storage.models import Actor, FollowState, NotificationType, Object, Quote, QuoteState, Visibility
from storage.posts import post_by_id, post_by_uri
from storage.states import QUOTES

POLICIES = ("public", "followers", "nobody")
AUTOMATIC, DENIED, UNKNOWN = "automatic", "denied", "unknown"


class QuoteError(Exception):
    """The quote is not allowed; one line for the practitioner."""


def policy_of(post: Object) -> str | None:
    """Whom the post's author approves at once: public, followers or nobody; None if a peer's
    post does not say."""
    if post.visibility in (Visibility.private, Visibility.direct):
        return "nobody"
    return (post.quote_policy or "public") if post.local else post.quote_policy


def approval(policy: str | None, *, own: bool, follows: bool, blocked: bool) -> str:
    """How a quote by someone of a post with `policy` is answered: automatic, denied, or unknown
    (a peer's post with no policy). `own`: she quotes her own post; `follows`: she follows its
    author; `blocked`: a block stands between them."""
    if own:
        return AUTOMATIC
    if blocked:
        return DENIED
    if policy is None:
        return UNKNOWN
    return AUTOMATIC if policy == "public" or (policy == "followers" and follows) else DENIED


async def approval_for(session: AsyncSession, post: Object, quoter: Actor) -> str:
    """How a quote of `post` by `quoter` is answered; an institution-only post is never quoted
    from elsewhere (its quote by one of ours is institution-only too: access.institution_only)."""
    if post.local_only and not is_ours(quoter):
        return DENIED
    own = post.actor_id == quoter.id
    follow = None if own else await follow_between(session, quoter.id, post.actor_id)
    return approval(policy_of(post), own=own, follows=follow is not None and follow.state is FollowState.accepted,
                    blocked=not own and await blocked_either_way(session, quoter.id, post.actor_id))


def approval_uri(urls: LocalUrls, quoted_author: Actor, quote: Quote) -> str:
    """Where the local quoted author's server serves the authorisation of `quote`."""
    return f"{urls.actor(quoted_author.username)}/quote_authorizations/{quote.id}"


async def note_fields(session: AsyncSession, post: Object, author: Actor) -> dict[str, Any]:
    """What a local post's document says of quotes: who may quote it, and what it quotes."""
    fields = interaction_policy_to_ap(policy_of(post) or "nobody", author.uri, author.followers_url)
    quote = await queries.quote_of_post(session, post.id)
    if quote is not None:
        quoted = await post_by_uri(session, quote.quoted_uri)
        gone = quoted is not None and quoted.deleted_at is not None
        fields.update(quote_fields_to_ap(None if gone else quote.quoted_uri,
                                         quote.approval_uri if quote.state is QuoteState.accepted else None))
    return fields


async def quoted_audience(session: AsyncSession, post: Object) -> list[Actor]:
    """Who hears of a public or unlisted local post besides its followers and mentions because
    it quotes: the quoted author (her server must see the quote it authorises)."""
    if post.visibility not in (Visibility.public, Visibility.unlisted):
        return []
    quote = await queries.quote_of_post(session, post.id)
    quoted = await post_by_uri(session, quote.quoted_uri) if quote is not None else None
    return [await _author(session, quoted)] if quoted is not None and quoted.actor_id != post.actor_id else []


async def quote_local(session: AsyncSession, post: Object, author: Actor, quoted: Object, urls: LocalUrls) -> Quote:
    """A local post quoting `quoted` (which its author may see): accepted at once if its author
    approves automatically (with an authorisation of this server's, when the quoted post is
    local), pending if a peer must be asked; QuoteError if the quote is not allowed."""
    if quoted.deleted_at is not None:
        raise QuoteError("The quoted post was deleted")
    answer = await approval_for(session, quoted, author)
    if answer == DENIED:
        raise QuoteError("You are not allowed to quote this post")
    settled = quoted.actor_id == author.id or (quoted.local and answer == AUTOMATIC)
    quote = await queries.add_quote(session, uri=post.uri, object_id=post.id, quoted_uri=quoted.uri,
                                    quoted_id=quoted.id, state=QuoteState.accepted if settled else QuoteState.pending)
    if settled and quoted.local and quoted.actor_id != author.id:
        quote.approval_uri = approval_uri(urls, await _author(session, quoted), quote)
        await _notify(session, quote, post.published)
    return quote


async def link_remote(session: AsyncSession, post: Object, ap: APObject, author: Actor, now: datetime) -> bool:
    """A peer's post as just stored or edited: its quote, if it makes one; True if that changed
    anything. A quote of the author's own post is accepted, and so is one whose authorisation
    by a peer's quoted author was verified at its source (`ap.quote_verified`); for a local
    quoted post, this server's own answer stands, whatever the post claims; any other quote
    stays pending. A peer's accepted quote whose post stops naming its authorisation (its
    server heard it revoked) is revoked."""
    if ap.quote is None:
        return False
    quoted = await post_by_uri(session, ap.quote)
    verified = ap.quote_verified and quoted is not None and not quoted.local
    existing = await queries.quote_by_uri(session, post.uri)
    if existing is not None:
        arrived, existing.object_id = existing.object_id is None, post.id
        existing.quoted_id = existing.quoted_id or (quoted.id if quoted is not None else None)
        if arrived and existing.state is QuoteState.accepted:  # authorised here before it came
            await _notify(session, existing, post.published)
        if verified and existing.state is QuoteState.pending:
            existing.approval_uri = ap.quote_authorization
            return QUOTES.move(existing, QuoteState.accepted, now)
        if (existing.state is QuoteState.accepted and ap.quote_authorization is None and quoted is not None
                and not quoted.local and quoted.actor_id != author.id):  # its server no longer claims it: revoked
            return QUOTES.move(existing, QuoteState.revoked, now)
        return arrived
    own = quoted is not None and quoted.actor_id == author.id
    await queries.add_quote(session, uri=post.uri, object_id=post.id, quoted_uri=ap.quote,
                            quoted_id=quoted.id if quoted is not None else None,
                            state=QuoteState.accepted if own or verified else QuoteState.pending,
                            approval_uri=ap.quote_authorization if verified else None)
    return True


async def answer_request(session: AsyncSession, quoted: Object, requester: Actor, quoting_uri: str,
                         urls: LocalUrls, now: datetime) -> Quote | None:
    """A peer asks whether `requester`'s post `quoting_uri` may quote the local post `quoted`:
    the quote, accepted with an authorisation of this server's, or rejected; None if it was
    revoked before (a revocation stands)."""
    answer = await approval_for(session, quoted, requester)
    quote = await queries.add_quote(session, uri=quoting_uri, object_id=None, quoted_uri=quoted.uri,
                                    quoted_id=quoted.id, state=QuoteState.pending)
    target = QuoteState.accepted if answer == AUTOMATIC else QuoteState.rejected
    if not QUOTES.allows(quote.state, target):
        return None
    moved = QUOTES.move(quote, target, now)
    if target is QuoteState.accepted and quote.approval_uri is None:
        quote.approval_uri = approval_uri(urls, await _author(session, quoted), quote)
    if moved and target is QuoteState.accepted:  # the quoting post may have come before its request
        await _notify(session, quote, now)
    return quote


async def answered(session: AsyncSession, quote: Quote, answerer: Actor, state: QuoteState, approval: str | None,
                   now: datetime) -> bool:
    """The quoted author's server answered a local post's request: True if the quote changed.
    Only the quoted author may answer; an authorisation must live on her server."""
    quoted = await post_by_uri(session, quote.quoted_uri)
    if quoted is None or quoted.actor_id != answerer.id or not QUOTES.allows(quote.state, state):
        return False
    if state is QuoteState.accepted:
        if approval is None or authority(approval) != authority(answerer.uri):
            return False
        quote.approval_uri = approval
    return QUOTES.move(quote, state, now)


async def revoke(session: AsyncSession, quote: Quote, now: datetime) -> bool:
    """The quoted author withdraws her authorisation: True if it was in force."""
    if not QUOTES.allows(quote.state, QuoteState.revoked) or quote.state is QuoteState.revoked:
        return False
    return QUOTES.move(quote, QuoteState.revoked, now)


async def _notify(session: AsyncSession, quote: Quote, now: datetime) -> None:
    """The quoted author hears of an authorised quote of her post (Mastodon's `quote`), once the
    quoting post is here, if she may see it."""
    quoting = await post_by_id(session, quote.object_id) if quote.object_id is not None else None
    quoted = await post_by_id(session, quote.quoted_id) if quote.quoted_id is not None else None
    if quoting is None or quoted is None or not quoted.local:
        return
    quoted_author = await _author(session, quoted)
    if await can_see(session, quoting, quoted_author):  # not a direct post to others, say
        await notify(session, quoted_author, NotificationType.quote, await _author(session, quoting), quoting, now)


async def _author(session: AsyncSession, post: Object) -> Actor:
    return await session.get(Actor, post.actor_id)
