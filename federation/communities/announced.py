"""What a community on another server announces besides posts: an activity of one of its threads,
embedded (FEP-1b12). Only a Delete is acted on (its author deleted a post, or a moderator removed
it): the post leaves that community's threads here, and a copy of another server's post goes
(`threads.leave_community`). The group speaks only for its own threads: it cannot touch a post it
never announced here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.communities.threads import leave_community
from federation.protocol.vocab.parse import APActivity
from storage.models import Actor, ActorType
from storage.posts import post_by_uri


async def apply(session: AsyncSession, group: Actor, inner: APActivity, now: datetime) -> str | None:
    """Apply an activity `group` announced; None if done, else why nothing changed."""
    if group.type is not ActorType.Group:
        return f"{group.uri} is not a community; it announces posts only"
    if inner.type != "Delete":
        return f"a community's announced {inner.type} changes nothing here"
    item = await post_by_uri(session, inner.object_id) if inner.object_id else None
    if item is None:
        return f"unknown post {inner.object_id}"
    if not await leave_community(session, group, item, now):
        return f"{item.uri} is not in the threads of {group.uri}"
    return None
