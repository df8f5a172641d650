"""What happens to polls as time passes, one step at a time (the workers loop over `run_once`;
tests call it after moving the clock).

A poll that has ended notifies its local author and its local voters (`poll` notifications),
once: `ended_at` records that it was handled. A local poll's final counts, marked closed, go out
as Update(Question), and so do the counts of a local poll whose debounce (`update_due_at`) is
over. On PostgreSQL, rows are claimed with SKIP LOCKED, so several workers never handle one poll
twice.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import actions

from federation.social.notifications import notify
from federation.runtime.context import Federation
from storage import polls as poll_queries
from storage.actors import actor_by_id
from storage.models import NotificationType, Poll
from storage.posts import post_by_id


async def run_once(fed: Federation, limit: int = 50) -> int:
    """Handle up to `limit` ended polls and `limit` due updates; how many polls were handled."""
    now = fed.clock.now()
    async with fed.transaction() as session:
        skip_locked = not fed.db.is_sqlite
        ended_polls = await poll_queries.ended_unhandled(session, now, limit, skip_locked=skip_locked)
        for poll in ended_polls:
            poll.ended_at = now
            await _notify_end(session, poll, now)
        due_polls = await poll_queries.updates_due(session, now, limit, skip_locked=skip_locked)
        handled = {p.object_id: p for p in ended_polls + due_polls}
        for poll in handled.values():
            item = await post_by_id(session, poll.object_id)
            if item is not None and item.local:
                await actions.update_poll(fed, session, item)
            poll.update_due_at = None
    return len(handled)


async def _notify_end(session: AsyncSession, poll: Poll, now: datetime) -> None:
    item = await post_by_id(session, poll.object_id)
    if item is None or item.deleted_at is not None:
        return
    author = await actor_by_id(session, item.actor_id)
    voters = await poll_queries.local_voters(session, poll.object_id)
    for recipient in [author, *voters]:
        await notify(session, recipient, NotificationType.poll, author, item, now, to_self=True)
