"""Group commit for inbox rows.

Concurrent inbox requests hand their rows to one writer task, which inserts them in a single
transaction (INSERT ... ON CONFLICT DO NOTHING on the activity id) and then answers each request:
new, or a duplicate of an activity already stored. One commit per batch instead of one per
request is what lets one process accept thousands of activities per second on SQLite; a request
is still answered only after its own row is durable. The writer stamps each batch queued and due
at the time of its commit.

On SQLite the writer keeps one connection, and a batch is one `executemany` on the driver
connection under it, then the commit; the statement and each column's bind processing come
from SQLAlchemy, once. Run through SQLAlchemy, its per-row and per-transaction work cost more
than SQLite's own. SQLite returns no rows from an executemany, so the row count says whether
every row was new, and only when it falls short are the new ones looked up (by their freshly
minted ids). PostgreSQL takes each batch as one INSERT ... RETURNING through SQLAlchemy.

A batch that fails is tried again row by row, so a row the database refuses fails only its own
request; when the database itself is failing, every request gets its error.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from federation.runtime.clock import Clock
from storage.db import Database
from storage.models import InboxItem, InboxState

log = logging.getLogger(__name__)

Row = dict[str, Any]


class InboxWriter:
    """Group commit for inbox rows (see the module docstring)."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._clock = clock
        self._pending: list[tuple[Row, asyncio.Future[bool]]] = []
        self._wake = asyncio.Event()
        self._insert = _SqliteInsert(db) if db.is_sqlite else _ReturningInsert(db)
        self.last_commit = 0.0  # loop time of the last commit: the inbox worker yields to intake

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
        now = self._clock.now()
        queue = {"state": InboxState.queued, "attempts": 0, "received_at": now, "next_attempt_at": now}
        failed: dict[str, Exception] = {}
        try:
            inserted = await self._insert(list(first.values()), queue)
        except Exception as exc:
            inserted = set()
            if len(first) == 1:
                failed = {uri: exc for uri in first}
            else:  # one bad row must not fail the others: each is tried alone
                log.warning("inbox commit of %d rows failed (%s); committing them one by one", len(first), exc)
                for uri, row in first.items():
                    try:
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


class _SqliteInsert:
    """Each batch in one transaction on a connection the writer keeps: one executemany of a
    statement compiled once, then the commit. Returns the ids inserted."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the aiosqlite connection under it
        dialect = db.engine.dialect
        table = InboxItem.__table__
        compiled = (
            sqlite.insert(table).on_conflict_do_nothing(index_elements=["activity_uri"])
            .compile(dialect=dialect, column_keys=[column.key for column in table.columns])
        )
        self._sql = str(compiled)
        self._table = table.name
        self._names = compiled.positiontup
        self._processors = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names
        }

    async def __call__(self, rows: list[Row], queue: Row) -> set[int]:
        shared = {name: self._bind(name, value) for name, value in queue.items()}  # once per batch
        params = [
            tuple(shared[name] if name in shared else self._bind(name, row.get(name)) for name in self._names)
            for row in rows
        ]
        ids = [row["id"] for row in rows]
        if self._connection is None:
            self._connection = await self._engine.connect()
            self._driver = (await self._connection.get_raw_connection()).driver_connection
        try:
            cursor = await self._driver.executemany(self._sql, params)
            if cursor.rowcount != len(rows):  # some were stored before: which of ours went in?
                marks = ", ".join("?" * len(ids))
                cursor = await self._driver.execute(f"SELECT id FROM {self._table} WHERE id IN ({marks})", ids)
                ids = [found for found, in await cursor.fetchall()]
            await self._driver.commit()
        except Exception:
            await self.close()  # rolls back; the next batch takes a fresh connection
            raise
        return set(ids)

    def _bind(self, name: str, value: Any) -> Any:
        process = self._processors[name]
        return value if process is None else process(value)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._driver = self._connection, None, None
            await connection.close()


class _ReturningInsert:
    """Each batch as one INSERT ... ON CONFLICT DO NOTHING RETURNING id; returns the ids inserted."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._statement = (
            postgresql.insert(InboxItem).on_conflict_do_nothing(index_elements=["activity_uri"])
            .returning(InboxItem.id)
        )

    async def __call__(self, rows: list[Row], queue: Row) -> set[int]:
        async with self._engine.begin() as conn:
            return set(await conn.scalars(self._statement, [row | queue for row in rows]))

    async def close(self) -> None:
        pass
