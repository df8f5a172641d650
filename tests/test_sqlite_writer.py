"""storage.db on SQLite: a transaction that holds the write lock (`take_write_lock`) runs its
statements on the event loop's thread, with no hop to aiosqlite's thread; every other statement
(the BEGIN that waits for the lock, a commit that may checkpoint, a transaction that never took
the lock and may wait in SQLite's busy handler) still runs on aiosqlite's thread, so the event
loop never blocks on another connection.

These are SQLite's own rules (the suite's PostgreSQL run has nothing to check here)."""

from __future__ import annotations

import asyncio
import threading

import pytest
from sqlalchemy import event, text

from storage.db import open_database, savepoint, take_write_lock


@pytest.fixture
async def db(tmp_path):
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}")

    @event.listens_for(database.engine.sync_engine, "connect")
    def thread_ident(dbapi_connection, _record) -> None:
        dbapi_connection.create_function("thread_ident", 0, threading.get_ident)

    async with database.sessions.begin() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER PRIMARY KEY)"))
    yield database
    await database.dispose()


async def _thread(session) -> int:
    return await session.scalar(text("SELECT thread_ident()"))


async def test_statements_under_the_write_lock_run_on_the_loop_thread(db):
    loop_thread = threading.get_ident()
    async with db.sessions.begin() as session:
        await take_write_lock(session)
        assert await _thread(session) == loop_thread
        await session.execute(text("INSERT INTO t VALUES (1)"))
        async with savepoint(session):
            assert await _thread(session) == loop_thread
    # the commit went back to aiosqlite's thread: the next transaction starts there
    async with db.sessions.begin() as session:
        assert await _thread(session) != loop_thread
        assert await session.scalar(text("SELECT count(*) FROM t")) == 1


async def test_a_transaction_without_the_write_lock_stays_on_the_driver_thread(db):
    loop_thread = threading.get_ident()
    async with db.sessions.begin() as session:
        await session.execute(text("INSERT INTO t VALUES (2)"))
        assert await _thread(session) != loop_thread


async def test_a_rollback_also_hands_the_connection_back_to_its_thread(db):
    loop_thread = threading.get_ident()
    with pytest.raises(RuntimeError):
        async with db.sessions.begin() as session:
            await take_write_lock(session)
            await session.execute(text("INSERT INTO t VALUES (3)"))
            raise RuntimeError("the block fails")
    async with db.sessions.begin() as session:
        assert await _thread(session) != loop_thread
        assert await session.scalar(text("SELECT count(*) FROM t")) == 0


async def test_another_writer_waits_in_the_busy_handler_off_the_loop(db, tmp_path):
    """While a second connection holds the write lock, BEGIN IMMEDIATE waits on aiosqlite's
    thread: the loop goes on meanwhile, and the lock is taken once the other commits."""
    other = open_database(f"sqlite+aiosqlite:///{tmp_path / 'writer.db'}")
    ticks = 0
    try:
        async with other.sessions.begin() as holder:
            await take_write_lock(holder)
            await holder.execute(text("INSERT INTO t VALUES (4)"))

            async def tick():
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            ticker = asyncio.create_task(tick())
            waiter = asyncio.create_task(_take_and_insert(db))
            await asyncio.sleep(0.3)
            assert not waiter.done()  # it waits for the lock...
            assert ticks >= 5  # ...and the loop is not blocked meanwhile
        await asyncio.wait_for(waiter, 5)
        ticker.cancel()
    finally:
        await other.dispose()
    async with db.sessions.begin() as session:
        assert await session.scalar(text("SELECT count(*) FROM t")) == 2


async def _take_and_insert(db) -> None:
    async with db.sessions.begin() as session:
        await take_write_lock(session)
        await session.execute(text("INSERT INTO t VALUES (5)"))

