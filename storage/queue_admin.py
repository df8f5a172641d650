"""Queries behind `rounds queue`: read inbox items and deliveries, and move chosen ones to another
state. Which moves are allowed is declared in `storage.states` and chosen by
`federation.admin.queues`; every move here is guarded by both (`storage.leases.move`): the
declaration, and the state the caller saw the row in, so a worker that took the row meanwhile
wins and the caller learns it from the count.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.leases import DELIVERY_ROWS, INBOX_ITEMS
from storage.models import Activity, Delivery, DeliveryState, InboxItem, InboxState


@dataclass(frozen=True)
class InboxEntry:
    id: int
    activity_type: str
    activity_uri: str
    actor_uri: str
    state: InboxState
    attempts: int
    last_error: str | None
    received_at: datetime
    next_attempt_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True)
class DeliveryEntry:
    id: int
    activity_type: str
    activity_uri: str
    peer: str
    inbox: str
    state: DeliveryState
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime
    finished_at: datetime | None


async def inbox_entries(
    session: AsyncSession, *, states: Collection[InboxState] | None = None, ids: Collection[int] | None = None,
    limit: int | None = None, lock: bool = False,
) -> list[InboxEntry]:
    """Inbox items in these states or with these ids, newest first. `lock`: FOR UPDATE."""
    query = select(
        InboxItem.id, InboxItem.activity_type, InboxItem.activity_uri, InboxItem.actor_uri, InboxItem.state,
        InboxItem.attempts, InboxItem.last_error, InboxItem.received_at, InboxItem.next_attempt_at,
        InboxItem.processed_at,
    ).order_by(InboxItem.id.desc()).limit(limit)
    if states is not None:
        query = query.where(InboxItem.state.in_(states))
    if ids is not None:
        query = query.where(InboxItem.id.in_(ids))
    if lock:
        query = query.with_for_update()
    return [InboxEntry(*row) for row in await session.execute(query)]


async def delivery_entries(
    session: AsyncSession, *, states: Collection[DeliveryState] | None = None, ids: Collection[int] | None = None,
    limit: int | None = None, lock: bool = False,
) -> list[DeliveryEntry]:
    """Deliveries in these states or with these ids, newest first. `lock`: FOR UPDATE."""
    query = select(
        Delivery.id, Activity.type, Activity.uri, Delivery.peer, Delivery.inbox, Delivery.state, Delivery.attempts,
        Delivery.last_error, Delivery.created_at, Delivery.next_attempt_at, Delivery.finished_at,
    ).join(Activity, Activity.id == Delivery.activity_id).order_by(Delivery.id.desc()).limit(limit)
    if states is not None:
        query = query.where(Delivery.state.in_(states))
    if ids is not None:
        query = query.where(Delivery.id.in_(ids))
    if lock:
        query = query.with_for_update(of=Delivery)
    return [DeliveryEntry(*row) for row in await session.execute(query)]


async def requeue_inbox(session: AsyncSession, ids: Collection[int], from_states: Collection[InboxState],
                        at: datetime) -> int:
    """Make these items queued and due at `at`, with their attempts from zero; how many moved."""
    return await leases.move(session, INBOX_ITEMS, InboxState.queued, InboxItem.id.in_(ids),
                             InboxItem.state.in_(from_states), attempts=0, next_attempt_at=at, processed_at=None)


async def set_inbox_state(session: AsyncSession, ids: Collection[int], from_states: Collection[InboxState],
                          state: InboxState, at: datetime) -> int:
    """Move these items to a final `state` (processed at `at`); how many moved."""
    return await leases.move(session, INBOX_ITEMS, state, InboxItem.id.in_(ids), InboxItem.state.in_(from_states),
                             processed_at=at)


async def requeue_deliveries(session: AsyncSession, ids: Collection[int], from_states: Collection[DeliveryState],
                             at: datetime) -> int:
    """Make these deliveries queued and due at `at`; how many moved."""
    return await leases.move(session, DELIVERY_ROWS, DeliveryState.queued, Delivery.id.in_(ids),
                             Delivery.state.in_(from_states), next_attempt_at=at, claimed_until=None, finished_at=None)


async def set_delivery_state(session: AsyncSession, ids: Collection[int], from_states: Collection[DeliveryState],
                             state: DeliveryState, at: datetime, error: str) -> int:
    """Move these deliveries to a final `state`, finished at `at` with `error`; how many moved."""
    return await leases.move(session, DELIVERY_ROWS, state, Delivery.id.in_(ids), Delivery.state.in_(from_states),
                             finished_at=at, claimed_until=None, last_error=error)
