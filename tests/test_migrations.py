"""Migrations run from empty to head on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from storage.db import ensure_schema, open_database
from storage.migrate import alembic_config, pending_revisions, upgrade_to_head
from storage.models import Base
from tests.conftest import DATABASE_URL
from tests.instances import drop_schema

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.skipif(
    not DATABASE_URL, reason="PostgreSQL runs when ROUNDS_TEST_DATABASE_URL is set (CI sets it)"))]


@pytest.fixture(params=BACKENDS)
async def empty_db(request, tmp_path):
    if request.param == "sqlite":
        db = open_database(f"sqlite+aiosqlite:///{tmp_path}/m.db")
        yield db
        await db.dispose()
    else:
        schema = f"t_{uuid.uuid4().hex[:16]}"
        db = open_database(DATABASE_URL, schema=schema)
        await ensure_schema(db, schema)
        yield db
        await db.dispose()
        await drop_schema(DATABASE_URL, schema)


def _diff(sync_conn):
    return compare_metadata(MigrationContext.configure(sync_conn, opts={"compare_type": True}), Base.metadata)


def _tables(sync_conn):
    return set(inspect(sync_conn).get_table_names()) - {"alembic_version"}


async def test_empty_to_head_matches_models_and_downgrades(empty_db):
    # Given an empty database, When migrated to head
    assert await pending_revisions(empty_db)
    await upgrade_to_head(empty_db)
    # Then nothing is pending and the schema is exactly what the models declare
    assert await pending_revisions(empty_db) == []
    async with empty_db.engine.connect() as conn:
        assert await conn.run_sync(_diff) == []
        assert await conn.run_sync(_tables) == set(Base.metadata.tables)
    # And running it again is a no-op; downgrading to base empties it; upgrading again works
    await upgrade_to_head(empty_db)
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "base"))
        assert await conn.run_sync(_tables) == set()
    await upgrade_to_head(empty_db)
    assert await pending_revisions(empty_db) == []


async def test_sqlite_runs_in_wal_mode_with_busy_timeout(tmp_path):
    db = open_database(f"sqlite+aiosqlite:///{tmp_path}/w.db", busy_timeout_ms=1234)
    try:
        async with db.engine.connect() as conn:
            mode = (await conn.exec_driver_sql("PRAGMA journal_mode")).scalar()
            timeout = (await conn.exec_driver_sql("PRAGMA busy_timeout")).scalar()
            foreign_keys = (await conn.exec_driver_sql("PRAGMA foreign_keys")).scalar()
    finally:
        await db.dispose()
    assert (mode, timeout, foreign_keys) == ("wal", 1234, 1)


async def test_upgrades_keep_existing_rows(empty_db):
    # Given a database at the first revision with an actor and an account in it
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "dc68d5c8cce9"))
        await conn.execute(text(
            "INSERT INTO actors (id, uri, local, type, username, domain, display_name, summary, inbox, key_id,"
            " public_key_pem, manually_approves_followers, discoverable, published, updated)"
            " VALUES (1, 'https://x.example/users/a', true, 'Person', 'a', 'x.example', '', '', 'i', 'k', 'p',"
            " false, true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"))
        await conn.execute(text(
            "INSERT INTO accounts (id, actor_id, username, is_admin, disabled, created_at)"
            " VALUES (2, 1, 'a', false, false, '2026-01-01 00:00:00')"))
    # When it is upgraded to head, Then the rows are still there with the new columns' defaults
    await upgrade_to_head(empty_db)
    async with empty_db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT username, note_source FROM accounts"))).one()
    assert tuple(row) == ("a", "")
