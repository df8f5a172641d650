"""Queries behind the client API's instance endpoints and streaming: the domains we know, the
contact account, read markers, and whom a viewer has hidden (blocks both ways, live mutes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Account, Actor, Block, Marker, Mute, Peer, PeerState


async def known_domains(session: AsyncSession) -> set[str]:
    """Every peer domain we have a record of (not blocked), and the domains of remote actors we
    have stored. The caller filters the result through the federation policy."""
    peers = select(Peer.domain).where(Peer.state != PeerState.blocked)
    actors = select(Actor.domain).where(Actor.local.is_(False), Actor.domain.is_not(None)).distinct()
    return {domain for domain in await session.scalars(union(peers, actors)) if domain}


async def contact_actor(session: AsyncSession) -> Actor | None:
    """The oldest enabled admin's actor: who a client shows as the instance's contact."""
    return await session.scalar(
        select(Actor).join(Account, Account.actor_id == Actor.id)
        .where(Account.is_admin.is_(True), Account.disabled.is_(False))
        .order_by(Account.created_at, Account.id).limit(1)
    )


async def markers(session: AsyncSession, actor_id: int, timelines: list[str] | None = None) -> list[Marker]:
    query = select(Marker).where(Marker.actor_id == actor_id)
    if timelines is not None:
        query = query.where(Marker.timeline.in_(timelines))
    return list(await session.scalars(query.order_by(Marker.timeline)))


async def save_marker(session: AsyncSession, actor_id: int, timeline: str, last_read_id: str, at: datetime) -> Marker:
    """Set where `actor_id` stopped reading `timeline`; the version goes up on every change."""
    marker = await session.scalar(
        select(Marker).where(Marker.actor_id == actor_id, Marker.timeline == timeline)
    )
    if marker is None:
        marker = Marker(actor_id=actor_id, timeline=timeline, last_read_id=last_read_id, version=1, updated_at=at)
        session.add(marker)
    elif marker.last_read_id != last_read_id:
        marker.last_read_id = last_read_id
        marker.version += 1
        marker.updated_at = at
    await session.flush()
    return marker


async def advance_marker(session: AsyncSession, actor_id: int, timeline: str, read_id: int, at: datetime) -> None:
    """Move `timeline`'s marker forward to `read_id`, never back: reading an older page again
    leaves it where it is."""
    current = await session.scalar(
        select(Marker.last_read_id).where(Marker.actor_id == actor_id, Marker.timeline == timeline))
    if current is None or not current.isdigit() or int(current) < read_id:
        await save_marker(session, actor_id, timeline, str(read_id), at)


async def hidden_from(session: AsyncSession, viewer_id: int, actor_ids: set[int], now: datetime) -> set[int]:
    """Which of `actor_ids` the viewer blocks or mutes (unexpired), or who block the viewer."""
    if not actor_ids:
        return set()
    blocked = select(Block.target_id).where(Block.actor_id == viewer_id, Block.target_id.in_(actor_ids))
    blocking = select(Block.actor_id).where(Block.target_id == viewer_id, Block.actor_id.in_(actor_ids))
    muted = select(Mute.target_id).where(
        Mute.actor_id == viewer_id, Mute.target_id.in_(actor_ids),
        or_(Mute.expires_at.is_(None), Mute.expires_at > now),
    )
    return set(await session.scalars(union(blocked, blocking, muted)))


async def peer_by_id(session: AsyncSession, peer_id: int) -> Peer | None:
    return await session.get(Peer, peer_id)


async def peers_in_state(session: AsyncSession, *states: PeerState) -> list[Peer]:
    """The peers the admin has decided one of `states` for, oldest record first."""
    return list(await session.scalars(select(Peer).where(Peer.state.in_(states)).order_by(Peer.id)))
