"""Queries on peers: policy decisions, contact records and delivery health."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Delivery, DeliveryState, Peer, PeerState
from storage.upsert import insert_for


async def decided_peers(session: AsyncSession) -> list[tuple[str, PeerState]]:
    """(domain, state) of every peer an admin allowed or blocked."""
    rows = await session.execute(
        select(Peer.domain, Peer.state).where(Peer.state.in_((PeerState.allowed, PeerState.blocked)))
    )
    return [(domain, state) for domain, state in rows]


async def record_contact(session: AsyncSession, domain: str, at: datetime, *, refused: bool) -> None:
    """Count a request from `domain`; a refused one makes an unknown peer `pending`."""
    statement = insert_for(session, Peer).values(
        domain=domain, state=PeerState.pending if refused else PeerState.known,
        first_seen_at=at, last_seen_at=at, request_count=1,
    )
    await session.execute(statement.on_conflict_do_update(
        index_elements=[Peer.domain],
        set_={"last_seen_at": at, "request_count": Peer.request_count + 1},
    ))


async def peers_in_backoff(session: AsyncSession) -> set[str]:
    rows = await session.scalars(select(Peer.domain).where(Peer.retry_at.is_not(None)))
    return set(rows)


async def reset_backoff(session: AsyncSession, domain: str, at: datetime) -> None:
    """The peer reached us, so it is up: clear its backoff and make its queued deliveries due."""
    await session.execute(
        update(Peer).where(Peer.domain == domain).values(consecutive_failures=0, retry_at=None)
    )
    await session.execute(
        update(Delivery)
        .where(Delivery.peer == domain, Delivery.state == DeliveryState.queued, Delivery.next_attempt_at > at)
        .values(next_attempt_at=at)
    )
