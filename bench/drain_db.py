"""The drain bench's view of a Rounds instance's database (bench/inbox_drain.py): the inbox queue
and the home feeds read, and for --backlog the queue written, with plain SQL on either backend,
never through Rounds' own queries (the bench measures those)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections import Counter
from datetime import UTC, datetime

from drain_world import World, activity
from sqlalchemy import text

from storage.ids import id_time, new_id

URL = re.compile(r"https?://\S+")


def _utc(value) -> datetime:
    """A timestamp column as SQLite (text) or asyncpg (naive datetime) returns it: naive UTC."""
    at = datetime.fromisoformat(value) if isinstance(value, str) else value
    return at.replace(tzinfo=UTC)


async def scalar(db, sql: str, **params):
    async with db.sessions() as session:
        return (await session.execute(text(sql), params)).scalar()


async def inbox_states(db) -> dict[str, tuple[int, datetime | None, datetime | None]]:
    """Every non-Accept inbox item's state: (count, first processed_at, last processed_at)."""
    async with db.sessions() as session:
        rows = await session.execute(text(
            "SELECT state, count(*), min(processed_at), max(processed_at) FROM inbox_items "
            "WHERE activity_type <> 'Accept' GROUP BY state"))
        return {state: (count, first and _utc(first), last and _utc(last)) for state, count, first, last in rows}


async def handled_per_second(db, since: float) -> list[int]:
    """How many items reached done or ignored in each whole second after `since` (a Unix time)."""
    async with db.sessions() as session:
        rows = await session.execute(text(
            "SELECT processed_at FROM inbox_items WHERE activity_type <> 'Accept' AND state IN ('done', 'ignored')"))
        seconds = Counter(max(int(_utc(at).timestamp() - since), 0) for (at,) in rows)
    return [seconds[k] for k in range(max(seconds) + 1)] if seconds else []


async def reasons(db) -> list[tuple[str, str, int]]:
    """The commonest reasons items were not done, URLs left out: (state, reason, count)."""
    async with db.sessions() as session:
        rows = await session.execute(text(
            "SELECT state, last_error FROM inbox_items WHERE state NOT IN ('done', 'queued')"))
        counted = Counter((state, URL.sub("<url>", error or "")[:110]) for state, error in rows)
    return [(state, reason, count) for (state, reason), count in counted.most_common(4)]


async def first_feed_rows(db) -> dict[str, datetime]:
    """Each post's uri -> when its first home-feed row was inserted (not boosts)."""
    async with db.sessions() as session:
        rows = await session.execute(text(
            "SELECT o.uri, min(h.id) FROM home_feed h JOIN objects o ON o.id = h.item_id "
            "WHERE h.boost = :boost GROUP BY o.uri"), {"boost": False})
        return {uri: id_time(first) for uri, first in rows}


async def wait_until(db, sql: str, expected: int, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while (value := await scalar(db, sql)) != expected:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: {value}, expected {expected} within {timeout} s")
        await asyncio.sleep(0.25)


async def wait_drained(db, timeout: float) -> bool:
    """Until no item is queued (claimed ones are queued too, under a lease); False on timeout.
    Items that failed and wait for a retry are left, and reported as failed."""
    deadline = time.monotonic() + timeout
    while await scalar(db, "SELECT count(*) FROM inbox_items WHERE state = 'queued'"):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.5)
    return True


async def insert_backlog(db, world: World, plan, is_sqlite: bool) -> int:
    """Queue every planned activity as an inbox row, as intake would have stored it; returns the
    JSON bytes written."""
    raw_value = ":raw" if is_sqlite else "CAST(:raw AS JSON)"
    statement = text(
        "INSERT INTO inbox_items (id, activity_uri, activity_type, actor_uri, signer_key_id, recipient_id, raw, "
        "state, attempts, received_at, next_attempt_at) VALUES (:id, :uri, :type, :actor, :key, NULL, "
        f"{raw_value}, 'queued', 0, :now, :now)")
    written = 0
    for start in range(0, world.items, 1000):
        now = datetime.now(UTC).replace(tzinfo=None)
        rows = []
        for k in range(start, min(start + 1000, world.items)):
            document = activity(world, plan, k)
            raw = json.dumps(document, separators=(",", ":"))
            written += len(raw)
            rows.append({"id": new_id(), "uri": document["id"], "type": document["type"], "actor": document["actor"],
                         "key": f"{document['actor']}#main-key", "raw": raw, "now": now})
        async with db.sessions.begin() as session:
            await session.execute(statement, rows)
    return written
