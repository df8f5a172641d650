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

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from federation.outbox import actions

from federation.social.notifications import notify
from federation.runtime.context import Federation
from storage.models import Actor, NotificationType, Object, Poll, PollVote


async def run_once(fed: Federation, limit: int = 50) -> int:
    """Handle up to `limit` ended polls and `limit` due updates; how many polls were handled."""
    now = fed.clock.now()
    async with fed.transaction() as session:
        ended = select(Poll).where(Poll.ended_at.is_(None), Poll.expires_at <= now).order_by(Poll.expires_at)
        due = select(Poll).where(Poll.update_due_at <= now).order_by(Poll.update_due_at)
        if not fed.db.is_sqlite:
            ended, due = (q.with_for_update(skip_locked=True) for q in (ended, due))
        ended_polls = list(await session.scalars(ended.limit(limit)))
        for poll in ended_polls:
            poll.ended_at = now
            await _notify_end(session, poll, now)
        due_polls = list(await session.scalars(due.limit(limit)))
        handled = {p.object_id: p for p in ended_polls + due_polls}
        for poll in handled.values():
            item = await session.get(Object, poll.object_id)
            if item is not None and item.local:
                await actions.update_poll(fed, session, item)
            poll.update_due_at = None
    return len(handled)


async def _notify_end(session: AsyncSession, poll: Poll, now: datetime) -> None:
    item = await session.get(Object, poll.object_id)
    if item is None or item.deleted_at is not None:
        return
    author = await session.get(Actor, item.actor_id)
    voters = await session.scalars(select(Actor).where(
        Actor.local.is_(True), Actor.id.in_(select(PollVote.actor_id).where(PollVote.object_id == poll.object_id))))
    for recipient in [author, *voters]:
        await notify(session, recipient, NotificationType.poll, author, item, now, to_self=True)
