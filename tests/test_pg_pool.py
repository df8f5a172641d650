"""PostgreSQL connections. The pool keeps the connections it opened: under a steady load wider
than `pool_size` (a busy inbox worker's chains read at once), none is opened again and again. A
connection is pinged before use only after lying idle (`storage.db.PING_AFTER_IDLE_SECONDS`), and
one the server dropped meanwhile is replaced unseen. A read (`Database.read`) runs outside a
transaction; the writes on the same connection after it do not."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_connection

from storage import db as db_module
from storage.db import open_database
from tests.conftest import DATABASE_URL

pytestmark = pytest.mark.skipif(not DATABASE_URL, reason="the connection pool is PostgreSQL's (CI sets "
                                                          "ROUNDS_TEST_DATABASE_URL)")


async def test_connections_opened_under_load_stay_open_for_the_next_load():
    db = open_database(DATABASE_URL, pool_size=2)
    opened = []
    event.listen(db.engine.sync_engine.pool, "connect", lambda *_: opened.append(1))
    gate = asyncio.Barrier(4)

    async def read() -> None:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))
            await gate.wait()  # the four hold a connection each at once

    try:
        for _ in range(3):  # three loads of four readers at once
            await asyncio.gather(*(read() for _ in range(4)))
        assert len(opened) == 4, f"{len(opened)} connections opened for three loads of four readers"
    finally:
        await db.dispose()


async def test_a_reader_beyond_the_pool_waits_for_a_connection_instead_of_failing():
    db = open_database(DATABASE_URL, pool_size=1)  # two connections at most
    held = asyncio.Event()

    async def hold() -> None:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))
            held.set()
            await asyncio.sleep(0.2)

    async def read() -> int:
        await held.wait()
        async with db.sessions() as session:
            return await session.scalar(text("SELECT 1"))

    try:
        _, _, *answers = await asyncio.gather(hold(), hold(), read(), read())
        assert answers == [1, 1]
        assert db.engine.sync_engine.pool.checkedin() == 2
    finally:
        await db.dispose()


async def _backend_pid(db) -> int:
    async with db.sessions() as session:
        return await session.scalar(text("SELECT pg_backend_pid()"))


async def test_a_connection_the_server_dropped_while_idle_is_replaced_before_it_is_used(monkeypatch):
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)  # every connection has lain idle
    db, other = open_database(DATABASE_URL, pool_size=1), open_database(DATABASE_URL, pool_size=1)
    try:
        first = await _backend_pid(db)
        async with other.sessions() as session:  # the server (a restart, an admin) ends it
            assert await session.scalar(text("SELECT pg_terminate_backend(:pid, 10000)"), {"pid": first})
        assert await _backend_pid(db) != first  # no error: a new connection took its place
    finally:
        await db.dispose()
        await other.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged_and_an_idle_one_is(monkeypatch):
    pings = []
    ping = AsyncAdapt_asyncpg_connection.ping
    monkeypatch.setattr(AsyncAdapt_asyncpg_connection, "ping", lambda self: (pings.append(1), ping(self))[1])
    monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 60.0)  # however slow this machine is
    db = open_database(DATABASE_URL, pool_size=1)
    try:
        for _ in range(3):
            await _backend_pid(db)
        assert pings == []  # one connection, used again at once: three round trips saved each time
        monkeypatch.setattr(db_module, "PING_AFTER_IDLE_SECONDS", 0.0)
        await _backend_pid(db)
        assert pings == [1]
    finally:
        await db.dispose()


def _in_transaction(session) -> tuple[int, bool]:
    pid = session.scalar(text("SELECT pg_backend_pid()"))
    return pid, session.connection().connection.driver_connection.is_in_transaction()


async def test_a_read_sends_no_begin_and_the_write_after_it_on_that_connection_is_a_transaction():
    db = open_database(DATABASE_URL, pool_size=1)
    try:
        for _ in range(2):
            read_pid, read_in_transaction = await db.read(_in_transaction)
            assert not read_in_transaction  # no BEGIN and no ROLLBACK: two round trips fewer per read
            async with db.sessions() as session, session.begin():
                write_pid, write_in_transaction = await session.run_sync(_in_transaction)
            assert (write_pid, write_in_transaction) == (read_pid, True)  # the same connection, back to BEGIN
    finally:
        await db.dispose()
