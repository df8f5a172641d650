"""Group commit for inbox rows.

Concurrent inbox requests hand their rows to one writer task, which inserts them in a single
transaction (INSERT ... ON CONFLICT DO NOTHING on the activity id) and then answers each request:
new, or a duplicate of an activity already stored. One commit per batch instead of one per
request is what lets one process accept thousands of activities per second on SQLite; a request
is still answered only after its own row is durable. The writer stamps each batch queued and due
at the time of its commit.

How a batch is inserted, per database, is `storage.inbox_queue.inserter`'s: on SQLite one
`executemany` on a connection the writer keeps, on PostgreSQL one INSERT ... RETURNING.

A batch that fails is tried again row by row, so a row the database refuses fails only its own
request; when the database itself is failing, every request gets its error.

Each row gets its turn (`federation.inbox.turns`: fair queuing over peers) as its batch is formed.
"""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext
from typing import Any

from federation.inbox.turns import Turns
from federation.protocol.urls import authority
from federation.runtime.clock import Clock
from storage import inbox_queue
from storage.db import Database
from storage.models import InboxState

log = logging.getLogger(__name__)

Row = dict[str, Any]


class InboxWriter:
    """Group commit for inbox rows (see the module docstring)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._clock = clock
        self._pending: list[tuple[Row, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._insert = inbox_queue.inserter(db)
        self._db = db
        self._turns = Turns()
        self.last_commit = 0.0  # loop time of the last commit: the inbox worker yields to intake

    def _turn(self):
        """SQLite's one write lock, before the inbox worker's next batch (PostgreSQL: no wait)."""
        return self._db.writes.urgent() if self._db.is_sqlite else nullcontext()

    async def submit(self, row: Row) -> bool:
        """Queue `row`: an inbox item's id, activity_uri, activity_type, actor_uri, signer_key_id,
        recipient_id and raw (JSON text). Its batch stamps it queued and due at the time of the
        commit. True once it is committed, False if the activity was already stored."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._wake.set()
        return await future

    async def run(self) -> None:
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                while self._pending:
                    batch, self._pending = self._pending, []
                    await self._commit(batch)
        finally:
            await self._insert.close()

    async def _commit(self, batch: list[tuple[Row, asyncio.Future[bool]]]) -> None:
        first: dict[str, Row] = {}
        for row, _ in batch:
            first.setdefault(row["activity_uri"], row)
        if self._turns.due_for_refresh():
            try:
                async with self._db.sessions() as session:
                    await self._turns.refresh(session)
            except Exception as exc:  # the insert below meets the same trouble, and reports it
                log.warning("inbox turns: could not read the queue's head: %s", exc)
        for row in first.values():
            row["turn"] = self._turns.stamp(authority(row["actor_uri"]))
        now = self._clock.now()
        queue = {"state": InboxState.queued, "attempts": 0, "received_at": now, "next_attempt_at": now}
        failed: dict[str, Exception] = {}
        try:
            async with self._turn():
                inserted = await self._insert(list(first.values()), queue)
        except Exception as exc:
            inserted = set()
            if len(first) == 1:
                failed = {uri: exc for uri in first}
            else:  # one bad row must not fail the others: each is tried alone
                log.warning("inbox commit of %d rows failed (%s); committing them one by one", len(first), exc)
                for uri, row in first.items():
                    try:
                        async with self._turn():
                            inserted |= await self._insert([row], queue)
                    except Exception as one:
                        failed[uri] = one
        if failed:
            log.error("inbox commit of %d of %d rows failed: %s", len(failed), len(first), next(iter(failed.values())))
        if len(failed) < len(first):
            self.last_commit = asyncio.get_running_loop().time()
        for row, future in batch:
            if future.done():
                continue
            error = failed.get(row["activity_uri"])
            if error is not None:  # the database failed: the request gets the error
                future.set_exception(error)
            else:
                future.set_result(row["id"] in inserted and first[row["activity_uri"]] is row)
