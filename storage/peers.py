"""Queries on peers: policy decisions, contact records and delivery health."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import covers_sql
from storage.models import Actor, Delivery, DeliveryState, Follow, FollowState, Peer, PeerState, PeerSubscription
from storage.states import FOLLOWS
from storage.upsert import insert_for


def covered_by(entry: str, column):
    """SQL: the authorities in `column` that the entry `entry` covers (storage.coverage)."""
    return covers_sql(literal(entry), column)


async def peer_by_domain(session: AsyncSession, domain: str) -> Peer | None:
    return await session.scalar(select(Peer).where(Peer.domain == domain))


async def add_peer(session: AsyncSession, domain: str, at: datetime) -> Peer:
    """A new peer row, first seen at `at` (flushed when the caller's next query or flush runs)."""
    peer = Peer(domain=domain, first_seen_at=at)
    session.add(peer)
    return peer


async def save_peer(session: AsyncSession) -> None:
    """Write the peer changes made on loaded rows, so the statements that follow see them."""
    await session.flush()


async def forget_peer(session: AsyncSession, peer: Peer) -> None:
    await session.delete(peer)


async def admit_knocks(session: AsyncSession, entry: str) -> None:
    """Peers that knocked (pending, added by no list) and that `entry` covers, other than the
    entry's own row, become known."""
    await session.execute(
        update(Peer).where(Peer.state == PeerState.pending, Peer.source.is_(None), Peer.domain != entry,
                           covered_by(entry, Peer.domain))
        .values(state=PeerState.known)
    )


async def sever_follows(session: AsyncSession, entry: str, at: datetime) -> int:
    """Follows either way between our actors and the actors `entry` covers end (undone); how many."""
    theirs = select(Actor.id).where(covered_by(entry, Actor.domain))
    result = await session.execute(
        update(Follow)
        .where(or_(Follow.follower_id.in_(theirs), Follow.followee_id.in_(theirs)),
               Follow.state.in_(FOLLOWS.sources(FollowState.undone)))
        .values(state=FollowState.undone, updated_at=at)
    )
    return result.rowcount


async def purge_actors(session: AsyncSession, entry: str) -> int:
    """Delete the remote actors `entry` covers, and with them their content; how many."""
    result = await session.execute(delete(Actor).where(covered_by(entry, Actor.domain), Actor.local.is_(False)))
    return result.rowcount


@dataclass(frozen=True)
class PeerRow:
    peer: Peer
    queued: int
    dead: int


def _with_counts():
    def count(state: DeliveryState):
        return select(func.count()).where(Delivery.peer == Peer.domain, Delivery.state == state).scalar_subquery()
    return select(Peer, count(DeliveryState.queued), count(DeliveryState.dead))


async def list_peers(session: AsyncSession, state: PeerState | None = None) -> list[PeerRow]:
    """Every peer (or those in `state`) by domain, with its queued and dead deliveries counted."""
    rows = await session.execute(_with_counts().where(*([Peer.state == state] if state else [])).order_by(Peer.domain))
    return [PeerRow(peer, queued_count or 0, dead_count or 0) for peer, queued_count, dead_count in rows]


async def peer_row(session: AsyncSession, domain: str) -> PeerRow | None:
    row = (await session.execute(_with_counts().where(Peer.domain == domain))).first()
    return None if row is None else PeerRow(row[0], row[1] or 0, row[2] or 0)


async def decided_peers(session: AsyncSession) -> list[tuple[str, PeerState]]:
    """(domain, state) of every peer an admin allowed, limited or blocked."""
    rows = await session.execute(
        select(Peer.domain, Peer.state).where(Peer.state.in_((PeerState.allowed, PeerState.limited, PeerState.blocked)))
    )
    return [(domain, state) for domain, state in rows]


@dataclass
class Contact:
    """Requests from one peer since the last write: how many, when, and for refused ones (knocks)
    the last one's route, reason, key id and signature state (valid | invalid | unverified)."""

    domain: str
    count: int
    first: datetime
    last: datetime
    refused: bool = False
    may_pend: bool = False  # a refused knock that may make an unknown peer pending
    route: str | None = None
    reason: str | None = None
    key_id: str | None = None
    signature: str | None = None


async def record_contacts(session: AsyncSession, contacts: list[Contact], *, pending_max: int) -> list[str]:
    """Add counted requests to the peers' rows. A peer with no row gets one: `known` when its
    requests were accepted, `pending` for a knock that may pend while fewer than `pending_max`
    peers are pending; another refused peer gets none. A `known` peer that knocks becomes
    `pending`. Returns the peers left out because the pending list was full.

    Who gets room on the pending list is decided in the order given (first seen first); the rows
    are written in domain order, the one order every process locks them in (PostgreSQL: a
    worker's flush and a web process's, each in its own first-seen order, deadlocked)."""
    by_domain = {contact.domain: contact for contact in contacts}
    states = dict((await session.execute(
        select(Peer.domain, Peer.state).where(Peer.domain.in_(by_domain)))).all()) if by_domain else {}
    room = pending_max - (await session.scalar(
        select(func.count()).select_from(Peer).where(Peer.state == PeerState.pending)) or 0)
    left_out = []
    writes = []  # (domain, statement)
    for contact in contacts:
        state = states.get(contact.domain)
        values: dict = {"last_seen_at": contact.last, "request_count": Peer.request_count + contact.count}
        if contact.refused:
            values.update(last_refused_at=contact.last, last_refused_route=(contact.route or "")[:255],
                          last_refusal_reason=contact.reason, last_key_id=(contact.key_id or "")[:2048] or None)
            if contact.signature is not None:
                values["signature_state"] = contact.signature
        if state is None:
            if contact.refused and not contact.may_pend:
                continue
            if contact.refused and room <= 0:
                left_out.append(contact.domain)
                continue
            new_state = PeerState.pending if contact.refused else PeerState.known
            room -= new_state is PeerState.pending
            row = {key: value for key, value in values.items() if key != "request_count"}
            statement = insert_for(session, Peer).values(
                domain=contact.domain, state=new_state, first_seen_at=contact.first, request_count=contact.count, **row)
            writes.append((contact.domain, statement.on_conflict_do_update(index_elements=[Peer.domain], set_=values)))
            continue
        if contact.refused and contact.may_pend and state is PeerState.known:
            values["state"] = PeerState.pending
        writes.append((contact.domain, update(Peer).where(Peer.domain == contact.domain).values(**values)))
    for _, statement in sorted(writes, key=lambda write: write[0]):
        await session.execute(statement)
    return left_out


async def expire_pending(session: AsyncSession, before: datetime) -> int:
    """Forget peers that knocked (pending, added by no list) and have not knocked since `before`."""
    result = await session.execute(delete(Peer).where(
        Peer.state == PeerState.pending, Peer.source.is_(None),
        func.coalesce(Peer.last_seen_at, Peer.first_seen_at) < before))
    return result.rowcount


async def awaiting_greeting(session: AsyncSession, since: datetime) -> list[tuple[str, str]]:
    """(domain, key id) of peers not blocked whose knock, refused since `since`, we have not
    answered yet (the caller asks the policy which of them are allowed now): they learn from our
    signed request that we are open to them."""
    rows = await session.execute(select(Peer.domain, Peer.last_key_id).where(
        Peer.state != PeerState.blocked, Peer.last_key_id.is_not(None), Peer.last_refused_at >= since))
    return [(domain, key_id) for domain, key_id in rows]


async def greeted(session: AsyncSession, domain: str) -> None:
    await session.execute(update(Peer).where(Peer.domain == domain).values(last_key_id=None))


async def delivered_to(session: AsyncSession, peer: str, now: datetime, scheme: str | None) -> None:
    """A delivery to the peer succeeded: it is healthy, no longer backing off; `scheme`, when
    given, is the signature scheme it takes."""
    values: dict = {"last_success_at": now, "consecutive_failures": 0, "retry_at": None}
    if scheme:
        values["signature_scheme"] = scheme
    await _upsert_health(session, peer, now, values)


async def consecutive_failures(session: AsyncSession, peer: str) -> int:
    """How many deliveries to the peer failed in a row, up to now."""
    return await session.scalar(select(Peer.consecutive_failures).where(Peer.domain == peer)) or 0


async def delivery_failed(session: AsyncSession, peer: str, now: datetime, *, failures: int, retry_at: datetime,
                          reason: str) -> None:
    """A delivery to the peer failed, the `failures`th in a row: it backs off until `retry_at`."""
    await _upsert_health(session, peer, now, {
        "consecutive_failures": failures, "retry_at": retry_at, "last_failure_at": now, "last_failure_reason": reason,
    })


async def _upsert_health(session: AsyncSession, peer: str, now: datetime, values: dict) -> None:
    statement = insert_for(session, Peer).values(domain=peer, first_seen_at=now, **values)
    await session.execute(statement.on_conflict_do_update(index_elements=[Peer.domain], set_=values))


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


# --- subscriptions to published peer lists ---------------------------------------------------

async def subscription_by_url(session: AsyncSession, url: str) -> PeerSubscription | None:
    return await session.scalar(select(PeerSubscription).where(PeerSubscription.url == url))


async def subscription_by_id(session: AsyncSession, subscription_id: int) -> PeerSubscription | None:
    return await session.get(PeerSubscription, subscription_id)


async def add_subscription(session: AsyncSession, url: str, *, review: bool, by: str, at: datetime) -> PeerSubscription:
    subscription = PeerSubscription(url=url, review=review, created_by=by, created_at=at)
    session.add(subscription)
    await session.flush()
    return subscription


async def subscriptions(session: AsyncSession) -> list[PeerSubscription]:
    """Every subscription, oldest first."""
    return list(await session.scalars(select(PeerSubscription).order_by(PeerSubscription.id)))


async def peers_listed_by(session: AsyncSession, url: str) -> list[Peer]:
    """The peers a subscription added (their `source` is its URL)."""
    return list(await session.scalars(select(Peer).where(Peer.source == url)))
