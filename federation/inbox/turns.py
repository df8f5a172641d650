"""Fair turns among peers: the order in which queued inbox items are handled.

The intake writer stamps each item with a turn by start-time fair queuing, one flow per peer
(the host of the activity's actor): an item's turn is one past the later of its peer's last turn
and the queue's head (the lowest turn still queued: how far the workers have come). The workers
take queued items in turn order. So a peer that sends 10,000 activities at once gets turns
head+1 ... head+10,000, and a peer that sends one a second later gets head+1 or so: it is
handled next, not after the flood. Each peer's turns rise, so its own items keep their order;
a peer that was quiet starts again at the head, with no credit saved from its quiet time.

Turns only order; they never delay: with one peer sending, its items are handled as fast as they
would be without them. The head is read from the database (`refresh`, at most once per
REFRESH_SECONDS), so it also follows workers in other processes.
"""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncSession

from federation.protocol.urls import authority
from storage import inbox_queue

REFRESH_SECONDS = 0.5
FORGET_AFTER = 10_000  # peers remembered before those at or behind the head are forgotten


class Turns:
    def __init__(self) -> None:
        self._floor = 0  # the head of the queue, as last read, or the last turn given when it was empty
        self._issued = 0  # the highest turn given
        self._last: dict[str, int] = {}  # each peer's last turn
        self._read_at: float | None = None

    def due_for_refresh(self) -> bool:
        return self._read_at is None or time.monotonic() - self._read_at >= REFRESH_SECONDS

    async def refresh(self, session: AsyncSession) -> None:
        """Read where the queue's head is. The first time (at start), also each peer's last turn
        still queued, so that its turns keep rising across a restart while a quiet peer still
        starts at the head."""
        if self._read_at is None:
            for actor_uri, turn in await inbox_queue.last_turns(session):
                peer = authority(actor_uri)
                self._last[peer] = max(turn, self._last.get(peer, 0))
                self._issued = max(self._issued, turn)
        head = await inbox_queue.head_turn(session)
        self._floor = max(self._floor, self._issued if head is None else head)
        self._read_at = time.monotonic()
        if len(self._last) > FORGET_AFTER:
            self._last = {peer: turn for peer, turn in self._last.items() if turn > self._floor}

    def stamp(self, peer: str) -> int:
        """The next turn of an item from `peer`."""
        turn = max(self._floor, self._last.get(peer, 0)) + 1
        self._last[peer] = turn
        self._issued = max(self._issued, turn)
        return turn
