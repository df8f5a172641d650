"""SAVEPOINT, RELEASE and ROLLBACK TO sent as plain SQL, one statement text per nesting depth
(`plain_savepoints`, set where storage.db makes an engine); on PostgreSQL, a RELEASE goes with
the next SAVEPOINT, in one message, or not at all. `storage.db.savepoint` is what code uses;
this is how the statements under it are sent."""

from __future__ import annotations

import weakref

from sqlalchemy import Connection, Engine, event
from sqlalchemy.util import await_


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
    # PostgreSQL: the RELEASE not sent yet, on each Connection (see `_release_later`)
    released: weakref.WeakKeyDictionary[Connection, str] | None = (
        weakref.WeakKeyDictionary() if dialect.name == "postgresql" else None)

    def open_savepoints(connection: Connection) -> list[str]:
        names = opened.get(connection)
        if names is None:
            names = opened[connection] = []
        return names

    def do_savepoint(connection, name: str) -> None:
        names = open_savepoints(connection)
        names.append(name)
        sql = f"SAVEPOINT rounds_sp_{len(names)}"
        release = released.pop(connection, None) if released is not None else None
        if release is None:
            connection.exec_driver_sql(sql)
        else:
            send_together(connection, f"{release}; {sql}")

    def ending(connection, name: str) -> int:
        names = open_savepoints(connection)
        depth = names.index(name) + 1
        del names[depth - 1:]
        return depth

    def do_release_savepoint(connection, name: str) -> None:
        sql = f"RELEASE SAVEPOINT rounds_sp_{ending(connection, name)}"
        if released is None:
            connection.exec_driver_sql(sql)
        else:  # one pending already was of a savepoint inside this one, which this RELEASE ends too
            released[connection] = sql

    def do_rollback_to_savepoint(connection, name: str) -> None:
        if released is not None:  # the RELEASE pending was of one opened inside this one: ended by it
            released.pop(connection, None)
        connection.exec_driver_sql(f"ROLLBACK TO SAVEPOINT rounds_sp_{ending(connection, name)}")

    dialect.do_savepoint = do_savepoint
    dialect.do_release_savepoint = do_release_savepoint
    dialect.do_rollback_to_savepoint = do_rollback_to_savepoint
    if released is not None:
        _release_later(engine, released)


def _release_later(engine: Engine, released: weakref.WeakKeyDictionary[Connection, str]) -> None:
    """On PostgreSQL a RELEASE is not sent when SQLAlchemy asks for it, but kept (`released`):
    sent with the next SAVEPOINT on the connection, in the same message (`send_together`), or
    never, if the transaction ends first (COMMIT keeps what released savepoints wrote; a rollback
    undoes it either way). The inbox worker opens a savepoint for each item it handles, so that
    is a round trip fewer for each. Until then the savepoint stays open, and what runs after it
    runs inside it; nothing rolls back to it, since SQLAlchemy has ended it."""

    def forget(connection: Connection) -> None:
        released.pop(connection, None)

    event.listen(engine, "commit", forget)
    event.listen(engine, "rollback", forget)


def send_together(connection: Connection, sql: str) -> None:
    """Several statements (no parameters) in one message, through asyncpg's simple query
    protocol: a prepared statement, which SQLAlchemy's execute makes, holds only one. An error
    is raised as SQLAlchemy's own would be, and a lost connection is invalidated as it would be."""
    adapted = connection.connection.dbapi_connection
    try:
        try:
            await_(connection.connection.driver_connection.execute(sql))
        except Exception as error:
            adapted._handle_exception(error)  # raises it as the asyncpg adapter's DBAPI error
    except BaseException as error:  # cancelled midway too: the connection is then invalidated
        connection._handle_dbapi_exception(error, sql, (), None, None)

