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
from sqlalchemy import or_, select, update

from federation.runtime.context import Federation
from federation.protocol.http import FetchError, check_url, read_capped
from federation.protocol.keys import load_private_key
from federation.protocol.signatures import sign_request
from storage.models import Activity, Actor, Delivery, DeliveryState, Peer
from storage.text import storable
from storage.upsert import insert_for

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
        now = fed.clock.now()
        async with fed.db.sessions.begin() as session:
            backing_off = select(Peer.domain).where(Peer.retry_at > now)
            query = (
                select(Delivery)
                .where(
                    Delivery.state == DeliveryState.queued,
                    Delivery.next_attempt_at <= now,
                    or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
                    Delivery.peer.not_in(backing_off),
                )
                .order_by(Delivery.id)
                .limit(limit)
            )
            if not fed.db.is_sqlite:
                query = query.with_for_update(skip_locked=True, of=Delivery)
            deliveries = list(await session.scalars(query))
            if not deliveries:
                return []
            await session.execute(
                update(Delivery).where(Delivery.id.in_([d.id for d in deliveries])).values(claimed_until=now + LEASE)
            )
            activities = {
                a.id: a for a in await session.scalars(
                    select(Activity).where(Activity.id.in_({d.activity_id for d in deliveries}))
                )
            }
            senders = {
                a.id: a for a in await session.scalars(
                    select(Actor).where(Actor.id.in_({d.sender_id for d in deliveries}))
                )
            }
            for peer, scheme in await session.execute(
                select(Peer.domain, Peer.signature_scheme)
                .where(Peer.domain.in_({d.peer for d in deliveries}), Peer.signature_scheme.is_not(None))
            ):
                self._schemes[peer] = scheme
        bodies = {activity_id: json.dumps(a.raw, separators=(",", ":")).encode() for activity_id, a in activities.items()}
        return [
            _Job(d, bodies[d.activity_id], senders[d.sender_id].key_id, senders[d.sender_id].private_key_pem)
            for d in deliveries
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
            groups[(outcome.state, attempted, finished, outcome.status, error)].append(outcome.delivery_id)
            if outcome.state is DeliveryState.delivered:
                successes[outcome.peer] = outcome
            elif finished:
                log.warning("delivery %d to %s %s: %s", outcome.delivery_id, outcome.peer,
                            outcome.state.value, outcome.error)
            elif outcome.error is not None:
                failures[outcome.peer] = outcome
        async with fed.db.sessions.begin() as session:
            for (state, attempted, finished, status, error), ids in groups.items():
                values: dict = {"claimed_until": None, "state": state}
                if attempted:
                    values.update(last_attempt_at=now, last_status=status, last_error=error,
                                  attempts=Delivery.attempts + 1)
                if finished:
                    values["finished_at"] = now
                await session.execute(  # still queued: an admin may have discarded it meanwhile
                    update(Delivery).where(Delivery.id.in_(ids), Delivery.state == DeliveryState.queued)
                    .values(**values)
                    .execution_options(synchronize_session=False)
                )
            for peer, outcome in successes.items():
                await self._peer_healthy(session, peer, outcome, now)
            for peer, outcome in failures.items():
                retry_at = await self._peer_failed(session, peer, outcome, now)
                await session.execute(
                    update(Delivery).where(Delivery.peer == peer, Delivery.state == DeliveryState.queued,
                                           Delivery.created_at < now - max_age)
                    .values(state=DeliveryState.dead, finished_at=now,
                            last_error=storable(f"gave up after {fed.settings.delivery_max_age_days:g} days: "
                                                f"{outcome.error}", ERROR_CHARS))
                )
                await session.execute(
                    update(Delivery).where(Delivery.peer == peer, Delivery.state == DeliveryState.queued,
                                           Delivery.next_attempt_at < retry_at)
                    .values(next_attempt_at=retry_at)
                )

    async def _peer_healthy(self, session, peer: str, outcome: Outcome, now: datetime) -> None:
        values = {"last_success_at": now, "consecutive_failures": 0, "retry_at": None}
        if outcome.scheme:
            values["signature_scheme"] = outcome.scheme
            self._schemes[peer] = outcome.scheme
        await _upsert_peer(session, peer, now, values)
        self.fed.peers_in_backoff.discard(peer)

    async def _peer_failed(self, session, peer: str, outcome: Outcome, now: datetime) -> datetime:
        row = await session.scalar(select(Peer).where(Peer.domain == peer))
        failures = (row.consecutive_failures if row else 0) + 1
        delay = min(BASE_DELAY * 2 ** (failures - 1), MAX_DELAY) * random.uniform(0.8, 1.2)
        if outcome.retry_after is not None:
            delay = max(delay, min(outcome.retry_after, MAX_RETRY_AFTER))
        retry_at = now + timedelta(seconds=delay)
        await _upsert_peer(session, peer, now, {
            "consecutive_failures": failures, "retry_at": retry_at, "last_failure_at": now,
            "last_failure_reason": storable(outcome.error or "", ERROR_CHARS),
        })
        self.fed.peers_in_backoff.add(peer)
        log.info("delivery to %s failed (%s); peer backs off until %s", peer, outcome.error, retry_at.isoformat())
        return retry_at

    async def release_claims(self) -> None:
        """At start on SQLite, the only process: leases a previous run held are void."""
        if self.fed.db.is_sqlite:
            async with self.fed.db.sessions.begin() as session:
                await session.execute(
                    update(Delivery).where(Delivery.state == DeliveryState.queued, Delivery.claimed_until.is_not(None))
                    .values(claimed_until=None)
                )


async def _upsert_peer(session, peer: str, now: datetime, values: dict) -> None:
    statement = insert_for(session, Peer).values(domain=peer, first_seen_at=now, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[Peer.domain], set_=values))


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
