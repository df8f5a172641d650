"""Telling a peer that knocked that we are open to it now.

A peer we refused keeps what it wanted to send queued, and backs off: a 401 or 403 between
allowlist instances usually means "not allowed yet" (federation.outbox.delivery retries it). When our
admin allows the peer, it should not have to wait out its backoff. So `greet_allowed` (a worker
chore, woken when an admin allows a peer here) makes a signed GET of the key the peer knocked
with, through the normal fetcher, which the policy now lets through. The peer sees a valid signed
request from us, resets its backoff for us and sends what waits at once.

A peer is greeted once per knock: `last_key_id` is cleared when it has answered (any HTTP
answer: it saw our signature). A peer that cannot be reached is tried again at the next round,
as long as its knock is younger than `pending_peer_expiry_days`.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from federation.runtime.context import Federation
from federation.protocol.fetch import FetchError, FetchHTTPError, NotJSON, RefusedURL, ResponseTooLarge, TooManyRedirects
from federation.protocol.urls import authority
from storage import peers as peer_queries

log = logging.getLogger(__name__)
ANSWERED = (FetchHTTPError, NotJSON, ResponseTooLarge, TooManyRedirects)


async def greet_allowed(fed: Federation) -> int:
    """Greet every allowed peer whose refused knock we have not answered; how many answered."""
    since = fed.clock.now() - timedelta(days=fed.settings.pending_peer_expiry_days)
    async with fed.db.sessions() as session:
        waiting = await peer_queries.awaiting_greeting(session, since)
    answered = 0
    for domain, key_id in waiting:
        if not fed.policy.allows(domain):
            continue  # still refused (or this process has not seen the change yet)
        url = key_id.split("#", 1)[0]
        if authority(url) == domain:
            try:
                await fed.fetcher.get_json(url)
            except ANSWERED as exc:  # it saw our signed request all the same
                log.info("greeted %s, which we now allow (%s)", domain, exc)
            except RefusedURL as exc:  # never sent, and never will be (the address is refused)
                log.warning("cannot greet %s: %s", domain, exc)
            except FetchError as exc:
                log.info("cannot greet %s (%s); trying again later", domain, exc)
                continue
            else:
                log.info("greeted %s, which we now allow: it may send what it kept for us", domain)
        async with fed.db.sessions.begin() as session:
            await peer_queries.greeted(session, domain)
        answered += 1
    return answered
