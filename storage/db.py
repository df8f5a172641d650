"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and foreign keys on, set on every new connection.
PostgreSQL may be given a schema, which becomes the connection's search_path; that is how
several instances (or test runs) share one database.

`Database.read` runs a whole read, written as a synchronous function of a `Session`, in one go.
On SQLite that is one hop to a reader thread with its own read-only connection: through
aiosqlite every query costs several thread hops (about 0.2 ms each here, against 0.08 ms for the
same query on a plain connection), which dominated a rendered timeline page of a dozen queries
(storage.sqlite_connections has SQLite's connections, the writer's and the readers').
On PostgreSQL the same function runs on an async session through SQLAlchemy's greenlet bridge,
in autocommit: with no BEGIN and ROLLBACK around it, a read is two round trips fewer.

`after_commit(session, callback)` is the one after-commit mechanism: whatever must happen only
once a write is durable (publishing its streaming events, waking the worker that sends what it
queued) registers a callback on the session, and every session from `Database.sessions` runs
them when its transaction commits, and drops them when it rolls back.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import re
import socket
import sqlite3
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from sqlalchemy import Result, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    AsyncSessionTransaction,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage.ids import set_node
from storage.savepoints import plain_savepoints
from storage.settings import DatabaseSettings
from storage.sqlite_connections import SqliteReader, begin_immediate, sqlite_connector, sqlite_pragmas

T = TypeVar("T")
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
_AFTER_COMMIT = "after_commit"
log = logging.getLogger(__name__)

AfterCommit = Callable[[], "Awaitable[object] | object"]


def after_commit(session: AsyncSession, callback: AfterCommit) -> None:
    """Call `callback` (and await what it returns, if anything) once the session's transaction has
    committed; never if it rolls back. Callbacks run in the order registered."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


async def _committed(session: AsyncSession) -> None:
    """Run the callbacks of a transaction that committed. The write is durable whatever they do,
    so one that fails is logged and the others still run."""
    while callbacks := session.info.pop(_AFTER_COMMIT, None):
        for callback in callbacks:
            try:
                result = callback()
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("an after-commit callback failed; the transaction had committed")


class _Transaction(AsyncSessionTransaction):
    """A session's outermost transaction, which runs its after-commit callbacks."""

    async def __aexit__(self, type_, value, traceback) -> None:
        try:
            await super().__aexit__(type_, value, traceback)
        except BaseException:
            self.session.info.pop(_AFTER_COMMIT, None)
            raise
        if type_ is None:
            await _committed(self.session)
        else:
            self.session.info.pop(_AFTER_COMMIT, None)

    async def commit(self) -> None:
        await super().commit()
        await _committed(self.session)

    async def rollback(self) -> None:
        self.session.info.pop(_AFTER_COMMIT, None)
        await super().rollback()


class CommitSession(AsyncSession):
    """The sessions of `Database.sessions`: `after_commit` callbacks run on commit."""

    def begin(self) -> AsyncSessionTransaction:
        return _Transaction(self)

    async def commit(self) -> None:
        await super().commit()
        await _committed(self)

    async def rollback(self) -> None:
        self.info.pop(_AFTER_COMMIT, None)
        await super().rollback()


@asynccontextmanager
async def savepoint(session: AsyncSession) -> AsyncIterator[None]:
    """A savepoint around the block: if the block raises, what it wrote is rolled back alone (the
    transaction goes on) and the exception goes on. So is what it queued on the session for after
    the commit: the entries it added to the lists in `session.info` (after-commit callbacks,
    streaming events) are dropped, since what they are about was never written."""
    marks = {key: len(value) for key, value in session.info.items() if isinstance(value, list)}
    try:
        async with session.begin_nested():
            yield
    except BaseException:
        for key, value in session.info.items():
            if isinstance(value, list):
                del value[marks.get(key, 0):]
        raise


async def take_write_lock(session: AsyncSession) -> None:
    """Begin the session's transaction by taking the write lock (SQLite: BEGIN IMMEDIATE, waiting
    up to the busy timeout), so that its writes never meet another writer halfway, and savepoints
    nest inside it. Call it first in the transaction. PostgreSQL: nothing to do.

    On SQLite the rest of the transaction then runs on the event loop's thread
    (`storage.sqlite_connections.SqliteConnection`): holding the write lock, none of its
    statements can wait for another connection."""
    if session.bind.dialect.name == "sqlite":
        await session.run_sync(begin_immediate)


def core_rows(session: Session, statement, params: dict | list[dict]) -> Result:
    """A Core statement (plain columns, no ORM entities) run on the session's own connection:
    the ORM's execution path cost about 0.06 ms more per statement, a fifth of a rendered page.
    Pending ORM changes are flushed first, as Session.execute would, so a rendering inside a
    write transaction sees what it wrote."""
    session.flush()
    return session.connection().execute(statement, params)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message says which and why."""


class WriteTurns:
    """Turns at the write lock among this process's batch writers, taken in asyncio rather than
    in SQLite's busy handler, which polls in sleeps of up to 100 ms.

    `lock` is held by each write transaction that may run long (the inbox worker's claims and
    batches). Intake takes its turn with `urgent()`, which also raises `wanted`, so that a batch
    in progress ends at its next item and commits instead of making a peer wait for its 202."""

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.wanted = 0  # urgent writers waiting for the lock

    @asynccontextmanager
    async def urgent(self) -> AsyncIterator[None]:
        self.wanted += 1
        try:
            await self.lock.acquire()
        finally:
            self.wanted -= 1
        try:
            yield
        finally:
            self.lock.release()


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[CommitSession]
    schema: str = ""
    reader: SqliteReader | None = None
    writes: WriteTurns = field(default_factory=WriteTurns)
    reads: async_sessionmaker[AsyncSession] | None = None  # PostgreSQL: sessions in autocommit

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def read(self, fn: Callable[[Session], T]) -> T:
        """`fn(session)`, a read that writes nothing (see the module docstring). On PostgreSQL it
        runs outside a transaction: at READ COMMITTED each statement sees what was committed when it
        began either way, and a BEGIN and a ROLLBACK would be two more round trips for every read."""
        if self.reader is not None:
            return await self.reader.run(fn)
        async with (self.reads or self.sessions)() as session:
            return await session.run_sync(fn)

    async def dispose(self) -> None:
        if self.reader is not None:
            self.reader.dispose()
        await self.engine.dispose()


def open_database(
    url: str, *, schema: str = "", pool_size: int = 5, busy_timeout_ms: int = 5000
) -> Database:
    """Build the engine (no connection is made until first use)."""
    parsed = make_url(url)
    reader = reads = None
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, async_creator=sqlite_connector(parsed.database, busy_timeout_ms / 1000))
        event.listen(engine.sync_engine, "connect", sqlite_pragmas(busy_timeout_ms))
        reader = SqliteReader(url, pool_size, busy_timeout_ms)
    else:
        if schema and not _SCHEMA_RE.match(schema):
            raise ValueError(f"invalid PostgreSQL schema name {schema!r}")
        connect_args = {"server_settings": {"search_path": schema}} if schema else {}
        # every connection opened stays open, up to twice pool_size: a connection opened beyond the
        # pool's size (SQLAlchemy's overflow) would be closed as soon as it is returned, and under a
        # steady load (a busy inbox worker's chains read at once) one was opened and closed for
        # almost every read, each a new backend: 330 in one bench/inbox_drain.py run of 3,000 items
        engine = create_async_engine(
            url, pool_size=2 * pool_size, max_overflow=0, connect_args=connect_args,
        )
        _ping_when_idle(engine.sync_engine.pool)
        reads = async_sessionmaker(engine.execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False)
    plain_savepoints(engine.sync_engine)
    return Database(engine, async_sessionmaker(engine, class_=CommitSession, expire_on_commit=False), schema, reader,
                    reads=reads)


# a pooled PostgreSQL connection that has been idle longer than this is pinged before it is used
PING_AFTER_IDLE_SECONDS = 2.0


def _ping_when_idle(pool) -> None:
    """Before a pooled connection is used, make sure the server still has it (it restarted, or a
    proxy dropped an idle connection) if it has lain idle over PING_AFTER_IDLE_SECONDS; a dead
    one is replaced at once, unseen by the caller. One used moments ago is not pinged: SQLAlchemy's
    pool_pre_ping pinged at every checkout, a BEGIN, a query and a ROLLBACK (three round trips)
    for every read a busy worker made. If the server drops a connection within that window, the
    statement fails, and SQLAlchemy then replaces every connection of the pool older than the
    failure; the worker retries what the failed transaction held, as after any database error."""

    @event.listens_for(pool, "connect")
    @event.listens_for(pool, "checkin")
    def used(_dbapi_connection, record) -> None:
        record.info["used_at"] = time.monotonic()

    @event.listens_for(pool, "checkout")
    def ping(dbapi_connection, record, _proxy) -> None:
        if time.monotonic() - record.info.get("used_at", 0.0) > PING_AFTER_IDLE_SECONDS:
            try:
                dbapi_connection.ping()
            except Exception as exc:
                raise DisconnectionError(f"a pooled connection was gone: {exc}") from exc


def open_configured(settings: DatabaseSettings) -> Database:
    """The engine for the configured database (no connection is made yet)."""
    return open_database(settings.url, schema=settings.schema, pool_size=settings.pool_size,
                         busy_timeout_ms=settings.sqlite_busy_timeout_ms)


async def ping(db: Database) -> None:
    """Connect and read the schema table (SQLite: so that a damaged file shows here); raise
    DatabaseUnavailable with one line saying what is wrong if that fails."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT count(*) FROM sqlite_master" if db.is_sqlite else "SELECT 1"))
    except (OSError, SQLAlchemyError, DBAPIError) as exc:
        raise DatabaseUnavailable(_unavailable(db, exc)) from exc


