"""The names of the institution-only communities, which the read guard asks on every request
under an actor's name: read from the database once when they are due, however many requests
are in flight (server/access.py, LocalOnlyNames)."""

from __future__ import annotations

import asyncio

from server.access import LOCAL_ONLY
from tests.statements import statements_run


async def test_requests_arriving_while_the_names_are_read_share_one_read(instances):
    # Given an instance whose cached names are due again
    a = await instances.start()
    names = a.app[LOCAL_ONLY]
    names.forget()

    # When fifty requests ask for them at once
    async with statements_run(a.db) as statements:
        answers = await asyncio.gather(*(names.names(a.app) for _ in range(50)))

    # Then one statement read them, and each request got its answer
    assert len(statements) == 1, [sql for sql, _ in statements]
    assert all(answer == frozenset() for answer in answers)

    # And until they are due again, asking reads nothing
    async with statements_run(a.db) as statements:
        await names.names(a.app)
    assert statements == []
