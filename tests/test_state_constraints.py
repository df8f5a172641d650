"""The state columns of follows, inbox items and deliveries take only the states storage/states.py
declares (a CHECK constraint each, added by a migration), and the migration's lists match the
declarations."""

from __future__ import annotations

import importlib.util
import itertools
import sqlite3
from pathlib import Path

import pytest
from storage.db import open_database
from storage.migrate import upgrade_to_head
from storage.models import DeliveryState, FollowState, InboxState

MIGRATION = next(Path(__file__).parent.parent.glob("storage/migrations/versions/*_declared_states.py"))


_PLACEHOLDERS = itertools.count(1)


def _migration():
    spec = importlib.util.spec_from_file_location("declared_states", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_names_every_declared_state():
    states = _migration().STATES
    assert set(states["follows"]) == {s.value for s in FollowState}
    assert set(states["inbox_items"]) == {s.value for s in InboxState}
    assert set(states["deliveries"]) == {s.value for s in DeliveryState}


def _row(conn: sqlite3.Connection, table: str, state: str) -> None:
    """Insert a row of `table` in `state`, every other required column a placeholder of its own."""
    unique = next(_PLACEHOLDERS)
    values = {}
    for _, name, type_, notnull, default, _pk in conn.execute(f"PRAGMA table_info({table})"):
        if name == "state" or (notnull and default is None):
            values[name] = state if name == "state" else (unique if "INT" in type_.upper() else f"x{unique}")
    names = ", ".join(values)
    conn.execute(f"INSERT INTO {table} ({names}) VALUES ({', '.join('?' * len(values))})", list(values.values()))


@pytest.mark.parametrize(("table", "declared"), [("follows", "pending"), ("inbox_items", "queued"),
                                                 ("deliveries", "queued")])
async def test_an_undeclared_state_cannot_be_written(tmp_path, table, declared):
    path = tmp_path / "c.db"
    db = open_database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade_to_head(db)
    finally:
        await db.dispose()
    conn = sqlite3.connect(path)  # foreign keys off: the rows need no actors or activities
    try:
        _row(conn, table, declared)
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            _row(conn, table, "limbo")
        with pytest.raises(sqlite3.IntegrityError, match="CHECK constraint failed"):
            conn.execute(f"UPDATE {table} SET state = 'limbo'")
    finally:
        conn.close()
