"""Queries the delivery worker runs: claim due deliveries with what signing them needs, record
each send's outcome, defer or give up on a failing peer's rows, release leases.

The states and transitions are declared in `storage.states`; the claim, the lease and the
guarded moves are `storage.leases`'. An outcome is recorded only on a row still queued, so a
discard an admin made mid-send stands.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage import leases
from storage.leases import DELIVERY_ROWS
from storage.models import Activity, Actor, Delivery, DeliveryState, Peer
from storage.peers import covered_by


@dataclass(frozen=True)
class Batch:
    """Claimed deliveries, in id order, with their activities and senders by id, and the
    signature scheme each of their peers is known to take."""

    deliveries: list[Delivery]
    activities: dict[int, Activity]
    senders: dict[int, Actor]
    schemes: dict[str, str]


def peer_not_backing_off(now: datetime) -> ColumnElement[bool]:
    """A delivery whose peer is not backing off at `now` (read from the peers table, so every
    process sees a backoff any process set)."""
    return Delivery.peer.not_in(select(Peer.domain).where(Peer.retry_at > now))


async def claim(session: AsyncSession, now: datetime, limit: int, *, lease: timedelta, lock: bool) -> Batch:
    """Up to `limit` due deliveries whose peer is not backing off, leased until `now + lease`.
    `lock`: FOR UPDATE SKIP LOCKED (PostgreSQL), so several workers share the queue."""
    rows = await leases.claim_due(session, DELIVERY_ROWS, (Delivery,), now, limit,
                                  where=(peer_not_backing_off(now),), lock=lock)
    deliveries = [delivery for delivery, in rows]
    if not deliveries:
        return Batch([], {}, {}, {})
    await leases.lease(session, DELIVERY_ROWS, [d.id for d in deliveries], now + lease)
    activities = {a.id: a for a in await session.scalars(
        select(Activity).where(Activity.id.in_({d.activity_id for d in deliveries})))}
    senders = {a.id: a for a in await session.scalars(
        select(Actor).where(Actor.id.in_({d.sender_id for d in deliveries})))}
    schemes = dict((await session.execute(
        select(Peer.domain, Peer.signature_scheme)
        .where(Peer.domain.in_({d.peer for d in deliveries}), Peer.signature_scheme.is_not(None)))).all())
    return Batch(deliveries, activities, senders, schemes)


async def settle(
    session: AsyncSession, ids: Sequence[int], state: DeliveryState, now: datetime, *, attempted: bool,
    status: int | None = None, error: str | None = None,
) -> None:
    """Record one result shared by these deliveries, if still queued: their lease ends, and they
    become `state` (queued: to be retried; finished otherwise). `attempted`: a request was made,
    so it counts, with its status and error."""
    values: dict = {"claimed_until": None}
    if attempted:
        values.update(last_attempt_at=now, last_status=status, last_error=error, attempts=Delivery.attempts + 1)
    if state is not DeliveryState.queued:
        values["finished_at"] = now
    await leases.move(session, DELIVERY_ROWS, state, Delivery.id.in_(ids), Delivery.state == DeliveryState.queued,
                      **values)


async def give_up_older(session: AsyncSession, peer: str, created_before: datetime, now: datetime, error: str) -> None:
    """The peer's queued deliveries made before `created_before` are dead, with `error`."""
    await leases.move(session, DELIVERY_ROWS, DeliveryState.dead, Delivery.peer == peer,
                      Delivery.state == DeliveryState.queued, Delivery.created_at < created_before,
                      finished_at=now, last_error=error)


async def defer_peer(session: AsyncSession, peer: str, until: datetime) -> None:
    """The peer's queued deliveries due before `until` are due at `until` (its backoff)."""
    await session.execute(
        update(Delivery)
        .where(Delivery.peer == peer, Delivery.state == DeliveryState.queued, Delivery.next_attempt_at < until)
        .values(next_attempt_at=until)
    )


async def cancel_queued_to(session: AsyncSession, entry: str, at: datetime, error: str) -> int:
    """The queued deliveries to the peers `entry` covers are cancelled, with `error`; how many."""
    return await leases.move(session, DELIVERY_ROWS, DeliveryState.cancelled, covered_by(entry, Delivery.peer),
                             Delivery.state == DeliveryState.queued, finished_at=at, last_error=error)


async def release_claims(session: AsyncSession, now: datetime) -> None:
    """Void every lease: for the only process on SQLite, at its start."""
    await leases.release_leases(session, DELIVERY_ROWS, now)


async def delete_settled(session: AsyncSession, state: DeliveryState, before: datetime, limit: int) -> int:
    """Delete up to `limit` deliveries in `state` (delivered, dead or cancelled) finished before
    `before`; how many (the retention sweep)."""
    return await leases.delete_settled(session, DELIVERY_ROWS, Delivery.finished_at, state, before, limit)
