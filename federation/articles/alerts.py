"""Alerts: a practitioner who follows a tag, or belongs to a community, may ask to hear of each
new article there, as Mastodon's `status` notification (the one a followed account's new post
raises when one asked to be notified), so any app shows it.

A new article is one that becomes visible here for the first time: a local article when it is
published (after its review, if its community has one), a peer's when it is first stored.
Each practitioner is told once, whatever brought it (several tags, a tag and a community), and
only of what she may read.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.access import can_see
from federation.social.notifications import notify
from storage import articles as queries
from storage.models import Actor, NotificationType, Object


async def new_article(session: AsyncSession, item: Object, author: Actor, tags: Iterable[str],
                      group_ids: Iterable[int], now: datetime) -> int:
    """Notify whoever asked to hear of a new article with these tags or in these communities;
    how many were notified."""
    told = 0
    for actor in await queries.alert_recipients(session, [t.lower() for t in tags], group_ids):
        if actor.id == author.id or not await can_see(session, item, actor):
            continue
        await notify(session, actor, NotificationType.status, author, item, now)
        told += 1
    return told
