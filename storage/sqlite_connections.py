"""SQLite's connections: the writer's, which runs a transaction holding the write lock on the
event loop's thread (`SqliteConnection`), and the readers', a few threads with read-only
connections of their own (`SqliteReader`), with what each sets on a new connection.
`storage.db` makes the engines from these; nothing else uses them."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import aiosqlite
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from storage.text import searchable

T = TypeVar("T")


class SqliteConnection(aiosqlite.Connection):
    """aiosqlite's connection runs every call on a thread of its own, and through SQLAlchemy one
    statement costs four thread hops (cursor, execute, fetch, close): about 0.5 ms here, against
    0.1 ms for the same statement on a plain connection. Making and closing a cursor never wait,
    so they always run on the caller's thread (`_never_waits`). While `inline` is set, every call
    does. `begin_immediate` (under storage.db.take_write_lock) sets it once the transaction holds SQLite's write
    lock, when no statement can wait for another connection (WAL: readers never block a writer);
    the commit or rollback that ends the transaction clears it and goes back to the thread, since
    a commit may checkpoint the log to disk."""

    inline = False

    async def _execute(self, fn, *args, **kwargs):
        if self.inline or self._never_waits(fn):
            return fn(*args, **kwargs)
        return await super()._execute(fn, *args, **kwargs)

    def _never_waits(self, fn) -> bool:
        """Calls that take no lock and touch no file, which run on the caller's thread at any time:
        making a cursor, closing one, and the rollback the pool runs on a connection it gets back
        with no transaction open (a no-op). Three of a write transaction's five thread hops."""
        owner = getattr(fn, "__self__", None)
        if isinstance(owner, sqlite3.Cursor):
            return fn.__name__ == "close"
        if owner is self._connection and owner is not None:
            return fn.__name__ == "cursor" or (fn.__name__ == "rollback" and not owner.in_transaction)
        return False

    async def commit(self) -> None:
        self.inline = False
        await super().commit()

    async def rollback(self) -> None:
        self.inline = False
        await super().rollback()


def sqlite_connector(path: str, timeout: float):
    """The writer engine's `async_creator`: a `SqliteConnection`, which its thread and the event
    loop's thread take turns on (never at once: SQLAlchemy uses a connection from one task)."""
    async def connect() -> SqliteConnection:
        connection = SqliteConnection(partial(sqlite3.connect, path, timeout=timeout, check_same_thread=False), 64)
        connection._thread.daemon = True
        return await connection

    return connect


class SqliteReader:
    """Read-only connections to the SQLite file, used from a few threads of their own."""

    def __init__(self, url: str, threads: int, busy_timeout_ms: int) -> None:
        self.engine: Engine = create_engine(
            make_url(url).set(drivername="sqlite"), pool_size=threads, max_overflow=0,
            connect_args={"timeout": busy_timeout_ms / 1000, "check_same_thread": False},
        )
        event.listen(self.engine, "connect", reader_setup(busy_timeout_ms))
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


def sqlite_pragmas(busy_timeout_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        add_search_function(dbapi_connection)

    return on_connect


def add_search_function(dbapi_connection) -> None:
    """The SQL function the search index's triggers call on SQLite (storage.text.searchable)."""
    dbapi_connection.create_function("rounds_search_text", 1, searchable, deterministic=True)


def reader_setup(busy_timeout_ms: int):
    def on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # transactions begin where SQLAlchemy says (SqliteReader's BEGIN)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA query_only=ON")  # a reader never writes, by construction
        cursor.close()

    return on_connect


def begin_immediate(session: Session) -> None:
    """Take the write lock (BEGIN IMMEDIATE); the transaction's statements then run inline."""
    connection = session.connection()
    connection.exec_driver_sql("BEGIN IMMEDIATE")
    connection.connection.driver_connection.inline = True
