"""Queries the health check runs: prove the database takes a write, and find how long the oldest
due item of each queue has waited.

"Due" is what a worker would claim now: an inbox item queued or failed whose `next_attempt_at`
has passed (a leased one is due only once its lease runs out), and a queued delivery whose time
has come, that no worker holds, to a peer that is not backing off (the delivery claim's own
conditions). Dead items are not due: they wait for an admin, not for a worker.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryState, HealthProbe, InboxItem, Peer
from storage.states import INBOX_DUE
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
    found = [
        await session.scalar(
            select(func.min(InboxItem.next_attempt_at))
            .where(InboxItem.state == state, InboxItem.next_attempt_at <= now)
        )
        for state in INBOX_DUE
    ]
    return min((at for at in found if at is not None), default=None)


async def oldest_due_delivery(session: AsyncSession, now: datetime) -> datetime | None:
    """When the longest-due delivery became due, if any is due."""
    return await session.scalar(
        select(func.min(Delivery.next_attempt_at)).where(
            Delivery.state == DeliveryState.queued,
            Delivery.next_attempt_at <= now,
            or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now),
            Delivery.peer.not_in(select(Peer.domain).where(Peer.retry_at > now)),
        )
    )
