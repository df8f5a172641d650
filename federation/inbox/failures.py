"""An inbox item's failed attempt: how it is logged, and when it is tried again. A failure of the
peer or its document (EXPECTED) is one warning line; a lock conflict the database broke by failing
the item's statement (a deadlock between two workers' transactions, say) is one warning line and
due again in CONFLICT_SECONDS, since nothing is wrong with it; anything else (a bug, the database)
is logged with its traceback. Otherwise the item is due again after a backoff that doubles per
attempt, and the attempt numbered [federation] inbox_max_attempts is its last: it is dead."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from federation.protocol.vocab.jsondoc import JSONRefused
from federation.protocol.vocab.parse import VocabError
from federation.remote.resolve import RemoteError
from federation.runtime.context import Federation
from storage import inbox_queue
from storage.db import describe_error, lost_a_conflict
from storage.inbox_queue import Claimed

log = logging.getLogger(__name__)

BASE_DELAY = 30.0
MAX_DELAY = 6 * 3600.0
CONFLICT_SECONDS = 2.0
EXPECTED = (RemoteError, VocabError, JSONRefused)  # failures of the peer or its document: no traceback


def failure(fed: Federation, item: Claimed, exc: BaseException, now: datetime) -> tuple[str, datetime | None]:
    """Log a failed attempt; its error text, and when to try again (None: it is dead)."""
    conflict = lost_a_conflict(exc)
    error = str(exc) if isinstance(exc, EXPECTED) else f"{type(exc).__name__}: {exc}"
    last = item.attempts >= fed.settings.inbox_max_attempts
    outcome = "dead" if last else "failed"
    what = f"inbox item {item.id} ({item.activity_type} {item.activity_uri}) attempt {item.attempts}: {outcome}"
    if isinstance(exc, EXPECTED):
        log.warning("%s: %s", what, error)
    elif conflict:
        log.warning("%s: lost a lock conflict (%s); tried again in %g s", what, describe_error(exc), CONFLICT_SECONDS)
    else:  # a bug, or the database: the trace is for whoever fixes it
        log.error("%s", what, exc_info=exc)
    delay = CONFLICT_SECONDS if conflict else min(BASE_DELAY * 2 ** (item.attempts - 1), MAX_DELAY)
    return error, None if last else now + timedelta(seconds=delay)


async def record_failure_alone(fed: Federation, item: Claimed, exc: Exception) -> None:
    """`failure`, recorded in a transaction of its own (the item's own transaction failed)."""
    now = fed.clock.now()
    error, retry_at = failure(fed, item, exc, now)
    try:
        async with fed.db.sessions.begin() as session:
            await inbox_queue.fail(session, item.id, error, now, retry_at)
    except Exception as again:  # the lease lapses and the item is tried again
        log.error("inbox item %d: its failure could not be recorded either: %s", item.id, again)
