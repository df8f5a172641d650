"""Notification requests: per sender, what the recipient's policy held back, for the client API."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.coverage import blocked_author
from storage.models import Notification, NotificationRequest, RequestState
from storage.paging import Cursor, apply, newest_first

SUMMARY_CAP = 100


@dataclass(frozen=True)
class Held:
    count: int                  # held notifications from the sender, not dismissed
    last_object_id: int | None  # the post of the latest of them that has one


def _held(recipient_id: int):
    return (Notification.recipient_id == recipient_id, Notification.filtered.is_(True),
            Notification.dismissed.is_(False))


async def held_from(session: AsyncSession, recipient_id: int, sender_ids: set[int]) -> dict[int, Held]:
    """What each sender has held back for the recipient (senders with nothing held left out)."""
    if not sender_ids:
        return {}
    counts = dict((await session.execute(select(Notification.from_actor_id, func.count()).where(
        *_held(recipient_id), Notification.from_actor_id.in_(sender_ids)).group_by(Notification.from_actor_id))).all())
    latest = select(Notification.from_actor_id, func.max(Notification.id).label("latest")).where(
        *_held(recipient_id), Notification.from_actor_id.in_(sender_ids), Notification.object_id.is_not(None)
    ).group_by(Notification.from_actor_id).subquery()
    objects = dict((await session.execute(select(Notification.from_actor_id, Notification.object_id).join(
        latest, Notification.id == latest.c.latest))).all())
    return {sender: Held(count, objects.get(sender)) for sender, count in counts.items()}


async def pending(session: AsyncSession, recipient_id: int, cursor: Cursor) -> list[NotificationRequest]:
    """A page of the recipient's pending requests (of senders on peers not blocked), newest first."""
    query = select(NotificationRequest).where(
        NotificationRequest.recipient_id == recipient_id, NotificationRequest.state == RequestState.pending,
        ~blocked_author(NotificationRequest.from_actor_id))
    return newest_first(list(await session.scalars(apply(query, NotificationRequest.id, cursor))), cursor)


async def request_of(session: AsyncSession, recipient_id: int, request_ids: set[int]) -> list[NotificationRequest]:
    """The recipient's requests among `request_ids`."""
    return list(await session.scalars(select(NotificationRequest).where(
        NotificationRequest.recipient_id == recipient_id, NotificationRequest.id.in_(request_ids))))


async def summary(session: AsyncSession, recipient_id: int) -> tuple[int, int]:
    """(senders with a pending request and something held, up to SUMMARY_CAP; their held notifications)."""
    senders = select(NotificationRequest.from_actor_id).where(
        NotificationRequest.recipient_id == recipient_id, NotificationRequest.state == RequestState.pending)
    held = select(Notification.from_actor_id).where(*_held(recipient_id), Notification.from_actor_id.in_(senders))
    requests = await session.scalar(select(func.count()).select_from(
        held.group_by(Notification.from_actor_id).limit(SUMMARY_CAP).subquery())) or 0
    notifications = await session.scalar(select(func.count()).select_from(held.subquery())) or 0
    return requests, notifications
