"""The delivery worker: claim, sign, POST, classify, back off per peer.

    queued -> delivered | dead | cancelled      (a retryable failure stays queued, later)

Claiming takes due rows whose peer is not backing off (PostgreSQL: FOR UPDATE SKIP LOCKED, so
any number of `rounds worker` processes share the queue; the claim is a lease, so a process that
dies mid-send loses nothing). Rows for one inbox are sent one after another in id order, so a
peer receives a sender's activities in the order they were made; different inboxes go in
parallel, bounded per process and per host.

Classification: 2xx is delivered. 401 is retried once at once with the other signature scheme
(double-knocking), and the scheme that worked is remembered per peer. Another 4xx except
401/403/408/429 is permanent (dead). Anything else (401, 403, 408, 429, 5xx, timeouts, refused
connections) is retried with exponential backoff and jitter, honouring Retry-After; the backoff
belongs to the peer, so one failure defers all of that peer's deliveries, and the peer reaching
us (any valid signed request, see federation.protocol.authn) resets it. 401 and 403 are retried because
between allowlist instances they usually mean "not allowed yet": a follow sent before the peer's
admin allows us goes through once they do (and federation.peers.greeting tells us when). A row still
failing after `delivery_max_age_days` is marked dead, visibly, never dropped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

import aiohttp

from federation.runtime.context import Federation
from federation.protocol.http import FetchError, check_url, read_capped
from federation.protocol.keys import load_private_key
from federation.protocol.signatures import sign_request
from storage import deliveries as delivery_queries
from storage import peers as peer_queries
from storage.models import Delivery, DeliveryState
from storage.text import storable

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BASE_DELAY = 30.0
MAX_DELAY = 6 * 3600.0
MAX_RETRY_AFTER = 24 * 3600.0
RESPONSE_CAP = 64 * 1024
ERROR_CHARS = 2000
CONTENT_TYPE = 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"'
SCHEMES = ("cavage", "rfc9421")
RETRIED_4XX = frozenset({401, 403, 408, 429})  # "not (yet) allowed" or "later": retried until the maximum age


@dataclass
class Outcome:
    delivery_id: int
    peer: str
    state: DeliveryState
    status: int | None
    error: str | None
    retry_after: float | None = None  # seconds the peer asked for
    scheme: str | None = None  # the scheme that worked, when learned


@dataclass
class _Job:
    delivery: Delivery
    body: bytes
    key_id: str
    private_pem: str


class DeliveryWorker:
    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self._concurrency = asyncio.Semaphore(fed.settings.delivery_concurrency)
        self._schemes: dict[str, str] = {}

    async def run_once(self, limit: int = 500) -> int:
        """Send one batch of due deliveries; returns how many were taken."""
        jobs = await self._claim(limit)
        if not jobs:
            return 0
        by_inbox: dict[str, list[_Job]] = defaultdict(list)
        for job in jobs:
            by_inbox[job.delivery.inbox].append(job)
        results = await asyncio.gather(*(self._send_inbox(queue) for queue in by_inbox.values()))
        await self._record([outcome for outcomes in results for outcome in outcomes])
        return len(jobs)

    async def _claim(self, limit: int) -> list[_Job]:
        fed = self.fed
        async with fed.db.sessions.begin() as session:
            batch = await delivery_queries.claim(session, fed.clock.now(), limit, lease=LEASE, lock=not fed.db.is_sqlite)
        self._schemes.update(batch.schemes)
        bodies = {activity_id: json.dumps(a.raw, separators=(",", ":")).encode()
                  for activity_id, a in batch.activities.items()}
        return [
            _Job(d, bodies[d.activity_id], batch.senders[d.sender_id].key_id, batch.senders[d.sender_id].private_key_pem)
            for d in batch.deliveries
        ]

    async def _send_inbox(self, queue: list[_Job]) -> list[Outcome]:
        """Send an inbox's deliveries in order; stop at the first that must wait."""
        outcomes: list[Outcome] = []
        for index, job in enumerate(queue):
            async with self._concurrency:
                outcome = await self._send(job)
            outcomes.append(outcome)
            if outcome.state is DeliveryState.queued:
                outcomes += [Outcome(later.delivery.id, later.delivery.peer, DeliveryState.queued, None, None)
                             for later in queue[index + 1:]]
                break
        return outcomes

    async def _send(self, job: _Job) -> Outcome:
        delivery = job.delivery
        fed = self.fed
        if not fed.policy.allows(delivery.peer):
            return Outcome(delivery.id, delivery.peer, DeliveryState.cancelled, None, "peer is not allowed")
        try:
            check_url(delivery.inbox, allow_http=fed.settings.allow_http,
                      allow_private_addresses=fed.settings.allow_private_addresses)
        except FetchError as exc:
            return Outcome(delivery.id, delivery.peer, DeliveryState.dead, None, str(exc))
        preferred = self._schemes.get(delivery.peer, "cavage")
        status, error, retry_after = await self._post(job, preferred)
        scheme = None
        if status == 401:
            other = SCHEMES[1 - SCHEMES.index(preferred)]
            second = await self._post(job, other)
            if second[0] is not None and 200 <= second[0] < 300:
                status, error, retry_after = second
                scheme = other
        if status is not None and 200 <= status < 300:
            return Outcome(delivery.id, delivery.peer, DeliveryState.delivered, status, None, scheme=scheme)
        if status is not None and 400 <= status < 500 and status not in RETRIED_4XX:
            return Outcome(delivery.id, delivery.peer, DeliveryState.dead, status, error)
        if status is not None and 300 <= status < 400:
            return Outcome(delivery.id, delivery.peer, DeliveryState.dead, status, "the inbox redirects")
        return Outcome(delivery.id, delivery.peer, DeliveryState.queued, status, error, retry_after)

    async def _post(self, job: _Job, scheme: str) -> tuple[int | None, str | None, float | None]:
        fed = self.fed
        headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/activity+json"}
        headers.update(sign_request(
            "POST", job.delivery.inbox, headers, job.body, key_id=job.key_id,
            private_key=load_private_key(job.private_pem), now=fed.clock.now(), scheme=scheme,  # type: ignore[arg-type]
        ))
        try:
            async with fed.http.post(job.delivery.inbox, data=job.body, headers=headers, allow_redirects=False) as response:
                text = (await read_capped(response, RESPONSE_CAP)).decode("utf-8", "replace")
                retry_after = _retry_after(response.headers.get("Retry-After"), fed.clock.now())
                reason = None if response.status < 300 else f"HTTP {response.status}: {text[:200].strip()}"
                return response.status, reason, retry_after
        except FetchError as exc:
            return None, str(exc), None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return None, f"{type(exc).__name__}: {exc}".strip(), None

    async def _record(self, outcomes: list[Outcome]) -> None:
        fed = self.fed
        now = fed.clock.now()
        max_age = timedelta(days=fed.settings.delivery_max_age_days)
        failures: dict[str, Outcome] = {}
        successes: dict[str, Outcome] = {}
        groups: dict[tuple, list[int]] = defaultdict(list)  # one UPDATE per distinct result
        for outcome in outcomes:
            attempted = outcome.status is not None or outcome.error is not None
            finished = outcome.state is not DeliveryState.queued
            error = None if outcome.error is None else storable(outcome.error, ERROR_CHARS)  # a peer's words
            groups[(outcome.state, attempted, outcome.status, error)].append(outcome.delivery_id)
            if outcome.state is DeliveryState.delivered:
                successes[outcome.peer] = outcome
            elif finished:
                log.warning("delivery %d to %s %s: %s", outcome.delivery_id, outcome.peer,
                            outcome.state.value, outcome.error)
            elif outcome.error is not None:
                failures[outcome.peer] = outcome
        async with fed.db.sessions.begin() as session:
            for (state, attempted, status, error), ids in groups.items():
                await delivery_queries.settle(session, ids, state, now, attempted=attempted, status=status, error=error)
            # peers' rows in domain order, the order every writer of them takes (storage.peers.record_contacts)
            for peer in sorted(successes.keys() | failures.keys()):
                if peer in successes:
                    await self._peer_healthy(session, peer, successes[peer], now)
                if peer not in failures:
                    continue
                outcome = failures[peer]
                retry_at = await self._peer_failed(session, peer, outcome, now)
                await delivery_queries.give_up_older(
                    session, peer, now - max_age, now,
                    storable(f"gave up after {fed.settings.delivery_max_age_days:g} days: {outcome.error}", ERROR_CHARS))
                await delivery_queries.defer_peer(session, peer, retry_at)

    async def _peer_healthy(self, session, peer: str, outcome: Outcome, now: datetime) -> None:
        await peer_queries.delivered_to(session, peer, now, outcome.scheme)
        if outcome.scheme:
            self._schemes[peer] = outcome.scheme
        self.fed.backoffs.discard(peer)

    async def _peer_failed(self, session, peer: str, outcome: Outcome, now: datetime) -> datetime:
        failures = await peer_queries.consecutive_failures(session, peer) + 1
        delay = min(BASE_DELAY * 2 ** (failures - 1), MAX_DELAY) * random.uniform(0.8, 1.2)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        retry_at = now + timedelta(seconds=delay)
        await peer_queries.delivery_failed(session, peer, now, failures=failures, retry_at=retry_at,
                                           reason=storable(outcome.error or "", ERROR_CHARS))
        self.fed.backoffs.add(peer)
        log.info("delivery to %s failed (%s); peer backs off until %s", peer, outcome.error, retry_at.isoformat())
        return retry_at

    async def release_claims(self) -> None:
        """At start on SQLite, the only process: leases a previous run held are void."""
        if self.fed.db.is_sqlite:
            async with self.fed.db.sessions.begin() as session:
                await delivery_queries.release_claims(session, self.fed.clock.now())


def _retry_after(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max((parsedate_to_datetime(value) - now).total_seconds(), 0.0)
    except (TypeError, ValueError):
        return None
