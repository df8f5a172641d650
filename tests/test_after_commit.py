"""The one after-commit mechanism (storage.db.after_commit): callbacks run once a transaction
has committed, in order, awaited when they are coroutines; never after a rollback; and a failing
one is logged without undoing the commit or stopping the others."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import text

from storage.db import after_commit, open_database


@pytest.fixture
async def db(tmp_path):
    database = open_database(f"sqlite+aiosqlite:///{tmp_path / 'commit.db'}")
    yield database
    await database.dispose()


async def test_callbacks_run_after_the_commit_in_order(db):
    ran = []

    async def later():
        ran.append("async")

    async with db.sessions.begin() as session:
        await session.execute(text("CREATE TABLE t (x INTEGER)"))
        after_commit(session, lambda: ran.append("sync"))
        after_commit(session, later)
        assert ran == []
    assert ran == ["sync", "async"]


async def test_an_explicit_commit_runs_them_too(db):
    ran = []
    async with db.sessions() as session:
        await session.execute(text("SELECT 1"))
        after_commit(session, lambda: ran.append(1))
        await session.commit()
        assert ran == [1]


async def test_a_rollback_drops_them(db):
    ran = []
    with pytest.raises(RuntimeError):
        async with db.sessions.begin() as session:
            after_commit(session, lambda: ran.append(1))
            raise RuntimeError("the write fails")
    async with db.sessions() as session:
        after_commit(session, lambda: ran.append(2))
        await session.rollback()
        await session.commit()
    assert ran == []


async def test_a_failing_callback_is_logged_and_the_others_run(db, caplog):
    ran = []

    def broken():
        raise ValueError("no subscriber")

    with caplog.at_level(logging.ERROR, logger="storage.db"):
        async with db.sessions.begin() as session:
            after_commit(session, broken)
            after_commit(session, lambda: ran.append(1))
    assert ran == [1]
    assert "after-commit callback failed" in caplog.text
