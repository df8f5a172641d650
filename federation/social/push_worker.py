"""The Web Push worker: claims due pushes (`storage.push`), encrypts and signs each for its
subscription (`federation.social.push`), POSTs it, and records the outcome.

    queued -> delivered | dead | cancelled      (a retryable failure stays queued, due later)

2xx is delivered. 404 or 410: the subscription is gone, so it is removed, and its queued pushes
with it. 408, 429, 5xx, a timeout or a refused connection: retried after a backoff that doubles
per attempt (Retry-After honoured), until MAX_ATTEMPTS, then dead. Any other answer is dead at
once. Nothing is dropped silently: every push that did not go through is logged with why.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

import aiohttp
from yarl import URL

from federation.protocol.http import FetchError, check_url, read_capped
from federation.runtime.context import Federation
from federation.social.push import VapidKeys, load_or_make_keys, payload, sealed
from storage import push as push_queries
from storage.models import DeliveryState, PushSubscription
from storage.push import Push
from storage.text import storable

log = logging.getLogger(__name__)

TTL_SECONDS = 48 * 3600
LEASE = timedelta(minutes=5)
BASE_DELAY = 30.0
MAX_DELAY = 6 * 3600.0
MAX_ATTEMPTS = 8
CONCURRENCY = 16
RESPONSE_CAP = 16 * 1024
ERROR_CHARS = 500
GONE = frozenset({404, 410})
RETRIED = frozenset({408, 429})


# --- the worker -------------------------------------------------------------------------------

@dataclass
class _Outcome:
    push: Push
    state: DeliveryState
    status: int | None
    error: str | None
    retry_after: float | None = None
    gone: bool = False


class PushWorker:
    """Claims due pushes, sends them, and records what happened."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self._keys: VapidKeys | None = None
        self._concurrency = asyncio.Semaphore(CONCURRENCY)

    async def keys(self) -> VapidKeys:
        if self._keys is None:
            async with self.fed.db.sessions.begin() as session:
                self._keys = await load_or_make_keys(session)
        return self._keys

    async def run_once(self, limit: int = 100) -> int:
        """Send one batch of due pushes; how many were taken."""
        fed = self.fed
        async with fed.db.sessions.begin() as session:
            pushes = await push_queries.claim(session, fed.clock.now(), limit, lease=LEASE, lock=not fed.db.is_sqlite)
        if not pushes:
            return 0
        keys = await self.keys()
        outcomes = await asyncio.gather(*(self._send(push, keys) for push in pushes))
        await self._record(outcomes)
        return len(pushes)

    async def release_claims(self) -> None:
        if self.fed.db.is_sqlite:
            async with self.fed.db.sessions.begin() as session:
                await push_queries.release_claims(session, self.fed.clock.now())

    async def _send(self, push: Push, keys: VapidKeys) -> _Outcome:
        fed = self.fed
        subscription: PushSubscription = push.subscription
        try:
            check_url(subscription.endpoint, allow_http=fed.settings.allow_http,
                      allow_private_addresses=fed.settings.allow_private_addresses)
        except FetchError as exc:
            return _Outcome(push, DeliveryState.dead, None, str(exc))
        body, sealing = sealed(payload(push), subscription.p256dh, subscription.auth, standard=subscription.standard,
                               endpoint=subscription.endpoint, keys=keys, contact=fed.urls.base,
                               now=fed.clock.now().timestamp())
        headers = {"Content-Type": "application/octet-stream", "TTL": str(TTL_SECONDS), "Urgency": "normal", **sealing}
        try:
            async with self._concurrency, fed.http.post(subscription.endpoint, data=body, headers=headers,
                                                         allow_redirects=False) as response:
                text = (await read_capped(response, RESPONSE_CAP)).decode("utf-8", "replace")
                status = response.status
                retry_after = _seconds(response.headers.get("Retry-After"))
        except FetchError as exc:
            return _Outcome(push, DeliveryState.queued, None, str(exc))
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
            return _Outcome(push, DeliveryState.queued, None, f"{type(exc).__name__}: {exc}".strip())
        if 200 <= status < 300:
            return _Outcome(push, DeliveryState.delivered, status, None)
        error = f"HTTP {status}: {text[:200].strip()}"
        if status in GONE:
            return _Outcome(push, DeliveryState.cancelled, status, error, gone=True)
        if status in RETRIED or status >= 500:
            return _Outcome(push, DeliveryState.queued, status, error, retry_after)
        return _Outcome(push, DeliveryState.dead, status, error)

    async def _record(self, outcomes: list[_Outcome]) -> None:
        now = self.fed.clock.now()
        gone = {o.push.subscription.id for o in outcomes if o.gone}
        groups: dict[tuple, list[int]] = defaultdict(list)
        for outcome in outcomes:
            if outcome.gone:
                continue  # the subscription goes, and its pushes with it
            state, retry_at = outcome.state, None
            if state is DeliveryState.queued:
                attempts = outcome.push.delivery.attempts + 1
                if attempts >= MAX_ATTEMPTS:
                    state = DeliveryState.dead
                else:
                    delay = min(BASE_DELAY * 2 ** (attempts - 1), MAX_DELAY) * random.uniform(0.8, 1.2)
                    if outcome.retry_after is not None:
                        delay = max(delay, min(outcome.retry_after, MAX_DELAY))
                    retry_at = now + timedelta(seconds=delay)
            if state is not DeliveryState.delivered:
                log.warning("push %d to %s: %s (%s)", outcome.push.delivery.id, URL(outcome.push.subscription.endpoint).host,
                            state.value if state is not DeliveryState.queued else f"retry at {retry_at:%H:%M:%S}",
                            outcome.error)
            error = None if outcome.error is None else storable(outcome.error, ERROR_CHARS)
            groups[(state, outcome.status, error, retry_at)].append(outcome.push.delivery.id)
        async with self.fed.db.sessions.begin() as session:
            for (state, status, error, retry_at), ids in groups.items():
                await push_queries.settle(session, ids, state, now, status=status, error=error, retry_at=retry_at)
            for subscription_id in gone:
                log.info("push subscription %d: its endpoint is gone; removed", subscription_id)
                await push_queries.remove_subscription(session, subscription_id)


def _seconds(value: str | None) -> float | None:
    if value is None or not value.strip().isdigit():
        return None
    return float(value.strip())


