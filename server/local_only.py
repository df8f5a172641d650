"""The names of the institution-only communities hosted here, as the read guard
(server/access.py) asks them on every request under an actor's name: kept in memory a second,
read once when due however many requests are in flight.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

from server.appkeys import DATABASE
from storage.communities import local_only_usernames


class LocalOnlyNames:
    """The names of the institution-only communities, which no route under an actor's name
    (/users/NAME..., /@NAME...) shows to a reader `may_reach` refuses. Read from the database
    again at most every `ttl` seconds, so a change made by another process shows within that, and
    at once after `forget` (a change made by this one). When they are due, one request reads them
    and the others arriving meanwhile wait for its answer: a busy server reads them once, not once
    for each request in flight."""

    def __init__(self, ttl: float = 1.0) -> None:
        self._names: frozenset[str] = frozenset()
        self._expires = 0.0
        self._ttl = ttl
        self._reading = asyncio.Lock()
        self._forgotten = 0  # how many times `forget` was called: a read begun before one is stale

    async def names(self, app: web.Application) -> frozenset[str]:
        if time.monotonic() < self._expires:
            return self._names
        async with self._reading:
            now, forgotten = time.monotonic(), self._forgotten
            if now >= self._expires:  # no request read them while this one waited
                async with app[DATABASE].sessions() as session:
                    self._names = frozenset(await local_only_usernames(session))
                if forgotten == self._forgotten:  # else a change came meanwhile: read again next time
                    self._expires = now + self._ttl
        return self._names

    def forget(self) -> None:
        self._forgotten += 1
        self._expires = 0.0


LOCAL_ONLY = web.AppKey("local_only_names", LocalOnlyNames)
