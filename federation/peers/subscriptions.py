"""Subscriptions to published peer lists: how a consortium of hospitals forms a network with no
central platform. A consortium publishes its members (a domain list, plain or CSV) at a URL;
an instance subscribes, and each refresh adds new members as allowed (or pending, for a `review`
subscription) and drops members the list no longer names.

A subscription only ever changes peers it added itself: a decision an admin made by hand, or
that another subscription made, is left alone. Every change is audited as the subscription's.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import aiohttp
from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.http import FetchError, check_url, read_capped
from federation.peers.decisions import PeerError, audit, decide, normalise_domain, parse_list, peer_by_domain, remove
from storage import peers as peer_queries
from storage.db import Database
from storage.models import PeerState, PeerSubscription

MAX_LIST_BYTES = 1_000_000


@dataclass
class Changes:
    added: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)


async def subscribe(session: AsyncSession, url: str, *, review: bool, by: str, at: datetime) -> PeerSubscription:
    if await peer_queries.subscription_by_url(session, url) is not None:
        raise PeerError(f"already subscribed to {url}")
    subscription = await peer_queries.add_subscription(session, url, review=review, by=by, at=at)
    await audit(session, by=by, action="subscription.add", subject=url, before=None,
                after={"review": review}, reason="", at=at)
    return subscription


async def fetch_list(http: aiohttp.ClientSession, url: str, *, allow_http: bool, allow_private: bool) -> str:
    check_url(url, allow_http=allow_http, allow_private_addresses=allow_private)
    try:
        async with http.get(url, allow_redirects=False, headers={"Accept": "text/csv, text/plain"}) as response:
            if response.status != 200:
                raise FetchError(f"{url} answered HTTP {response.status}")
            return (await read_capped(response, MAX_LIST_BYTES)).decode("utf-8")
    except (aiohttp.ClientError, TimeoutError, UnicodeDecodeError) as exc:
        raise FetchError(f"cannot fetch {url}: {type(exc).__name__}: {exc}") from exc


async def apply_list(session: AsyncSession, subscription: PeerSubscription, text: str, at: datetime) -> Changes:
    """Bring the peers this subscription owns in line with the list's text (the caller commits)."""
    by = f"subscription:{subscription.url}"
    listed = [entry.domain for entry in parse_list(text, source=subscription.url) if entry.state is PeerState.allowed]
    changes = Changes()
    for domain in listed:
        peer = await peer_by_domain(session, normalise_domain(domain))
        if peer is not None and peer.source is not None:
            continue  # an admin's or another subscription's decision
        state = PeerState.pending if subscription.review else PeerState.allowed
        await decide(session, domain, state, by=by, at=at, source=subscription.url,
                     reason=f"listed by {subscription.url}")
        changes.added.append(domain)
    for peer in await peer_queries.peers_listed_by(session, subscription.url):
        if peer.domain not in listed:
            await remove(session, peer.domain, by=by, at=at, reason=f"no longer listed by {subscription.url}")
            changes.dropped.append(peer.domain)
    subscription.last_fetched_at = at
    subscription.last_error = None
    return changes


async def refresh(db: Database, http: aiohttp.ClientSession, subscription_id: int, *, at: datetime,
                  allow_http: bool, allow_private: bool) -> Changes:
    """Fetch one subscription's list and apply it; a failure is recorded on the subscription."""
    async with db.sessions() as session:
        subscription = await peer_queries.subscription_by_id(session, subscription_id)
    if subscription is None:
        raise PeerError(f"no subscription {subscription_id}")
    try:
        text = await fetch_list(http, subscription.url, allow_http=allow_http, allow_private=allow_private)
        async with db.sessions.begin() as session:
            subscription = await peer_queries.subscription_by_id(session, subscription_id)
            return await apply_list(session, subscription, text, at)
    except (FetchError, PeerError) as exc:
        async with db.sessions.begin() as session:
            row = await peer_queries.subscription_by_id(session, subscription_id)
            row.last_fetched_at = at
            row.last_error = str(exc)
        raise PeerError(f"subscription {subscription.url}: {exc}") from exc


async def subscribe_and_fetch(db: Database, http: aiohttp.ClientSession, url: str, *, review: bool, by: str,
                              at: datetime, allow_http: bool, allow_private: bool) -> Changes:
    """Subscribe to the list at `url` (committed, audited) and apply it at once; PeerError if
    already subscribed, or (the subscription stays, with its error) if the list cannot be had."""
    async with db.sessions.begin() as session:
        subscription = await subscribe(session, url, review=review, by=by, at=at)
    return await refresh(db, http, subscription.id, at=at, allow_http=allow_http, allow_private=allow_private)


async def refresh_all(db: Database, http: aiohttp.ClientSession, *, at: datetime, allow_http: bool,
                      allow_private: bool) -> dict[str, Changes | str]:
    async with db.sessions() as session:
        subscriptions = await peer_queries.subscriptions(session)
    results: dict[str, Changes | str] = {}
    for subscription in subscriptions:
        try:
            results[subscription.url] = await refresh(db, http, subscription.id, at=at, allow_http=allow_http,
                                                      allow_private=allow_private)
        except PeerError as exc:
            results[subscription.url] = str(exc)
    return results
