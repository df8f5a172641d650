"""An inbox item whose handling lost a lock conflict (PostgreSQL failed its statement to break a
deadlock between two workers' transactions, seen in bench/inbox_drain.py with two workers: each
had updated an author's counters the other then needed) is tried again within seconds, not after
the backoff meant for a peer or a document at fault; it is logged as such, without a traceback."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.exc import DBAPIError

from federation.inbox import failures
from storage.inbox_queue import Claimed


class _DriverError(Exception):
    def __init__(self, message: str, sqlstate: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _item(attempts: int) -> Claimed:
    return Claimed(1, "https://peer.example/a/1", "Create", "https://peer.example/u/x", attempts, None, "{}")


async def test_a_deadlock_victim_is_due_again_in_seconds_and_other_errors_back_off(instances, caplog):
    a = await instances.start()
    now = a.clock.now()
    deadlock = DBAPIError("INSERT INTO objects ...", {}, _DriverError("deadlock detected", "40P01"))
    other = DBAPIError("INSERT INTO objects ...", {}, _DriverError("value too long", "22001"))
    with caplog.at_level(logging.WARNING, logger="federation.inbox.failures"):
        _, retry_at = failures.failure(a.fed, _item(attempts=3), deadlock, now)
    assert retry_at - now == timedelta(seconds=failures.CONFLICT_SECONDS)
    (record,) = [r for r in caplog.records if "lost a lock conflict (deadlock detected)" in r.getMessage()]
    assert record.levelno == logging.WARNING and record.exc_info is None
    _, retry_at = failures.failure(a.fed, _item(attempts=3), other, now)
    assert retry_at - now == timedelta(seconds=failures.BASE_DELAY * 4)
    # the last attempt is the last, conflict or not
    last = a.fed.settings.inbox_max_attempts
    assert failures.failure(a.fed, _item(attempts=last), deadlock, now)[1] is None
