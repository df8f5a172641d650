"""The inbox worker: runs the handler of each stored activity.

    queued -> done | ignored | failed      (a retryable failure stays queued, later)

One iteration claims a batch of due items, soonest due first: the order of the (state,
next_attempt_at) index, so a claim reads one batch instead of sorting the whole backlog.
(PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers share the queue; a claim is a lease that
expires, so a worker that dies loses nothing.) Then it handles each: `prefetch` (network) first,
then `handle` and the item's new state in one transaction. A handler that raises Ignore marks the
item ignored; a peer that cannot be reached leaves it queued with backoff, up to MAX_ATTEMPTS;
anything else marks it failed and is logged.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select, update

from federation.context import Federation
from federation.handlers import HANDLERS
from federation.handlers.base import HandlerContext, Ignore
from federation.remote import RemoteError
from federation.urls import authority
from federation.vocab.parse import VocabError, ap_to_activity
from storage import actors as actor_queries
from storage.models import InboxItem, InboxState

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 8


async def _claim(fed: Federation, limit: int) -> list[InboxItem]:
    now = fed.clock.now()
    async with fed.db.sessions.begin() as session:
        query = (
            select(InboxItem)
            .where(InboxItem.state == InboxState.queued, InboxItem.next_attempt_at <= now)
            .order_by(InboxItem.next_attempt_at, InboxItem.id)
            .limit(limit)
        )
        if not fed.db.is_sqlite:
            query = query.with_for_update(skip_locked=True)
        items = list(await session.scalars(query))
        if items:
            await session.execute(
                update(InboxItem).where(InboxItem.id.in_([i.id for i in items]))
                .values(next_attempt_at=now + LEASE, attempts=InboxItem.attempts + 1)
            )
    return items


async def run_once(fed: Federation, limit: int = 100) -> int:
    """Handle one batch of due inbox items; returns how many were taken."""
    items = await _claim(fed, limit)
    for item in items:
        await process(fed, item)
    return len(items)


async def process(fed: Federation, item: InboxItem) -> None:
    try:
        activity = ap_to_activity(item.raw)
        if not fed.policy.allows(authority(activity.actor)):
            raise Ignore(f"{authority(activity.actor)} was blocked after this arrived")
        handler = HANDLERS.get(activity.type)
        if handler is None:
            raise Ignore(f"no handler for {activity.type}")
        prefetch = getattr(handler, "prefetch", None)
        prepared = await prefetch(fed, activity) if prefetch is not None else None
        async with fed.transaction() as session:
            actor = await actor_queries.actor_by_uri(session, activity.actor)
            if actor is None or actor.deleted_at is not None:
                raise Ignore(f"unknown or deleted actor {activity.actor}")
            ctx = HandlerContext(fed, session, activity, actor, fed.clock.now(), prepared)
            await handler.handle(ctx)
            await _finish(session, item, InboxState.done, None, fed)
    except Ignore as reason:
        log.info("inbox %s %s ignored: %s", item.activity_type, item.activity_uri, reason)
        await _finish_alone(fed, item, InboxState.ignored, str(reason))
    except (RemoteError, VocabError) as exc:
        if item.attempts + 1 >= MAX_ATTEMPTS:
            log.warning("inbox %s %s failed for good: %s", item.activity_type, item.activity_uri, exc)
            await _finish_alone(fed, item, InboxState.failed, str(exc))
        else:
            await _retry(fed, item, str(exc))
    except Exception as exc:  # a bug or a database error: keep the row for an admin, log the trace
        log.exception("inbox %s %s failed", item.activity_type, item.activity_uri)
        await _finish_alone(fed, item, InboxState.failed, f"{type(exc).__name__}: {exc}")


async def _finish(session, item: InboxItem, state: InboxState, error: str | None, fed: Federation) -> None:
    await session.execute(
        update(InboxItem).where(InboxItem.id == item.id)
        .values(state=state, last_error=error, processed_at=fed.clock.now())
    )


async def _finish_alone(fed: Federation, item: InboxItem, state: InboxState, error: str) -> None:
    async with fed.db.sessions.begin() as session:
        await _finish(session, item, state, error[:2000], fed)


async def _retry(fed: Federation, item: InboxItem, error: str) -> None:
    delay = timedelta(seconds=min(30 * 2 ** item.attempts, 6 * 3600))
    async with fed.db.sessions.begin() as session:
        await session.execute(
            update(InboxItem).where(InboxItem.id == item.id)
            .values(next_attempt_at=fed.clock.now() + delay, last_error=error[:2000])
        )


async def release_claims(fed: Federation) -> None:
    """At start on SQLite, the only process: leases a previous run held are void. (A row waiting
    out a retry has a last_error; a leased one that never failed does not.)"""
    if fed.db.is_sqlite:
        now = fed.clock.now()
        async with fed.db.sessions.begin() as session:
            await session.execute(
                update(InboxItem)
                .where(InboxItem.state == InboxState.queued, InboxItem.next_attempt_at > now,
                       InboxItem.last_error.is_(None))
                .values(next_attempt_at=now)
            )
