"""A peer's quote post, checked before it is stored (a handler's prefetch, outside any
transaction): the quoted post is fetched if missing, so the quote can show it, and the
authorisation the post names is fetched from the quoted author's server and must say what the
post claims: given by the quoted author (on her own server), for this post, of that post. Only
then does the post come back marked `quote_verified`; anything else leaves it as it was, and
the quote shows as pending. A local quoted post needs no fetch: this server answers for it
(federation.social.quotes)."""

from __future__ import annotations

import logging
from dataclasses import replace

from federation.protocol.fetch import FetchError
from federation.protocol.urls import authority
from federation.protocol.vocab.parse import APObject
from federation.protocol.vocab.quotes import ap_to_quote_authorization
from federation.remote.resolve import RemoteError, ensure_stored
from federation.runtime.context import Federation

log = logging.getLogger(__name__)


async def check_quote(fed: Federation, post: APObject) -> APObject:
    if post.quote is None:
        return post
    try:
        quoted = await ensure_stored(fed, post.quote)
    except RemoteError as exc:
        log.info("quote %s: quoted post %s unavailable: %s", post.id, post.quote, exc)
        return post
    if quoted is None or quoted.local or post.quote_authorization is None:
        return post
    if authority(post.quote_authorization) != authority(quoted.author_uri):
        return post
    try:
        final_url, document = await fed.fetcher.get_json(post.quote_authorization)
    except FetchError as exc:
        log.info("quote %s: authorisation %s unavailable: %s", post.id, post.quote_authorization, exc)
        return post
    found = ap_to_quote_authorization(document)
    if (found is None or found.id != post.quote_authorization or authority(final_url) != authority(found.id)
            or found.attributed_to != quoted.author_uri or found.interacting_object != post.id
            or found.interaction_target != quoted.uri):
        log.info("quote %s: %s does not authorise it", post.id, post.quote_authorization)
        return post
    return replace(post, quote_verified=True)
