"""Activities sent from here, and their delivery rows (one per target inbox); any stored activity by its id."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import Activity, Delivery


async def add_local_activity(session: AsyncSession, document: dict[str, Any], *, actor_id: int,
                             object_uri: str | None, object_id: int | None, public: bool,
                             published: datetime) -> Activity:
    """Store an activity made here (its document as sent), flushed so it has an id."""
    activity = Activity(uri=document["id"], type=document["type"], actor_id=actor_id, object_uri=object_uri,
                        object_id=object_id, local=True, public=public, published=published, raw=document)
    session.add(activity)
    await session.flush()
    return activity


async def queue_deliveries(session: AsyncSession, activity: Activity, sender_id: int, inboxes: dict[str, str],
                           now: datetime) -> None:
    """One delivery row per target inbox (`inboxes`: inbox to peer), due now."""
    for inbox, peer in inboxes.items():
        session.add(Delivery(activity_id=activity.id, sender_id=sender_id, inbox=inbox, peer=peer,
                             created_at=now, next_attempt_at=now))
    await session.flush()


async def activity_by_uri(session: AsyncSession, uri: str) -> Activity | None:
    return await session.scalar(select(Activity).where(Activity.uri == uri))
