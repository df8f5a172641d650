"""The inbox queue's queries: insert received activities in batches (for `federation.inbox.writer`),
and what the inbox worker runs: claim due items, record each item's outcome, release leases.

The states and transitions are declared in `storage.states`; the claim, the lease and the
guarded moves are `storage.leases`'. A claim reads the rows' `raw` as text and decodes nothing,
so no row can make a claim fail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import leases
from storage.db import Database
from storage.leases import INBOX_ITEMS
from storage.models import InboxItem, InboxState
from storage.text import storable

ERROR_CHARS = 2000


@dataclass(frozen=True)
class Claimed:
    """An item as claimed: its raw JSON text undecoded, and its attempts counting this one."""

    id: int
    activity_uri: str
    activity_type: str
    actor_uri: str
    raw: str
    attempts: int
    due: datetime


async def claim(
    session: AsyncSession, now: datetime, limit: int, *, lease: timedelta, max_attempts: int, lock: bool,
) -> list[Claimed]:
    """Up to `limit` due items, queued or failed, the longest due first (`storage.leases`). Each
    item taken is leased: queued, due after `lease`, one more attempt. An item whose attempts ran
    out under earlier leases (its handling never finished: it stopped the process, say) is marked
    dead instead. `lock`: FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers share the queue."""
    columns = (InboxItem.id, InboxItem.activity_uri, InboxItem.activity_type, InboxItem.actor_uri,
               InboxItem.raw, InboxItem.attempts, InboxItem.next_attempt_at)
    items = [Claimed(*row) for row in await leases.claim_due(session, INBOX_ITEMS, columns, now, limit, lock=lock)]
    spent = [item.id for item in items if item.attempts >= max_attempts]
    if spent:
        await leases.move(session, INBOX_ITEMS, InboxState.dead, InboxItem.id.in_(spent), processed_at=now,
                          last_error=f"its handling never finished in {max_attempts} attempts")
    taken = [item for item in items if item.attempts < max_attempts]
    if taken:
        await leases.lease(session, INBOX_ITEMS, [item.id for item in taken], now + lease,
                           state=InboxState.queued, attempts=InboxItem.attempts + 1)
    return [replace(item, attempts=item.attempts + 1) for item in taken]


async def finish(session: AsyncSession, item_id: int, state: InboxState, error: str | None, at: datetime) -> None:
    """The item's final outcome: done, or ignored with the reason."""
    await leases.move(session, INBOX_ITEMS, state, InboxItem.id == item_id,
                      last_error=None if error is None else storable(error, ERROR_CHARS), processed_at=at)


async def fail(session: AsyncSession, item_id: int, error: str, at: datetime, retry_at: datetime | None) -> None:
    """An attempt failed: `failed`, due again at `retry_at`, or `dead` when None."""
    values: dict = {"last_error": storable(error, ERROR_CHARS)}
    if retry_at is None:
        await leases.move(session, INBOX_ITEMS, InboxState.dead, InboxItem.id == item_id, processed_at=at, **values)
    else:
        await leases.move(session, INBOX_ITEMS, InboxState.failed, InboxItem.id == item_id,
                          next_attempt_at=retry_at, **values)


async def release_claims(session: AsyncSession, now: datetime) -> None:
    """Void every lease: for the only process on SQLite, at its start."""
    await leases.release_leases(session, INBOX_ITEMS, now)


Row = dict[str, Any]


def inserter(db: Database) -> _SqliteInsert | _ReturningInsert:
    """What inserts a batch of inbox rows (`await insert(rows, shared)`: each row's own values,
    and the values every row of the batch takes), ignoring rows whose activity is stored already,
    in a transaction of its own; it returns the ids inserted. Close it when done.

    On SQLite it keeps one connection, and a batch is one `executemany` on the driver connection
    under it, then the commit; the statement and each column's bind processing come from
    SQLAlchemy, once. Run through SQLAlchemy, its per-row and per-transaction work cost more
    than SQLite's own. SQLite returns no rows from an executemany, so the row count says whether
    every row was new, and only when it falls short are the new ones looked up (by their
    freshly minted ids). PostgreSQL takes each batch as one INSERT ... RETURNING."""
    return _SqliteInsert(db) if db.is_sqlite else _ReturningInsert(db)


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
