"""Time-ordered 64-bit row ids.

Ids are ``milliseconds since the epoch << 16 | sequence``: they sort by creation time (so a
newest-first collection or timeline pages by id alone), they fit a signed BIGINT on SQLite and
PostgreSQL, and several processes can mint them without a round trip to the database. The low
16 bits start at a random offset per process, so two processes minting in the same millisecond
collide only with negligible probability, and the unique primary key catches that case.
"""

from __future__ import annotations

import secrets
import threading
import time
from datetime import datetime

_lock = threading.Lock()
_last = 0


def new_id(at: datetime | None = None) -> int:
    """A fresh id; `at` places it at a given time (e.g. a remote post's `published`)."""
    global _last
    if at is not None:
        return (int(at.timestamp() * 1000) << 16) | secrets.randbelow(1 << 16)
    with _lock:
        candidate = (int(time.time() * 1000) << 16) | secrets.randbelow(1 << 12)
        _last = max(candidate, _last + 1)
        return _last


def id_floor(at: datetime) -> int:
    """The smallest id minted at `at`: a paging bound for 'everything since this time'."""
    return int(at.timestamp() * 1000) << 16
