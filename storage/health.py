"""Queries the health check runs: prove the database takes a write, and find how long the oldest
due item of each queue has waited.

"Due" is what a worker would claim now: an inbox item queued or failed whose `next_attempt_at`
has passed (a leased one is due only once its lease runs out), and a queued delivery whose time
has come, that no worker holds, to a peer that is not backing off (the delivery claim's own
conditions, from `storage.leases` and `storage.deliveries`). Dead items are not due: they wait for an admin, not for a worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.deliveries import peer_not_backing_off
from storage.leases import DELIVERY_ROWS, INBOX_ITEMS, Queue, due
from storage.models import HealthProbe
from storage.upsert import insert_for


async def write_probe(session: AsyncSession, name: str, at: datetime, *, lock_timeout_ms: int) -> None:
    """Rewrite the probe row `name`. On PostgreSQL a write that would wait for a lock longer than
    `lock_timeout_ms` fails instead (SQLite waits its busy timeout)."""
    if session.bind.dialect.name == "postgresql":
        await session.execute(text(f"SET LOCAL lock_timeout = {int(lock_timeout_ms)}"))
    statement = insert_for(session, HealthProbe).values(name=name, at=at)
    await session.execute(statement.on_conflict_do_update(index_elements=[HealthProbe.name], set_={"at": at}))


async def oldest_due_inbox(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-due inbox item became due, if any is due."""
    return await _oldest_due(session, INBOX_ITEMS, now)


async def oldest_due_delivery(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-due delivery became due, if any is due."""
    return await _oldest_due(session, DELIVERY_ROWS, now, peer_not_backing_off(now))


async def _oldest_due(session: AsyncSession, queue: Queue, now: datetime, *where) -> datetime | None:
    model = queue.model
    found = [
        await session.scalar(select(func.min(model.next_attempt_at)).where(*due(queue, state, now), *where))
        for state in queue.due_states  # one per state, as the claim reads them (the index serves each)
    ]
    return min((at for at in found if at is not None), default=None)
