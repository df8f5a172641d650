"""The names of the institution-only communities, which the read guard asks on every request
under an actor's name: read from the database once when they are due, however many requests
are in flight (server/local_only.py)."""

from __future__ import annotations

import asyncio

from server.local_only import LOCAL_ONLY
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


async def test_a_change_made_while_they_are_read_is_read_again(instances):
    # Given an instance whose names are being read
    a = await instances.start()
    names = a.app[LOCAL_ONLY]
    names.forget()

    async def change_meanwhile() -> None:
        while not names._reading.locked():  # the read has begun
            await asyncio.sleep(0)
        names.forget()  # a community became institution-only here meanwhile

    # When a change is made while the read is under way
    await asyncio.gather(names.names(a.app), change_meanwhile())

    # Then the next request reads them again, not the answer from before the change
    async with statements_run(a.db) as statements:
        await names.names(a.app)
    assert len(statements) == 1
