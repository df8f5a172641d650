"""Notifications as they are written and dismissed (the client API reads them through storage.timelines)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.ids import new_id
from storage.models import Actor, Announce, Notification, NotificationType


def add_notification(session: AsyncSession, recipient_id: int, kind: NotificationType, sender_id: int,
                     object_id: int | None, now: datetime) -> Notification:
    row = Notification(id=new_id(), recipient_id=recipient_id, type=kind, from_actor_id=sender_id,
                       object_id=object_id, created_at=now)
    session.add(row)
    return row


async def local_boosters(session: AsyncSession, object_id: int) -> list[Actor]:
    """The local actors who boosted a post."""
    return list(await session.scalars(select(Actor).where(
        Actor.local.is_(True), Actor.id.in_(select(Announce.actor_id).where(Announce.object_id == object_id)))))


async def notification_by_id(session: AsyncSession, notification_id: int) -> Notification | None:
    return await session.get(Notification, notification_id)


async def dismiss_all(session: AsyncSession, recipient_id: int) -> None:
    await session.execute(update(Notification).where(Notification.recipient_id == recipient_id).values(dismissed=True))
