"""The PostgreSQL pool keeps the connections it opened: under a steady load wider than
`pool_size` (a busy inbox worker's chains read at once), no connection is opened again and again."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, text

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
