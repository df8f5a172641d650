"""Migrations run from empty to head on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import uuid

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

from storage.db import ensure_schema, open_database
from storage.migrate import alembic_config, at_head, head_revision, pending_revisions, upgrade_to_head
from storage.models import Base
from storage.search import SQLITE_INDEX_TABLES, VECTOR_COLUMN
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


def _declared(name, kind, _parent) -> bool:
    """Whether the comparison covers a name: all but the search index, which the models do not
    declare (storage.search)."""
    return not (kind == "table" and name in SQLITE_INDEX_TABLES or kind == "column" and name == VECTOR_COLUMN
                or kind == "index" and name == "ix_objects_search_vector")


def _diff(sync_conn):
    return compare_metadata(MigrationContext.configure(
        sync_conn, opts={"compare_type": True, "include_name": _declared}), Base.metadata)


def _tables(sync_conn):
    return set(inspect(sync_conn).get_table_names()) - {"alembic_version"} - SQLITE_INDEX_TABLES


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


def _actor(actor_id: int) -> str:
    return (
        "INSERT INTO actors (id, uri, local, type, username, domain, display_name, summary, inbox, key_id,"
        " public_key_pem, manually_approves_followers, discoverable, published, updated)"
        f" VALUES ({actor_id}, 'https://x.example/users/u{actor_id}', true, 'Person', 'u{actor_id}', 'x.example',"
        f" '', '', 'i', 'k{actor_id}', 'p', false, true, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")


def _post(post_id: int, actor_id: int, deleted: bool = False) -> str:
    deleted_at = "'2026-01-02 00:00:00'" if deleted else "NULL"
    return (
        "INSERT INTO objects (id, uri, type, actor_id, local, visibility, content, summary, sensitive, published,"
        f" deleted_at) VALUES ({post_id}, 'https://x.example/p/{post_id}', 'Note', {actor_id}, true, 'public', '',"
        f" '', false, '2026-01-01 00:00:00', {deleted_at})")


def _follow(follow_id: int, follower: int, followee: int, state: str) -> str:
    return (
        "INSERT INTO follows (id, follower_id, followee_id, state, uri, created_at, updated_at)"
        f" VALUES ({follow_id}, {follower}, {followee}, '{state}', 'https://x.example/f/{follow_id}',"
        " '2026-01-01 00:00:00', '2026-01-01 00:00:00')")


COUNTS = "SELECT followers_count, following_count, statuses_count, last_status_id FROM actors WHERE id = :id"


async def test_upgrades_keep_existing_rows(empty_db):
    # Given a database at the first revision with two actors, an account, a follow and posts in it
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "dc68d5c8cce9"))
        for statement in (_actor(1), _actor(2), _follow(10, 2, 1, "accepted"), _follow(11, 1, 2, "pending"),
                          _post(20, 1), _post(21, 1), _post(22, 1, deleted=True)):
            await conn.execute(text(statement))
        await conn.execute(text(
            "INSERT INTO accounts (id, actor_id, username, is_admin, disabled, created_at)"
            " VALUES (2, 1, 'a', false, false, '2026-01-01 00:00:00')"))
    # When it is upgraded to head, Then the rows are still there with the new columns' defaults
    await upgrade_to_head(empty_db)
    async with empty_db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT username, note_source FROM accounts"))).one()
        # and the account counters were counted from the rows already there (live posts, accepted follows)
        assert tuple((await conn.execute(text(COUNTS), {"id": 1})).one()) == (1, 0, 2, 21)
        assert tuple((await conn.execute(text(COUNTS), {"id": 2})).one()) == (0, 1, 0, None)
    assert tuple(row) == ("a", "")


async def test_account_counters_follow_every_write(empty_db):
    """The triggers keep the counters whatever writes the rows: ORM, Core or plain SQL."""
    await upgrade_to_head(empty_db)

    async def counts(actor_id: int) -> tuple:
        async with empty_db.engine.connect() as conn:
            return tuple((await conn.execute(text(COUNTS), {"id": actor_id})).one())

    async def run(*statements: str) -> None:
        async with empty_db.engine.begin() as conn:
            for statement in statements:
                await conn.execute(text(statement))

    await run(_actor(1), _actor(2), _actor(3))
    # posts count while live; a tombstone stops counting, and so does a deleted row
    await run(_post(20, 1), _post(21, 1), _post(22, 1, deleted=True))
    assert await counts(1) == (0, 0, 2, 21)
    await run("UPDATE objects SET deleted_at = '2026-01-03 00:00:00' WHERE id = 21")
    await run("UPDATE objects SET content = 'edited' WHERE id = 20")  # other columns change nothing
    assert await counts(1) == (0, 0, 1, 21)
    await run("DELETE FROM objects WHERE id = 20")
    assert (await counts(1))[2] == 0
    # follows count once accepted, and stop when undone, rejected or deleted
    await run(_follow(30, 2, 1, "pending"), _follow(31, 3, 1, "accepted"))
    assert (await counts(1), await counts(2), await counts(3)) == ((1, 0, 0, 21), (0, 0, 0, None), (0, 1, 0, None))
    await run("UPDATE follows SET state = 'accepted' WHERE id = 30")
    assert (await counts(1))[:2] == (2, 0) and (await counts(2))[:2] == (0, 1)
    await run("UPDATE follows SET state = 'undone' WHERE id = 30", "DELETE FROM follows WHERE id = 31")
    assert [(await counts(n))[:2] for n in (1, 2, 3)] == [(0, 0), (0, 0), (0, 0)]
    # deleting an actor cascades to its posts and follows, and the others' counters follow
    await run(_follow(32, 1, 2, "accepted"), _post(23, 2))
    assert (await counts(2))[:3] == (1, 0, 1)
    await run("DELETE FROM actors WHERE id = 1")
    assert (await counts(2))[:3] == (0, 0, 1)


async def test_the_head_read_from_the_files_is_alembics_and_at_head_follows_the_database(empty_db):
    """A server starting on an up-to-date database asks `at_head`, which reads the files and the
    alembic_version row without loading Alembic: it must agree with Alembic's own view."""
    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert not await at_head(empty_db)  # never migrated: no alembic_version table
    await upgrade_to_head(empty_db)
    assert await at_head(empty_db)
    async with empty_db.engine.begin() as conn:  # one step behind
        await conn.run_sync(lambda sync_conn: command.downgrade(alembic_config(sync_conn), "-1"))
    assert not await at_head(empty_db)
    assert await pending_revisions(empty_db) == [head_revision()]


