"""Shared fixtures. The suite runs on SQLite by default and on PostgreSQL when
ROUNDS_TEST_DATABASE_URL is set (CI sets it)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.instances import InstanceFactory

DATABASE_URL = os.environ.get("ROUNDS_TEST_DATABASE_URL") or None


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
