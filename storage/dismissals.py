"""A user's notifications, one by id or all at once, as the client API dismisses them."""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Notification


async def notification_by_id(session: AsyncSession, notification_id: int) -> Notification | None:
    return await session.get(Notification, notification_id)


async def dismiss_all(session: AsyncSession, recipient_id: int) -> None:
    await session.execute(update(Notification).where(Notification.recipient_id == recipient_id).values(dismissed=True))
