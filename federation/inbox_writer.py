"""Group commit for inbox rows.

Concurrent inbox requests hand their rows to one writer task, which inserts them in a single
transaction (INSERT ... ON CONFLICT DO NOTHING on the activity id) and then answers each request:
new, or a duplicate of an activity already stored. One commit per batch instead of one per
request is what lets one process accept thousands of activities per second on SQLite; a request
is still answered only after its own row is durable.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from storage.db import Database
from storage.models import InboxItem
from storage.upsert import insert_for

log = logging.getLogger(__name__)


class InboxWriter:
    """Group commit for inbox rows (see the module docstring)."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._pending: list[tuple[dict[str, Any], asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._statement = None
        self.last_commit = 0.0  # loop time of the last commit: the inbox worker yields to intake

    async def submit(self, row: dict[str, Any]) -> bool:
        """Queue `row`; True once it is committed, False if the activity was already stored."""
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._pending.append((row, future))
        self._wake.set()
        return await future

    async def run(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch, self._pending = self._pending, []
                await self._commit(batch)

    async def _commit(self, batch: list[tuple[dict[str, Any], asyncio.Future[bool]]]) -> None:
        first: dict[str, dict[str, Any]] = {}
        for row, _ in batch:
            first.setdefault(row["activity_uri"], row)
        try:
            async with self._db.sessions.begin() as session:
                if self._statement is None:  # one statement, compiled once, run with many rows
                    self._statement = (
                        insert_for(session, InboxItem)
                        .on_conflict_do_nothing(index_elements=["activity_uri"])
                        .returning(InboxItem.id)
                    )
                inserted = set(await session.scalars(self._statement, list(first.values())))
        except Exception as exc:  # the database failed: every waiting request gets the error
            log.error("inbox commit of %d rows failed: %s", len(batch), exc)
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        self.last_commit = asyncio.get_running_loop().time()
        for row, future in batch:
            if not future.done():
                future.set_result(row["id"] in inserted and first[row["activity_uri"]] is row)
