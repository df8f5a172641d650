"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
ROUNDS_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest
from argon2 import PasswordHasher
from sqlalchemy import event
from sqlalchemy.pool import Pool

from federation.protocol.keys import actor_keys_from
from federation.social.accounts import password_hashing
from tests.api_helpers import token_for
from tests.handler_helpers import start_scene
from tests.instances import InstanceFactory, commit_without_flush
from tests.keypool import KeyLease
from tests.outbox_helpers import start_audience

DATABASE_URL = os.environ.get("ROUNDS_TEST_DATABASE_URL") or None


# argon2id with the least work (production's hash and salt lengths): a hash or a sign-in costs
# microseconds instead of a quarter of a second of CPU, and verifies the same way
CHEAP_PASSWORD_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_secrets():
    """What this test process makes costs less CPU than a server's: local actors take their key
    pairs from the process's pool, no pair twice in one test (tests/keypool.py; generating one
    costs about 70 ms), and passwords are hashed with CHEAP_PASSWORD_HASHER. A real `rounds`
    process (tests/test_cli.py) keeps both at their cost."""
    with actor_keys_from(KeyLease()), password_hashing(CHEAP_PASSWORD_HASHER):
        yield


@pytest.fixture(autouse=True, scope="session")
def commits_without_flush():
    """PostgreSQL commits of this test process do not wait for the disk (tests/instances.py)."""
    event.listen(Pool, "connect", commit_without_flush)
    yield
    event.remove(Pool, "connect", commit_without_flush)


@pytest.fixture
def database_url() -> str | None:
    return DATABASE_URL


@pytest.fixture
async def instances(tmp_path, database_url) -> AsyncIterator[InstanceFactory]:
    factory = InstanceFactory(tmp_path, database_url)
    try:
        yield factory
    finally:
        await factory.close()


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        yield session


@pytest.fixture
async def api(instances, http):
    """One instance with alice and bob, each with a read/write/follow token: (instance, http,
    alice's headers, bob's headers), for the client-API tests."""
    a = await instances.start()
    alice = await token_for(a, "alice")
    bob = await token_for(a, "bob")
    return a, http, alice, bob


@pytest.fixture
async def scene(instances, http):
    """An instance with alice and a fake peer serving zed and mallory, for the handler tests
    (tests/handler_helpers.py)."""
    async with start_scene(instances, http) as value:
        yield value


@pytest.fixture
async def audience(instances):
    """alice with followers on several servers, for the outbox tests (tests/outbox_helpers.py)."""
    async with start_audience(instances) as value:
        yield value
