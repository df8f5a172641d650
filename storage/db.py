"""Engine and session factory for SQLite (embedded default) and PostgreSQL.

SQLite runs in WAL mode with a busy timeout and foreign keys on, set on every new connection.
PostgreSQL may be given a schema, which becomes the connection's search_path; that is how
several instances (or test runs) share one database.

`Database.read` runs a whole read, written as a synchronous function of a `Session`, in one go.
On SQLite that is one hop to a reader thread with its own read-only connection: through
aiosqlite every query costs several thread hops (about 0.2 ms each here, against 0.08 ms for the
same query on a plain connection), which dominated a rendered timeline page of a dozen queries.
On PostgreSQL the same function runs on an async session through SQLAlchemy's greenlet bridge.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import Engine, Result, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import Session

from storage.ids import set_node

T = TypeVar("T")
_SCHEMA_RE = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def core_rows(session: Session, statement, params: dict) -> Result:
    """A Core statement (plain columns, no ORM entities) run on the session's own connection:
    the ORM's execution path cost about 0.06 ms more per statement, a fifth of a rendered page.
    Pending ORM changes are flushed first, as Session.execute would, so a rendering inside a
    write transaction sees what it wrote."""
    session.flush()
    return session.connection().execute(statement, params)


class DatabaseUnavailable(Exception):
    """The database cannot be reached or opened; the message says which and why."""


class _SqliteReader:
    """Read-only connections to the SQLite file, used from a few threads of their own."""

    def __init__(self, url: str, threads: int, busy_timeout_ms: int) -> None:
        self.engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite"), pool_size=threads, max_overflow=0,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", _reader_setup(busy_timeout_ms))
        event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN"))
        self._threads = ThreadPoolExecutor(threads, thread_name_prefix="sqlite-read")

    async def run(self, fn: Callable[[Session], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._threads, self._call, fn)

    def _call(self, fn: Callable[[Session], T]) -> T:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            return fn(session)  # one transaction, so one snapshot, for the whole read

    def dispose(self) -> None:
        self._threads.shutdown(wait=True)
        self.engine.dispose()


@dataclass(frozen=True)
class Database:
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    schema: str = ""
    reader: _SqliteReader | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    async def read(self, fn: Callable[[Session], T]) -> T:
        """`fn(session)`, a read that writes nothing, in one transaction (see the module docstring)."""
        if self.reader is not None:
            return await self.reader.run(fn)
        async with self.sessions() as session:
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
    reader = None
    if parsed.get_backend_name() == "sqlite":
        engine = create_async_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        event.listen(engine.sync_engine, "connect", _sqlite_pragmas(busy_timeout_ms))
        reader = _SqliteReader(url, pool_size, busy_timeout_ms)
    else:
        if schema and not _SCHEMA_RE.match(schema):
            raise ValueError(f"invalid PostgreSQL schema name {schema!r}")
        connect_args = {"server_settings": {"search_path": schema}} if schema else {}
        engine = create_async_engine(
            url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True,
            connect_args=connect_args,
        )
    return Database(engine, async_sessionmaker(engine, expire_on_commit=False), schema, reader)


def _sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    return on_connect


def _reader_setup(busy_timeout_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions begin where SQLAlchemy says (BEGIN above)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA query_only=ON")  # a reader never writes, by construction
        cursor.close()

    return on_connect


async def ping(db: Database) -> None:
    """Run a trivial query; raise DatabaseUnavailable with the reason if it fails."""
    try:
        async with db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    except (OSError, SQLAlchemyError, DBAPIError) as exc:
        raise DatabaseUnavailable(describe_error(exc)) from exc


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


def describe_error(exc: BaseException) -> str:
    """One line from a driver error, without SQLAlchemy's background links."""
    inner = getattr(exc, "orig", None) or exc
    message = str(inner).strip().splitlines()[0] if str(inner).strip() else type(inner).__name__
    return message
