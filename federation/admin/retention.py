"""How long settled queue rows are kept: the retention sweep of inbox items, deliveries and
Web Pushes. The workers run it every few minutes (federation.runtime.workers); `rounds queue
prune` runs it once.

A row is settled once its last outcome is recorded. Finished rows (an inbox item done or
ignored, a delivery or push delivered) are kept `finished_retention_days` after they were
handled; failed ones (dead, discarded, cancelled) `failed_retention_days`, so an admin can
still inspect and retry them (`rounds queue`). Rows still queued or failed, which a worker will
take again, are never deleted (`storage.leases.delete_settled` refuses their states). The one
decision: the sweep deletes a bounded batch per transaction, one state at a time, read from the
(state, settled time) index, so it holds SQLite's single writer for a few milliseconds at a
time and never reads the live queue.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from federation.runtime.settings import FederationSettings
from storage import deliveries, inbox_queue, push
from storage.db import Database
from storage.models import DeliveryState, InboxState

BATCH = 500  # rows deleted per transaction

FINISHED, FAILED = "finished", "failed"
DeleteSettled = Callable[..., Awaitable[int]]
# each queue's settled states, and which retention keeps them
SETTLED: dict[str, tuple[DeleteSettled, dict[Enum, str]]] = {
    "inbox items": (inbox_queue.delete_settled, {
        InboxState.done: FINISHED, InboxState.ignored: FINISHED,
        InboxState.dead: FAILED, InboxState.discarded: FAILED}),
    "deliveries": (deliveries.delete_settled, {
        DeliveryState.delivered: FINISHED, DeliveryState.dead: FAILED, DeliveryState.cancelled: FAILED}),
    "pushes": (push.delete_settled, {
        DeliveryState.delivered: FINISHED, DeliveryState.dead: FAILED, DeliveryState.cancelled: FAILED}),
}


@dataclass(frozen=True)
class Retention:
    """How long finished and failed rows are kept; None: forever."""

    finished: timedelta | None
    failed: timedelta | None

    @classmethod
    def of(cls, settings: FederationSettings) -> Retention:
        return cls(_days(settings.finished_retention_days), _days(settings.failed_retention_days))

    def cutoffs(self, now: datetime) -> dict[str, datetime]:
        """The settled time before which each kind of row goes (a kind kept forever is absent)."""
        kept = {FINISHED: self.finished, FAILED: self.failed}
        return {kind: now - keep for kind, keep in kept.items() if keep is not None}


def _days(days: float) -> timedelta | None:
    return timedelta(days=days) if days > 0 else None


async def sweep(db: Database, now: datetime, retention: Retention, *, batch: int = BATCH) -> dict[str, int]:
    """Delete every row settled longer ago than `retention` keeps it, `batch` rows per
    transaction, each state's until a batch comes back short; how many of each queue."""
    cutoffs = retention.cutoffs(now)
    deleted = dict.fromkeys(SETTLED, 0)
    for queue, (delete_settled, kinds) in SETTLED.items():
        for state, kind in kinds.items():
            if kind not in cutoffs:
                continue
            removed = batch
            while removed == batch:
                async with db.sessions.begin() as session:
                    removed = await delete_settled(session, state, cutoffs[kind], batch)
                deleted[queue] += removed
    return deleted