async def test_a_communitys_profile_address_becomes_its_page(empty_db):
    # Given a database before the change, with two communities' Groups and a person, each at
    # /@name (the second under a public_url that has the same text in it)
    urls_before = ["https://x.example/@u1", "https://x.example/@u2", "https://x.example/@u3/@u3"]
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.upgrade(alembic_config(c), "e1f3a5c7b9d2"))
        for actor_id, url in enumerate(urls_before, 1):
            await conn.execute(text(_actor(actor_id)))
            await conn.execute(text("UPDATE actors SET url = :url WHERE id = :id"), {"url": url, "id": actor_id})
        for group_id in (1, 3):
            await conn.execute(text(
                "INSERT INTO communities (actor_id, join_policy, posting, local_only, articles_require_approval,"
                f" created_by, created_at) VALUES ({group_id}, 'open', 'members', false, false, '',"
                " '2026-01-01 00:00:00')"))

    async def urls() -> list[str]:
        async with empty_db.engine.connect() as conn:
            return list((await conn.execute(text("SELECT url FROM actors ORDER BY id"))).scalars())

    # When it is upgraded, Then each community's address is its page (its last part only), and
    # the person's is unchanged
    await upgrade_to_head(empty_db)
    assert await urls() == ["https://x.example/communities/u1", "https://x.example/@u2",
                            "https://x.example/@u3/communities/u3"]
    # And a downgrade gives the addresses back
    async with empty_db.engine.begin() as conn:
        await conn.run_sync(lambda c: command.downgrade(alembic_config(c), "e1f3a5c7b9d2"))
    assert await urls() == urls_before
