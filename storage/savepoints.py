"""SAVEPOINT, RELEASE and ROLLBACK TO sent as plain SQL, one statement text per nesting depth
(`plain_savepoints`, set where storage.db makes an engine). `storage.db.savepoint` is what code
uses; this is how the statements under it are sent."""

from __future__ import annotations

import weakref

from sqlalchemy import Connection, Engine


def plain_savepoints(engine: Engine) -> None:
    """The engine's savepoints sent as plain SQL text, one statement text per nesting depth.

    SQLAlchemy's default dialect runs each savepoint statement as a Core clause compiled anew at
    every call (those clauses are not cached), named sa_savepoint_N with N counting up on the
    connection: on SQLite the SAVEPOINT and RELEASE of the inbox worker's items cost about as
    much CPU as the statement inside them, and on PostgreSQL asyncpg prepared each of those
    statements, a text never seen before, in a round trip of its own, and the 100 prepared
    statements it keeps were evicted by them. `do_savepoint`, `do_release_savepoint` and
    `do_rollback_to_savepoint` are the Dialect interface's hooks for these statements. Here a
    savepoint is named after its depth among those open on the connection (rounds_sp_1 for the
    outermost), so that the same few texts recur: SQLite and PostgreSQL both allow a name to
    be used again, and RELEASE and ROLLBACK TO then mean its most recent use, which is the
    right one since a savepoint ends after those opened inside it (ending one ends them too,
    here as in the database). SQLAlchemy's names, unique on a Connection, are kept per
    Connection (one per checkout from the pool); one a transaction's end left open only
    deepens the next ones there."""
    dialect = engine.dialect
    opened: weakref.WeakKeyDictionary[Connection, list[str]] = weakref.WeakKeyDictionary()

    def open_savepoints(connection: Connection) -> list[str]:
        names = opened.get(connection)
        if names is None:
            names = opened[connection] = []
        return names

    def do_savepoint(connection, name: str) -> None:
        names = open_savepoints(connection)
        names.append(name)
        connection.exec_driver_sql(f"SAVEPOINT rounds_sp_{len(names)}")

    def ending(connection, name: str) -> int:
        names = open_savepoints(connection)
        depth = names.index(name) + 1
        del names[depth - 1:]
        return depth

    dialect.do_savepoint = do_savepoint
    dialect.do_release_savepoint = (
        lambda connection, name: connection.exec_driver_sql(f"RELEASE SAVEPOINT rounds_sp_{ending(connection, name)}"))
    dialect.do_rollback_to_savepoint = (
        lambda connection, name: connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT rounds_sp_{ending(connection, name)}"))

