"""INSERT ... ON CONFLICT for whichever backend the session is bound to."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}


def insert_for(session: AsyncSession, table):
    """A dialect-specific `insert(table)` that offers on_conflict_do_nothing/do_update."""
    dialect = session.bind.dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


def per_backend(build: Callable[[Callable], Any]) -> Callable[[AsyncSession], Any]:
    """A statement built once for each backend from its dialect's `insert` (for a statement run
    on every item of a queue, where building it again each time costs more than running it);
    call the result with the session to get the one for its backend. The values go in as
    parameters when it is executed."""
    built = {name: build(insert) for name, insert in _INSERTS.items()}
    return lambda session: built[session.bind.dialect.name]
