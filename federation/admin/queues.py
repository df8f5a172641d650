"""The admin's hand on the work queues (`rounds queue`): list inbox items and deliveries, retry
the ones that failed, discard the ones nobody should retry. Every change is written to the audit
log, one entry per item, in the caller's transaction.

The moves are those `storage.states` declares: an inbox item failed or dead is retried
(queued, due now, its attempts from zero) or discarded; a dead delivery is retried (queued, due
now, subject to its peer's backoff); a queued or dead delivery is discarded (cancelled). A
request naming an item that does not exist, or one in a state it cannot leave that way, is
refused whole: nothing changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.peers.decisions import audit
from federation.protocol.urls import authority
from storage import queue_admin as queries
from storage.models import DeliveryState, InboxState
from storage import states

INBOX = "inbox"
DELIVERIES = "deliveries"
QUEUES = (INBOX, DELIVERIES)
STATES = {INBOX: [state.value for state in InboxState], DELIVERIES: [state.value for state in DeliveryState]}
# what `rounds queue list` shows unless asked: what is waiting, on a worker or on an admin
OPEN_STATES = {INBOX: ["queued", "failed", "dead"], DELIVERIES: ["queued", "dead"]}
_CHUNK = 500  # ids per statement: SQLite takes at most 32,766 parameters


class QueueError(Exception):
    """A queue request that cannot be carried out; one line."""


@dataclass(frozen=True)
class Listed:
    """One row of `rounds queue list`."""

    queue: str
    id: int
    type: str
    peer: str
    state: str
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None


async def list_items(session: AsyncSession, queue: str, states: Sequence[str] | None, limit: int) -> list[Listed]:
    """The newest `limit` items of `queue` in `states` (by default the open ones), oldest first."""
    wanted = list(states) if states else OPEN_STATES[queue]
    if queue == INBOX:
        rows = [
            Listed(INBOX, e.id, e.activity_type, authority(e.actor_uri), e.state.value, e.attempts, e.last_error,
                   e.received_at, e.next_attempt_at, e.processed_at)
            for e in await queries.inbox_entries(session, states=[InboxState(s) for s in wanted], limit=limit)
        ]
    else:
        rows = [
            Listed(DELIVERIES, e.id, e.activity_type, e.peer, e.state.value, e.attempts, e.last_error,
                   e.created_at, e.next_attempt_at, e.finished_at)
            for e in await queries.delivery_entries(session, states=[DeliveryState(s) for s in wanted], limit=limit)
        ]
    return rows[::-1]


async def troubled(session: AsyncSession, queue: str, limit: int) -> list[Listed]:
    """What waits on an admin, oldest first: inbox items failed or dead, deliveries dead or
    queued again after a failed attempt."""
    if queue == INBOX:
        return await list_items(session, INBOX, ["failed", "dead"], limit)
    return [row for row in await list_items(session, DELIVERIES, ["queued", "dead"], limit)
            if row.state == "dead" or row.attempts > 0]


async def retry(session: AsyncSession, queue: str, ids: Sequence[int] | None, *, by: str, at: datetime) -> list[int]:
    """Make these items (or, with ids None, every dead one) queued and due at `at`; their ids."""
    from_states = states.INBOX.sources(InboxState.queued) if queue == INBOX else states.DELIVERIES.sources(DeliveryState.queued)
    return await _move(session, queue, ids, from_states, "retry", by=by, at=at)


async def discard(session: AsyncSession, queue: str, ids: Sequence[int] | None, *, by: str, at: datetime) -> list[int]:
    """Give up on these items (or, with ids None, every dead one): an inbox item is discarded, a
    delivery cancelled; their ids."""
    from_states = states.INBOX.sources(InboxState.discarded) if queue == INBOX else states.DELIVERIES.sources(DeliveryState.cancelled)
    return await _move(session, queue, ids, from_states, "discard", by=by, at=at)


async def _move(session: AsyncSession, queue: str, ids: Sequence[int] | None, from_states: frozenset,
                action: str, *, by: str, at: datetime) -> list[int]:
    entries = sorted(await _entries(session, queue, ids), key=lambda entry: entry.id)
    noun = "inbox item" if queue == INBOX else "delivery"
    if ids is not None:
        missing = sorted(set(ids) - {entry.id for entry in entries})
        if missing:
            raise QueueError(f"there is no {noun} {', '.join(map(str, missing))}; 'rounds queue list' shows them")
    allowed = " or ".join(sorted(state.value for state in from_states))
    for entry in entries:
        if entry.state not in from_states:
            raise QueueError(f"{noun} {entry.id} is {entry.state.value}; only {allowed} ones can be "
                             f"{'retried' if action == 'retry' else 'discarded'}; nothing was changed")
    chosen = sorted(entry.id for entry in entries)
    moved = 0
    for start in range(0, len(chosen), _CHUNK):
        moved += await _apply(session, queue, action, chosen[start:start + _CHUNK], from_states, by, at)
    if moved != len(chosen):  # a worker took one meanwhile; the caller's transaction rolls back
        raise QueueError(f"{len(chosen) - moved} of the chosen items changed state meanwhile; nothing was "
                         "changed, try again")
    after = _after(queue, action)
    for entry in entries:
        before = {"state": entry.state.value, "attempts": entry.attempts, "last_error": entry.last_error}
        subject = entry.activity_uri
        if queue == DELIVERIES:
            before["inbox"] = entry.inbox
        await audit(session, by=by, action=f"{'inbox' if queue == INBOX else 'delivery'}.{action}", subject=subject,
                    before={"id": entry.id, **before}, after={"id": entry.id, "state": after}, reason="", at=at)
    return chosen


async def _entries(session: AsyncSession, queue: str, ids: Sequence[int] | None) -> list:
    """The chosen items, locked (PostgreSQL) until the caller's transaction ends."""
    if ids is None:
        if queue == INBOX:
            return await queries.inbox_entries(session, states=[InboxState.dead], lock=True)
        return await queries.delivery_entries(session, states=[DeliveryState.dead], lock=True)
    found = []
    unique = sorted(set(ids))
    for start in range(0, len(unique), _CHUNK):
        chunk = unique[start:start + _CHUNK]
        if queue == INBOX:
            found += await queries.inbox_entries(session, ids=chunk, lock=True)
        else:
            found += await queries.delivery_entries(session, ids=chunk, lock=True)
    return found


async def _apply(session: AsyncSession, queue: str, action: str, ids: list[int], from_states: frozenset,
                 by: str, at: datetime) -> int:
    if queue == INBOX:
        if action == "retry":
            return await queries.requeue_inbox(session, ids, from_states, at)
        return await queries.set_inbox_state(session, ids, from_states, InboxState.discarded, at)
    if action == "retry":
        return await queries.requeue_deliveries(session, ids, from_states, at)
    return await queries.set_delivery_state(session, ids, from_states, DeliveryState.cancelled, at,
                                            f"cancelled: discarded by {by}")


def _after(queue: str, action: str) -> str:
    if action == "retry":
        return "queued"
    return InboxState.discarded.value if queue == INBOX else DeliveryState.cancelled.value
