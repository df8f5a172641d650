"""Savepoints (storage.db): what a block in `savepoint` wrote is undone alone when it raises, the
ORM objects it changed are expired, and the transaction goes on. The engine sends savepoints as
plain SQL named after their depth (storage.savepoints.plain_savepoints), so the same few statement texts
recur; ending a savepoint ends those opened inside it, and the right one is rolled back to
whichever of the open ones SQLAlchemy ends. On PostgreSQL a RELEASE is sent with the next
SAVEPOINT, in one message, or not at all. On SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, inspect, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import registry

from storage import savepoints
from storage.db import savepoint

metadata = MetaData()
rows = Table("savepoint_rows", metadata, Column("id", Integer, primary_key=True), Column("note", String(20)))


class Row:
    pass


registry(metadata=metadata).map_imperatively(Row, rows)


@pytest.fixture
async def db(instances):
    instance = await instances.start()
    async with instance.db.engine.begin() as connection:
        await connection.run_sync(metadata.create_all)
    return instance.db


async def _ids(db) -> list[int]:
    async with db.sessions() as session:
        return list(await session.scalars(select(rows.c.id).order_by(rows.c.id)))


@pytest.fixture
def sent(db, monkeypatch) -> list[str]:
    """The savepoint statements the engine sends, each message as one text."""
    texts: list[str] = []
    event.listen(db.engine.sync_engine, "before_cursor_execute",
                 lambda conn, cursor, sql, *rest: texts.append(sql) if "SAVEPOINT" in sql else None)
    together = savepoints.send_together
    monkeypatch.setattr(savepoints, "send_together", lambda conn, sql: (texts.append(sql), together(conn, sql)))
    return texts


async def test_a_failing_block_is_undone_alone_at_any_depth(db, sent):
    async with db.sessions.begin() as session:
        await session.execute(rows.insert().values(id=1))
        for n in range(3):
            async with savepoint(session):
                await session.execute(rows.insert().values(id=10 + n))
                with pytest.raises(KeyError):
                    async with savepoint(session):
                        await session.execute(rows.insert().values(id=20 + n))
                        raise KeyError
                async with savepoint(session):
                    await session.execute(rows.insert().values(id=30 + n))
            with pytest.raises(KeyError):
                async with savepoint(session):
                    await session.execute(rows.insert().values(id=40 + n))
                    raise KeyError
    assert await _ids(db) == [1, 10, 11, 12, 30, 31, 32]
    if db.is_sqlite:
        assert set(sent) == {"SAVEPOINT rounds_sp_1", "SAVEPOINT rounds_sp_2", "RELEASE SAVEPOINT rounds_sp_1",
                             "RELEASE SAVEPOINT rounds_sp_2", "ROLLBACK TO SAVEPOINT rounds_sp_1",
                             "ROLLBACK TO SAVEPOINT rounds_sp_2"}
    else:  # a RELEASE goes with the next SAVEPOINT, or not at all
        assert set(sent) == {"SAVEPOINT rounds_sp_1", "SAVEPOINT rounds_sp_2", "ROLLBACK TO SAVEPOINT rounds_sp_1",
                             "ROLLBACK TO SAVEPOINT rounds_sp_2", "RELEASE SAVEPOINT rounds_sp_1; SAVEPOINT rounds_sp_1"}


async def test_items_each_in_a_savepoint_send_one_message_each(db, sent):
    """The inbox worker's shape: a savepoint for each item, one after the other, then the commit;
    what the last one wrote is committed though its RELEASE was never sent (PostgreSQL)."""
    async with db.sessions.begin() as session:
        for n in range(4):
            async with savepoint(session):
                await session.execute(rows.insert().values(id=n))
    assert await _ids(db) == [0, 1, 2, 3]
    assert len(sent) == (8 if db.is_sqlite else 4)


async def test_a_block_failing_after_one_inside_it_ended_and_transactions_in_a_row(db):
    """The RELEASE of a block inside a failing one is not sent after the failing one's ROLLBACK
    TO (it ended it); nor is one left when a transaction ends sent in the next, on the same
    connection."""
    async with db.engine.connect() as connection:
        for n in range(2):
            async with connection.begin():
                with pytest.raises(KeyError):
                    async with connection.begin_nested():
                        async with connection.begin_nested():
                            await connection.execute(rows.insert().values(id=10 * n + 1))
                        raise KeyError
                async with connection.begin_nested():
                    await connection.execute(rows.insert().values(id=10 * n + 2))
    assert await _ids(db) == [2, 12]


async def test_a_release_sent_into_a_failed_transaction_fails_as_any_statement_would(db):
    """PostgreSQL: the RELEASE and SAVEPOINT sent together, in a transaction a failed statement
    left unusable, raise SQLAlchemy's DBAPIError, as a statement would (and the pool is told of a
    lost connection the same way)."""
    if db.is_sqlite:
        pytest.skip("PostgreSQL's way of sending savepoints")
    async with db.engine.connect() as connection:
        await connection.begin()
        async with connection.begin_nested():
            await connection.execute(rows.insert().values(id=1))
        with pytest.raises(DBAPIError):
            await connection.execute(text("SELECT 1 / 0"))
        with pytest.raises(DBAPIError, match="current transaction is aborted"):
            await connection.begin_nested()
        await connection.rollback()
    assert await _ids(db) == []


async def test_ending_an_outer_savepoint_ends_those_inside_it(db):
    """Core lets an outer savepoint end while one opened inside it is still open: a rollback to
    the outer one undoes the inner one's rows too, and a release keeps both."""
    async with db.engine.begin() as connection:
        outer = await connection.begin_nested()
        await connection.execute(rows.insert().values(id=1))
        await connection.begin_nested()
        await connection.execute(rows.insert().values(id=2))
        with pytest.warns(Warning):  # SQLAlchemy's own: the inner one was not ended first
            await outer.rollback()
        await connection.execute(rows.insert().values(id=3))
        outer = await connection.begin_nested()
        await connection.execute(rows.insert().values(id=4))
        await connection.begin_nested()
        await connection.execute(rows.insert().values(id=5))
        with pytest.warns(Warning):
            await outer.commit()
        async with connection.begin_nested():  # depths go on from there
            await connection.execute(rows.insert().values(id=6))
        with pytest.raises(KeyError):
            async with connection.begin_nested():
                await connection.execute(rows.insert().values(id=7))
                raise KeyError
    assert await _ids(db) == [3, 4, 5, 6]


async def test_what_a_failing_block_changed_is_expired(db):
    async with db.sessions.begin() as session:
        session.add(Row(id=1, note="before"))
        await session.flush()
        row = await session.get(Row, 1)
        with pytest.raises(KeyError):
            async with savepoint(session):
                row.note = "changed"
                session.add(Row(id=2, note="new"))
                await session.flush()
                raise KeyError
        assert "note" in inspect(row).expired_attributes  # not used stale: loaded afresh
        assert await session.scalar(select(Row.note).where(Row.id == 1)) == "before"
        assert await session.get(Row, 2) is None
        assert (await session.execute(text("SELECT count(*) FROM savepoint_rows"))).scalar_one() == 1