def _unavailable(db: Database, exc: BaseException) -> str:
    url = db.engine.url
    if db.is_sqlite:
        if _damaged_sqlite(exc):
            return unusable_sqlite(url.database or "", describe_error(exc))
        return describe_error(exc)
    where = f"PostgreSQL at {url.host or 'localhost'}:{url.port or 5432}"
    refused = _os_error(exc)
    if refused is not None:
        return (f"cannot connect to {where}: {_os_reason(refused)}; check [database] url and that "
                "PostgreSQL is running and reachable from here")
    return f"{where}: {describe_error(exc)}"


def unusable_sqlite(path: str, why: str) -> str:
    return (f"{path} is not a usable Rounds database ({why}); restore it from a backup, or move it "
            "aside to start a new instance (new keys, a new identity)")


def check_sqlite_file(path: Path) -> None:
    """Refuse a database file that exists but is empty. SQLite would take it for a new database,
    and `init` would then make a new instance (new keys, new identity) where one may have been:
    a file emptied by a failed copy or a full disk must be restored, not re-initialised."""
    wal = path.with_name(path.name + "-wal")
    if path.is_file() and path.stat().st_size == 0 and not (wal.is_file() and wal.stat().st_size > 0):
        raise DatabaseUnavailable(unusable_sqlite(str(path), "the file is empty"))


