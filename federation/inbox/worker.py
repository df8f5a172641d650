"""The inbox worker: runs the handler of each stored activity.

The item states and their transitions are declared in `storage.states`; this is where
the worker's ones happen:

    queued | failed, when due --claim--> done | ignored | failed (due after a backoff) | dead

One iteration claims a batch of due items, the longest due first (`storage.inbox_queue.claim`:
a lease, and one more attempt counted; PostgreSQL: FOR UPDATE SKIP LOCKED, so several workers
share the queue). The claim decodes nothing. Each item is then handled alone: decoding its text (`load_json`, bounded
by [server] max_json_depth), parsing it, the policy re-check, `prefetch` (network), and then
`handle` and the item's new state in one transaction. A handler that raises Ignore marks the
item ignored. Whatever else one item raises (any Exception: a peer that cannot be reached, a
document that cannot be understood, a bug) rolls back that item's writes and marks it failed,
with the error, due again after a backoff that doubles per attempt; the item whose attempt
number reaches [federation] inbox_max_attempts is dead instead, for an admin (`rounds queue`).
The worker goes on to the next item either way. Cancellation is not an Exception and stops it.
A handled item's streaming events are published after its commit (`storage.db.after_commit`);
failing to publish them is logged, and the item stays done.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from federation.runtime.context import Federation
from federation.inbox.handlers import HANDLERS
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.remote.resolve import RemoteError
from federation.protocol.urls import authority
from federation.protocol.vocab.jsondoc import JSONRefused, load_json
from federation.protocol.vocab.parse import VocabError, ap_to_activity
from storage import actors as actor_queries
from storage import inbox_queue
from storage.inbox_queue import Claimed
from storage.models import InboxState

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BASE_DELAY = 30.0
MAX_DELAY = 6 * 3600.0
EXPECTED = (RemoteError, VocabError, JSONRefused)  # failures of the peer or its document: no traceback


async def run_once(fed: Federation, limit: int = 100) -> int:
    """Handle one batch of due inbox items; returns how many were taken."""
    async with fed.db.sessions.begin() as session:
        items = await inbox_queue.claim(
            session, fed.clock.now(), limit, lease=LEASE, max_attempts=fed.settings.inbox_max_attempts,
            lock=not fed.db.is_sqlite,
        )
    for item in items:
        await process(fed, item)
    return len(items)


async def process(fed: Federation, item: Claimed) -> None:
    """Handle one claimed item and record its outcome; only a failure to record it escapes."""
    try:
        await _handle(fed, item)
    except Ignore as reason:
        log.info("inbox %s %s ignored: %s", item.activity_type, item.activity_uri, reason)
        async with fed.db.sessions.begin() as session:
            await inbox_queue.finish(session, item.id, InboxState.ignored, str(reason), fed.clock.now())
    except Exception as exc:
        await _failed(fed, item, exc)


async def _handle(fed: Federation, item: Claimed) -> None:
    """Run the item's handler and mark it done, in one transaction, whose streaming events are
    published once it has committed."""
    activity = ap_to_activity(load_json(item.raw, fed.max_json_depth))
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
        await inbox_queue.finish(session, item.id, InboxState.done, None, fed.clock.now())


async def _failed(fed: Federation, item: Claimed, exc: Exception) -> None:
    """Record a failed attempt: failed and due again after a backoff, or dead on the last one."""
    error = str(exc) if isinstance(exc, EXPECTED) else f"{type(exc).__name__}: {exc}"
    last = item.attempts >= fed.settings.inbox_max_attempts
    outcome = "dead" if last else "failed"
    what = f"inbox item {item.id} ({item.activity_type} {item.activity_uri}) attempt {item.attempts}: {outcome}"
    if isinstance(exc, EXPECTED):
        log.warning("%s: %s", what, error)
    else:  # a bug, or the database: the trace is for whoever fixes it
        log.error("%s", what, exc_info=exc)
    now = fed.clock.now()
    retry_at = None if last else now + timedelta(seconds=min(BASE_DELAY * 2 ** (item.attempts - 1), MAX_DELAY))
    async with fed.db.sessions.begin() as session:
        await inbox_queue.fail(session, item.id, error, now, retry_at)


async def release_claims(fed: Federation) -> None:
    """At start on SQLite, the only process: leases a previous run held are void."""
    if fed.db.is_sqlite:
        async with fed.db.sessions.begin() as session:
            await inbox_queue.release_claims(session, fed.clock.now())
