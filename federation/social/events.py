"""Streaming events: what clients on /api/v1/streaming hear about, and how it reaches them.

Domain code records an event on the session (`record`) as it writes the rows the event is about;
the session's events are published once its transaction has committed (`Federation.transaction`
registers that through `storage.db.after_commit`, the one after-commit mechanism), so nobody
hears about a write that rolled back.
An event names its streams and the row it is about, not a rendered payload: each subscriber
renders the entity for its own viewer.

On SQLite (one process) events go straight to this process's subscribers. On PostgreSQL they go
through NOTIFY on one channel, and every process LISTENs, so an event raised in a worker reaches
streams held by a web process.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import asdict, dataclass

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from storage import events as event_queries
from storage.db import Database, describe_error

log = logging.getLogger(__name__)
CHANNEL = "rounds_events"
QUEUE_SIZE = 1000


@dataclass(frozen=True)
class StreamEvent:
    streams: tuple[str, ...]  # "user:<actor id>", "user:notification:<id>", "public", "public:local", "hashtag:<tag>"
    event: str                # update | notification | delete | status.update
    kind: str                 # status | announce | notification | id
    ref: int                  # the row the event is about


def record(session: AsyncSession, event: StreamEvent) -> None:
    session.info.setdefault("events", []).append(event)


def take(session: AsyncSession) -> list[StreamEvent]:
    return session.info.pop("events", [])


class EventBus:
    def __init__(self, db: Database) -> None:
        self._db = db
        self._subscribers: set[asyncio.Queue[StreamEvent]] = set()
        # one channel per schema, so instances sharing a database do not hear each other
        self.channel = f"{CHANNEL}_{db.schema}" if db.schema else CHANNEL
        self.listening = asyncio.Event()  # set once LISTEN is in place (PostgreSQL)

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers)

    def subscribe(self) -> asyncio.Queue[StreamEvent]:
        queue: asyncio.Queue[StreamEvent] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[StreamEvent]) -> None:
        self._subscribers.discard(queue)

    def deliver(self, event: StreamEvent) -> None:
        """Hand an event to this process's subscribers (a full queue drops it, logged)."""
        for queue in list(self._subscribers):
            try:
                queue.put_nowait(event)
            except asyncio.QueueFull:
                log.warning("a streaming client is too slow; dropped a %s event", event.event)

    async def publish(self, events: list[StreamEvent]) -> None:
        if not events:
            return
        if self._db.is_sqlite:
            for event in events:
                self.deliver(event)
            return
        await event_queries.notify(self._db, self.channel, [json.dumps(asdict(event)) for event in events])

    async def listen_forever(self, retry_seconds: float) -> None:
        """PostgreSQL only: `listen`, and again after `retry_seconds` whenever the database is lost."""
        while True:
            try:
                await self.listen()
            except (SQLAlchemyError, OSError) as exc:
                log.warning("event listener lost the database (%s); retrying", describe_error(exc))
                await asyncio.sleep(retry_seconds)

    async def listen(self) -> None:
        """PostgreSQL only: receive every process's events until cancelled."""
        await event_queries.listen(self._db, self.channel, self._received, self.listening)

    def _received(self, payload: str) -> None:
        data = json.loads(payload)
        self.deliver(StreamEvent(tuple(data["streams"]), data["event"], data["kind"], data["ref"]))
