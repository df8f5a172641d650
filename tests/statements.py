"""What SQL a block runs, and how SQLite or PostgreSQL plans it: for tests that pin a statement's
plan (SQLite keeps no statistics, so a plan is chosen by the statement's shape; PostgreSQL's can be
stale; see storage/leases.py)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event

from storage.db import Database


@asynccontextmanager
async def statements_run(db: Database) -> AsyncIterator[list[tuple[str, Any]]]:
    """The (SQL, parameters) of each statement the database's writer engine runs in the block."""
    statements: list[tuple[str, Any]] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((statement, parameters))

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        yield statements
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)


def peers_written(statements: list[tuple[str, Any]], domains: set[str] | list[str]) -> list[str]:
    """The domains of the peers' rows the statements inserted or updated, in the order written."""
    def values(parameters) -> list:
        return list(parameters.values()) if isinstance(parameters, dict) else list(parameters)

    return [next(value for value in values(parameters) if value in domains)
            for sql, parameters in statements if sql.lstrip().upper().startswith(("INSERT INTO PEERS", "UPDATE PEERS"))]


async def sqlite_plan(db: Database, sql: str, parameters: Any) -> list[str]:
    """The lines of SQLite's EXPLAIN QUERY PLAN of a statement, as it was run."""
    async with db.engine.connect() as conn:
        return [detail for *_, detail in (await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql, parameters)).all()]


async def postgres_plan(db: Database, sql: str, parameters: Any, *, sort: bool = True) -> list[str]:
    """The lines of PostgreSQL's EXPLAIN of a statement, as it was run; `sort` False: as it is
    planned with sorting priced out (enable_sort off, as storage.leases' claims run)."""
    async with db.engine.connect() as conn:
        if not sort:
            await conn.exec_driver_sql("SET LOCAL enable_sort = off")
        return [line for (line,) in (await conn.exec_driver_sql("EXPLAIN " + sql, parameters)).all()]
