"""Which peers are backing off, as this process last read it from the peers table.

The backoff itself lives in the database (`peers.retry_at`, set by whichever process's delivery
worker failed, cleared by a success or by the peer reaching us), and the delivery claim reads it
there. This snapshot serves the one question asked on every inbound request, whether the signer
is backing off (then its reaching us ends the backoff: `federation.protocol.authn`), without a
query per request. It is read again every REFRESH_SECONDS, so a web process started with
--no-workers learns of a backoff a worker process set; this process's own changes show at once.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from storage import peers as peer_queries

REFRESH = timedelta(seconds=5)


class Backoffs:
    def __init__(self) -> None:
        self._peers: set[str] = set()
        self._read_at: datetime | None = None

    async def refresh(self, session: AsyncSession, now: datetime) -> None:
        self._peers = set(await peer_queries.peers_in_backoff(session))
        self._read_at = now

    def stale(self, now: datetime) -> bool:
        return self._read_at is None or now - self._read_at > REFRESH or now < self._read_at

    def __contains__(self, peer: str) -> bool:
        return peer in self._peers

    def add(self, peer: str) -> None:
        self._peers.add(peer)

    def discard(self, peer: str) -> None:
        self._peers.discard(peer)
