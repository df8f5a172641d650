"""Queries the inbox worker runs: claim due items, record each item's outcome, release leases.

The states and transitions are declared in `storage.models.queues`. A claim reads the rows'
`raw` as text and decodes nothing, so no row can make a claim fail.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import InboxItem, InboxState
from storage.states import INBOX_DUE
from storage.text import storable

ERROR_CHARS = 2000


@dataclass(frozen=True)
class Claimed:
    """An item as claimed: its raw JSON text undecoded, and its attempts counting this one."""

    id: int
    activity_uri: str
    activity_type: str
    actor_uri: str
    raw: str
    attempts: int
    due: datetime


async def claim(
    session: AsyncSession, now: datetime, limit: int, *, lease: timedelta, max_attempts: int, lock: bool,
) -> list[Claimed]:
    """Up to `limit` due items, queued or failed, the longest due first. The (state,
    next_attempt_at) index gives each state's due rows in order, so the claim reads at most
    `limit` rows of each state and merges them instead of sorting the backlog. Each item taken
    is leased: queued, due after `lease`, one more attempt. An item whose attempts ran out under
    earlier leases (its handling never finished: it stopped the process, say) is marked dead
    instead. `lock`: FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers share the queue."""
    columns = (InboxItem.id, InboxItem.activity_uri, InboxItem.activity_type, InboxItem.actor_uri,
               InboxItem.raw, InboxItem.attempts, InboxItem.next_attempt_at)
    batches = []
    for state in INBOX_DUE:
        query = (
            select(*columns)
            .where(InboxItem.state == state, InboxItem.next_attempt_at <= now)
            .order_by(InboxItem.next_attempt_at, InboxItem.id)
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(skip_locked=True)
        batches.append([Claimed(*row) for row in await session.execute(query)])
    items = list(heapq.merge(*batches, key=lambda item: (item.due, item.id)))[:limit]
    spent = [item.id for item in items if item.attempts >= max_attempts]
    if spent:
        await session.execute(
            update(InboxItem).where(InboxItem.id.in_(spent))
            .values(state=InboxState.dead, processed_at=now,
                    last_error=f"its handling never finished in {max_attempts} attempts")
        )
    taken = [item for item in items if item.attempts < max_attempts]
    if taken:
        await session.execute(
            update(InboxItem).where(InboxItem.id.in_([item.id for item in taken]))
            .values(state=InboxState.queued, next_attempt_at=now + lease, attempts=InboxItem.attempts + 1)
        )
    return [replace(item, attempts=item.attempts + 1) for item in taken]


async def finish(session: AsyncSession, item_id: int, state: InboxState, error: str | None, at: datetime) -> None:
    """The item's final outcome: done, or ignored with the reason."""
    await session.execute(
        update(InboxItem).where(InboxItem.id == item_id)
        .values(state=state, last_error=None if error is None else storable(error, ERROR_CHARS), processed_at=at)
    )


async def fail(session: AsyncSession, item_id: int, error: str, at: datetime, retry_at: datetime | None) -> None:
    """An attempt failed: `failed`, due again at `retry_at`, or `dead` when None."""
    values: dict = {"last_error": storable(error, ERROR_CHARS)}
    if retry_at is None:
        values.update(state=InboxState.dead, processed_at=at)
    else:
        values.update(state=InboxState.failed, next_attempt_at=retry_at)
    await session.execute(update(InboxItem).where(InboxItem.id == item_id).values(**values))


async def release_claims(session: AsyncSession, now: datetime) -> None:
    """Void every lease (queued items are due in the future only while leased): for the only
    process on SQLite, at its start."""
    await session.execute(
        update(InboxItem)
        .where(InboxItem.state == InboxState.queued, InboxItem.next_attempt_at > now)
        .values(next_attempt_at=now)
    )