def _damaged_sqlite(exc: BaseException) -> bool:
    """A file that is not an SQLite database, or one that is cut short or corrupt (as opposed to
    one that is locked or cannot be opened, which are OperationalErrors)."""
    inner = getattr(exc, "orig", None) or exc
    return isinstance(inner, sqlite3.DatabaseError) and not isinstance(inner, sqlite3.OperationalError)


def _os_error(exc: BaseException) -> OSError | None:
    """The network error behind a failed connection, wherever the driver put it."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, OSError):
            return current
        seen.add(id(current))
        current = getattr(current, "orig", None) or current.__cause__ or current.__context__
    return None


def _os_reason(exc: OSError) -> str:
    """What went wrong, in words, without errno numbers."""
    if isinstance(exc, socket.gaierror):
        return "the host name cannot be resolved"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if exc.strerror:
        return exc.strerror[0].lower() + exc.strerror[1:]
    return "the connection failed"


def valid_schema(schema: str) -> bool:
    return bool(_SCHEMA_RE.match(schema))


async def ensure_schema(db: Database, schema: str) -> None:
    """Create the PostgreSQL schema if it is missing (no-op on SQLite or without a schema)."""
    if db.is_sqlite or not schema:
        return
    if not valid_schema(schema):
        raise ValueError(f"invalid PostgreSQL schema name {schema!r}")
    async with db.engine.begin() as conn:
        await conn.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))


async def claim_node(db: Database) -> None:
    """Give this process an id node no other live process has (PostgreSQL: from a sequence;
    SQLite has one writing process, so node 0)."""
    if db.is_sqlite:
        set_node(0)
        return
    async with db.engine.begin() as conn:
        set_node(int((await conn.execute(text("SELECT nextval('id_node_seq')"))).scalar_one()))


# PostgreSQL's deadlock detected and serialization failure: it failed one statement to let another
# transaction go on; the same work tried again a moment later usually passes
_CONFLICTS = frozenset({"40P01", "40001"})


def lost_a_conflict(exc: BaseException) -> bool:
    """Whether a database error is a lock conflict the database settled by failing this statement."""
    return getattr(getattr(exc, "orig", None), "sqlstate", None) in _CONFLICTS


def describe_error(exc: BaseException) -> str:
    """One line from a driver error, without SQLAlchemy's background links."""
    inner = getattr(exc, "orig", None) or exc
    message = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return message
