"""Notifications as they are written and dismissed (the client API reads them through storage.timelines)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author
from storage.ids import new_id
from storage.models import Actor, Announce, Marker, Notification, NotificationType

LARGEST_ID = (1 << 63) - 1


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


async def count_unread(session: AsyncSession, recipient_id: int, *, cap: int) -> int:
    """How many of the recipient's notifications the list shows (not dismissed, none from a
    blocked peer) are newer than the `notifications` marker, counted up to `cap`."""
    marker = await session.scalar(select(Marker.last_read_id).where(
        Marker.actor_id == recipient_id, Marker.timeline == "notifications"))
    read = min(int(marker), LARGEST_ID) if marker and marker.isdigit() else 0
    newer = select(Notification.id).where(
        Notification.recipient_id == recipient_id, Notification.dismissed.is_(False), Notification.id > read,
        ~blocked_author(Notification.from_actor_id)).limit(cap).subquery()
    return await session.scalar(select(func.count()).select_from(newer)) or 0
