"""Notifications: what happened to a local actor, written in the transaction that made it happen,
with a stream event so a connected client hears of it at once, and a push for each of the
recipient's Web Push subscriptions that wants it (`federation.social.push`). Only local actors are notified,
and never of their own doing (unless it is their poll that ended)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social import push
from federation.social.events import StreamEvent, record
from storage.models import Actor, NotificationType, Object
from storage.notifications import add_notification, local_boosters


async def notify(
    session: AsyncSession, recipient: Actor, kind: NotificationType, sender: Actor,
    item: Object | None, now: datetime, *, to_self: bool = False,
) -> None:
    """Notify a local recipient; never of their own doing, unless `to_self` (their poll ended)."""
    if recipient.local and (to_self or recipient.id != sender.id):
        row = add_notification(session, recipient.id, kind, sender.id, item.id if item is not None else None, now)
        record(session, StreamEvent((f"user:{recipient.id}", f"user:notification:{recipient.id}"),
                                    "notification", "notification", row.id))
        await push.queue_for(session, recipient, row, sender)


async def notify_edit(session: AsyncSession, item: Object, author: Actor, now: datetime) -> None:
    """Tell the local actors who boosted `item` that it was edited (Mastodon's `update`)."""
    for booster in await local_boosters(session, item.id):
        await notify(session, booster, NotificationType.update, author, item, now)


async def notify_mentions(session: AsyncSession, item: Object, author: Actor, mentioned: list[Actor], now: datetime) -> None:
    for actor in mentioned:
        await notify(session, actor, NotificationType.mention, author, item, now)
