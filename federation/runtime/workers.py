"""Background workers as asyncio tasks: the inbox processor, the delivery sender, the Web Push
sender, the poll clock, the scheduled posts' clock, and periodic chores (refreshing subscribed peer lists, sweeping unused media, deleting
settled queue rows past their retention: see federation.admin.retention, greeting peers an admin has just
allowed: see federation.peers.greeting; an allow made here wakes it).

Each loop runs its step until a step finds nothing, then sleeps until woken (work queued in this
process sets an event after its commit) or until `worker_poll_seconds` pass (work queued by
other processes). Nothing wakes the poll clock, nor the scheduled posts': they look for ended
polls and due posts every `worker_poll_seconds`. The chores run on their own period. A step that raises is logged and the
loop goes on; cancellation stops it. Tests do not start these: they call the steps
(`worker.run_once`, `DeliveryWorker.run_once`, `PushWorker.run_once`, `poll_worker.run_once`, `scheduled.run_once`,
`media.sweep`, `retention.sweep`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from federation.admin import retention
from federation.inbox import committer, worker

from federation.social import media, poll_worker
from federation.social.push_worker import PushWorker
from federation.runtime.context import Federation
from federation.outbox import scheduled
from federation.outbox.delivery import DeliveryWorker
from federation.peers.greeting import greet_allowed
from federation.peers.subscriptions import refresh_all

log = logging.getLogger(__name__)
MEDIA_SWEEP_SECONDS = 600
MEDIA_SWEEP_BATCH = 100
GREETING_SECONDS = 30
RETENTION_SWEEP_SECONDS = 600


class Workers:
    def __init__(self, fed: Federation, media_root: Path) -> None:
        self.fed = fed
        self.delivery = DeliveryWorker(fed)
        self.push = PushWorker(fed)
        self.inbox = worker.InboxPump(fed)
        self.media_root = media_root
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        try:
            await self.fed.ensure_ready()
            await worker.release_claims(self.fed)
            await self.delivery.release_claims()
            await self.push.release_claims()
        except Exception as exc:  # the database may be down; the loops retry
            log.warning("workers start without releasing old claims: %s", exc)
        self._tasks = [
            asyncio.create_task(self._loop("inbox", self.fed.wake.inbox, self._inbox_step)),
            asyncio.create_task(self._loop("delivery", self.fed.wake.deliveries, self.delivery.run_once)),
            asyncio.create_task(self._loop("push", self.fed.wake.push, self.push.run_once)),
            asyncio.create_task(self._periodically("peer lists", self.fed.settings.subscription_refresh_minutes * 60,
                                                   self._refresh_subscriptions)),
            asyncio.create_task(self._periodically("media sweep", MEDIA_SWEEP_SECONDS, self._sweep_media)),
            asyncio.create_task(self._periodically("queue retention", RETENTION_SWEEP_SECONDS, self.sweep_queues)),
            asyncio.create_task(self._loop("polls", asyncio.Event(), lambda: poll_worker.run_once(self.fed))),
            asyncio.create_task(self._loop("scheduled posts", asyncio.Event(), lambda: scheduled.run_once(self.fed))),
            asyncio.create_task(self._greetings()),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self.inbox.stop()

    async def _inbox_step(self) -> int:
        """Claim stored activities, giving way to intake first (so does each commit of theirs)."""
        await committer.give_way_to_intake(self.fed)
        return await self.inbox.step(held_back_for=self.fed.settings.worker_poll_seconds)

    async def _periodically(self, name: str, seconds: float, step: Callable[[], Awaitable[None]]) -> None:
        while True:
            try:
                await self.fed.ensure_ready()
                await step()
            except Exception:
                log.exception("%s failed; trying again in %s s", name, seconds)
            await asyncio.sleep(seconds)

    async def _refresh_subscriptions(self) -> None:
        """Refetch subscribed peer lists."""
        fed = self.fed
        results = await refresh_all(fed.db, fed.http, at=fed.clock.now(), allow_http=fed.settings.allow_http,
                                    allow_private=fed.settings.allow_private_addresses)
        for url, result in results.items():
            if isinstance(result, str):
                log.warning("peer list %s: %s", url, result)
        if results:
            await fed.reload_policy()
            if any(not isinstance(result, str) and result.added for result in results.values()):
                fed.wake.peers_allowed.set()

    async def _greetings(self) -> None:
        """Greet newly allowed peers every GREETING_SECONDS, or at once when an admin allows one
        in this process (an allow made elsewhere is seen here within REFRESH_SECONDS of policy)."""
        allowed = self.fed.wake.peers_allowed
        while True:
            try:
                await asyncio.wait_for(allowed.wait(), timeout=GREETING_SECONDS)
            except asyncio.TimeoutError:
                pass
            allowed.clear()
            try:
                await self.fed.ensure_ready()
                await greet_allowed(self.fed)
            except Exception:
                log.exception("greeting allowed peers failed; trying again in %s s", GREETING_SECONDS)

    async def _sweep_media(self) -> None:
        """Remove media no post shows (see federation.social.media.sweep), a batch at a time."""
        removed = MEDIA_SWEEP_BATCH
        while removed == MEDIA_SWEEP_BATCH:
            async with self.fed.transaction() as session:
                removed = await media.sweep(session, self.media_root, self.fed.clock.now(), MEDIA_SWEEP_BATCH)

    async def sweep_queues(self) -> dict[str, int]:
        """Delete settled queue rows past their retention (federation.admin.retention); how many of each."""
        fed = self.fed
        deleted = await retention.sweep(fed.db, fed.clock.now(), retention.Retention.of(fed.settings))
        if any(deleted.values()):
            log.info("queue retention deleted %s", ", ".join(f"{n} {queue}" for queue, n in deleted.items()))
        return deleted

    async def _loop(self, name: str, wake: asyncio.Event, step: Callable[[], Awaitable[int]]) -> None:
        poll = self.fed.settings.worker_poll_seconds
        while True:
            wake.clear()
            try:
                await self.fed.ensure_ready()
                taken = await step()
            except Exception:
                log.exception("%s worker step failed; retrying in %s s", name, poll)
                taken = 0
            if taken:
                continue
            try:
                await asyncio.wait_for(wake.wait(), timeout=poll)
            except asyncio.TimeoutError:
                pass
