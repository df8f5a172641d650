"""Time-ordered 64-bit row ids, minted in Python.

    id = (milliseconds since 2025-01-01) << 22 | node << 12 | counter

Ids sort by creation time, so a newest-first collection or timeline pages by id alone. They fit
a signed BIGINT on SQLite and PostgreSQL for about 69 years. `node` (10 bits) keeps processes
apart: a long-running process claims a distinct node from the database at start (see
`storage.db.claim_node`); a short-lived CLI process uses a random one. `counter` (12 bits) orders
ids minted by one process in the same millisecond; past 4096 it borrows the next millisecond, so
ids stay unique and increasing within a process. Ids placed at a past time (a remote post's
`published`, often whole seconds) take their counter from a sequence of their own, so two posts
from the same second get different ids; the caller still checks the rare leftover clash.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime, timezone

EPOCH_MS = int(datetime(2025, 1, 1, tzinfo=timezone.utc).timestamp() * 1000)
NODE_BITS = 10
COUNTER_BITS = 12

_lock = threading.Lock()
_node = secrets.randbelow(1 << NODE_BITS)
_last_ms = 0
_counter = 0
_placed = 0  # the counter of ids placed at a given time: never reset, so equal times differ


def set_node(node: int) -> None:
    global _node
    _node = node % (1 << NODE_BITS)


def new_id(at: datetime | None = None) -> int:
    """A fresh id; `at` places it at a given time (e.g. a remote post's `published`)."""
    global _last_ms, _counter, _placed
    with _lock:
        if at is not None:
            _placed = (_placed + 1) % (1 << COUNTER_BITS)
            ms = max(int(at.timestamp() * 1000) - EPOCH_MS, 0)
            return (ms << (NODE_BITS + COUNTER_BITS)) | (_node << COUNTER_BITS) | _placed
        ms = int(time.time() * 1000) - EPOCH_MS
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter >> COUNTER_BITS:
                ms, _counter = ms + 1, 0
        else:
            _counter = 0
        _last_ms = ms
        return (ms << (NODE_BITS + COUNTER_BITS)) | (_node << COUNTER_BITS) | _counter


def id_time(row_id: int) -> datetime:
    """When an id was minted (to the millisecond)."""
    return datetime.fromtimestamp(((row_id >> (NODE_BITS + COUNTER_BITS)) + EPOCH_MS) / 1000, timezone.utc)


def parse_id(raw: object) -> int | None:
    """A row id as a client or a form sends it (ASCII digits, within a signed 64-bit integer),
    or None for anything else: "²" is a digit to str.isdigit, not to int()."""
    text = str(raw)
    if not (text.isascii() and text.isdigit() and len(text) <= 19):
        return None
    value = int(text)
    return value if value < 1 << 63 else None
