"""Queries the inbox worker runs: claim due items, record each item's outcome, release leases.

The states and transitions are declared in `storage.states`; the claim, the lease and the
guarded moves are `storage.leases`'. A claim reads the rows' `raw` as text and decodes nothing,
so no row can make a claim fail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.leases import INBOX_ITEMS
from storage.models import InboxItem, InboxState
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
    """Up to `limit` due items, queued or failed, the longest due first (`storage.leases`). Each
    item taken is leased: queued, due after `lease`, one more attempt. An item whose attempts ran
    out under earlier leases (its handling never finished: it stopped the process, say) is marked
    dead instead. `lock`: FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers share the queue."""
    columns = (InboxItem.id, InboxItem.activity_uri, InboxItem.activity_type, InboxItem.actor_uri,
               InboxItem.raw, InboxItem.attempts, InboxItem.next_attempt_at)
    items = [Claimed(*row) for row in await leases.claim_due(session, INBOX_ITEMS, columns, now, limit, lock=lock)]
    spent = [item.id for item in items if item.attempts >= max_attempts]
    if spent:
        await leases.move(session, INBOX_ITEMS, InboxState.dead, InboxItem.id.in_(spent), processed_at=now,
                          last_error=f"its handling never finished in {max_attempts} attempts")
    taken = [item for item in items if item.attempts < max_attempts]
    if taken:
        await leases.lease(session, INBOX_ITEMS, [item.id for item in taken], now + lease,
                           state=InboxState.queued, attempts=InboxItem.attempts + 1)
    return [replace(item, attempts=item.attempts + 1) for item in taken]


async def finish(session: AsyncSession, item_id: int, state: InboxState, error: str | None, at: datetime) -> None:
    """The item's final outcome: done, or ignored with the reason."""
    await leases.move(session, INBOX_ITEMS, state, InboxItem.id == item_id,
                      last_error=None if error is None else storable(error, ERROR_CHARS), processed_at=at)


async def fail(session: AsyncSession, item_id: int, error: str, at: datetime, retry_at: datetime | None) -> None:
    """An attempt failed: `failed`, due again at `retry_at`, or `dead` when None."""
    values: dict = {"last_error": storable(error, ERROR_CHARS)}
    if retry_at is None:
        await leases.move(session, INBOX_ITEMS, InboxState.dead, InboxItem.id == item_id, processed_at=at, **values)
    else:
        await leases.move(session, INBOX_ITEMS, InboxState.failed, InboxItem.id == item_id,
                          next_attempt_at=retry_at, **values)


async def release_claims(session: AsyncSession, now: datetime) -> None:
    """Void every lease: for the only process on SQLite, at its start."""
    await leases.release_leases(session, INBOX_ITEMS, now)
