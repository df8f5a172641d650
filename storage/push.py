"""Web Push: subscriptions (one per access token), the instance's VAPID key, and the queue of
pushes (claimed, leased and settled through `storage.leases`, as deliveries are)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from storage import core, leases
from storage.leases import PUSH_ROWS
from storage.models import (
    Account,
    Actor,
    DeliveryState,
    Notification,
    Object,
    PushDelivery,
    PushSubscription,
    VapidKey,
)
from storage.upsert import insert_for


async def vapid_key(session: AsyncSession) -> VapidKey | None:
    return await session.get(VapidKey, 1)


async def keep_vapid_key(session: AsyncSession, private_key_pem: str, public_key: str) -> VapidKey:
    """Store the key pair unless another process stored one first; the one stored."""
    await session.execute(insert_for(session, VapidKey).values(
        id=1, private_key_pem=private_key_pem, public_key=public_key).on_conflict_do_nothing(index_elements=["id"]))
    return await session.get(VapidKey, 1, populate_existing=True)


async def subscription_for_token(session: AsyncSession, token_id: int) -> PushSubscription | None:
    return await session.scalar(select(PushSubscription).where(PushSubscription.token_id == token_id))


async def subscribe(session: AsyncSession, subscription: PushSubscription) -> PushSubscription:
    """The token's subscription, replacing the one it had (and that one's queued pushes)."""
    await session.execute(delete(PushSubscription).where(PushSubscription.token_id == subscription.token_id))
    session.add(subscription)
    await session.flush()
    return subscription


async def unsubscribe(session: AsyncSession, token_id: int) -> None:
    await session.execute(delete(PushSubscription).where(PushSubscription.token_id == token_id))


async def remove_subscription(session: AsyncSession, subscription_id: int) -> None:
    """An endpoint that is gone: the subscription goes, and its queued pushes with it."""
    await session.execute(delete(PushSubscription).where(PushSubscription.id == subscription_id))


# built once: asked for every notification written
_RULES_OF = (select(PushSubscription.id, PushSubscription.alerts, PushSubscription.policy)
             .where(PushSubscription.actor_id == bindparam("actor_id", type_=BigInteger)))


async def subscription_rules(session: AsyncSession, actor_id: int) -> list[Row]:
    """(id, alerts, policy) of each of the actor's subscriptions: what decides which of them a
    notification is pushed to."""
    return await core.rows(session, _RULES_OF, {"actor_id": actor_id})


async def queue_pushes(session: AsyncSession, notification_id: int, subscription_ids: Sequence[int], now: datetime) -> None:
    for subscription_id in subscription_ids:
        session.add(PushDelivery(subscription_id=subscription_id, notification_id=notification_id,
                                 created_at=now, next_attempt_at=now))
    await session.flush()


@dataclass(frozen=True)
class Push:
    """A claimed push, with what its payload is made of."""

    delivery: PushDelivery
    subscription: PushSubscription
    notification: Notification
    sender: Actor
    post: Object | None
    locale: str


async def claim(session: AsyncSession, now: datetime, limit: int, *, lease: timedelta, lock: bool) -> list[Push]:
    """Up to `limit` due pushes, leased until `now + lease`, with their subscription, notification,
    the actor who caused it, its post (if any) and the recipient's language."""
    rows = await leases.claim_due(session, PUSH_ROWS, (PushDelivery,), now, limit, lock=lock)
    deliveries = [delivery for delivery, in rows]
    if not deliveries:
        return []
    await leases.lease(session, PUSH_ROWS, [d.id for d in deliveries], now + lease)
    subscriptions = await _by_id(session, PushSubscription, {d.subscription_id for d in deliveries})
    notifications = await _by_id(session, Notification, {d.notification_id for d in deliveries})
    actors = await _by_id(session, Actor, {n.from_actor_id for n in notifications.values()})
    posts = await _by_id(session, Object, {n.object_id for n in notifications.values() if n.object_id is not None})
    locales = dict((await session.execute(
        select(Account.actor_id, Account.preferences)
        .where(Account.actor_id.in_({s.actor_id for s in subscriptions.values()})))).all())
    pushes = []
    for d in deliveries:  # a push's subscription and notification are there: deleting either deletes it
        notification, subscription = notifications[d.notification_id], subscriptions[d.subscription_id]
        pushes.append(Push(d, subscription, notification, actors[notification.from_actor_id],
                           posts.get(notification.object_id), _locale(locales.get(subscription.actor_id))))
    return pushes


def _locale(preferences: dict[str, Any] | None) -> str:
    return (preferences or {}).get("language") or "en"


async def _by_id(session: AsyncSession, model: Any, ids: set[int]) -> dict[int, Any]:
    if not ids:
        return {}
    return {row.id: row for row in await session.scalars(select(model).where(model.id.in_(ids)))}


async def settle(session: AsyncSession, ids: Sequence[int], state: DeliveryState, now: datetime, *,
                 status: int | None, error: str | None, retry_at: datetime | None = None) -> None:
    """One attempt's result for these pushes, if still queued: their lease ends and they become
    `state`; a push left queued is due again at `retry_at`."""
    values: dict[str, Any] = {"claimed_until": None, "last_status": status, "last_error": error,
                              "attempts": PushDelivery.attempts + 1}
    if state is DeliveryState.queued:
        values["next_attempt_at"] = retry_at or now
    else:
        values["finished_at"] = now
    await leases.move(session, PUSH_ROWS, state, PushDelivery.id.in_(ids),
                      PushDelivery.state == DeliveryState.queued, **values)


async def release_claims(session: AsyncSession, now: datetime) -> None:
    await leases.release_leases(session, PUSH_ROWS, now)


async def delete_settled(session: AsyncSession, state: DeliveryState, before: datetime, limit: int) -> int:
    """Delete up to `limit` pushes in `state` (delivered, dead or cancelled) finished before
    `before`; how many (the retention sweep)."""
    return await leases.delete_settled(session, PUSH_ROWS, PushDelivery.finished_at, state, before, limit)
