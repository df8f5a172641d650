"""Likes and boosts of a post, whether a peer or a local user made them: the row, and the
notification of the post's author."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.social.notifications import notify
from storage import interactions as queries
from storage.models import Actor, Announce, Like, NotificationType, Object
from storage.actors import actor_by_id


async def add_like(session: AsyncSession, actor: Actor, item: Object, uri: str, now: datetime) -> Like | None:
    """The actor's like of the post, and its notification; None (nothing done) if she likes it already."""
    row = await queries.add_like(session, actor.id, item.id, uri, now)
    if row is not None:
        await _notify_author(session, item, NotificationType.favourite, actor, now)
    return row


async def add_announce(
    session: AsyncSession, actor: Actor, item: Object, uri: str, now: datetime, *, public: bool
) -> Announce | None:
    """The actor's boost of the post, and its notification; None (nothing done) if she boosted it already."""
    row = await queries.add_announce(session, actor.id, item.id, uri, now, public=public)
    if row is not None:
        await _notify_author(session, item, NotificationType.reblog, actor, now)
    return row


async def _notify_author(session: AsyncSession, item: Object, kind: NotificationType, actor: Actor,
                         now: datetime) -> None:
    """Notify the post's author. Only local actors are notified, and a post is local exactly when
    its author is: a peer's post needs no lookup of its author (the inbox handles many)."""
    if not item.local:
        return
    author = await actor_by_id(session, item.actor_id)
    if author is not None:
        await notify(session, author, kind, actor, item, now)
