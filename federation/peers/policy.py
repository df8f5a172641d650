"""Federation policy: the one place that says whether a peer may talk to us or be talked to.

Decisions are made in memory from a snapshot of the admin's allow/block entries, so refusing a
peer costs no database read and no network request. A limited peer is allowed here: it
federates, and only its posts' place in the public timelines and streams differs (decided in SQL
by `storage.coverage.limited_author`, since those reads are queries). The snapshot is reloaded after every
change made in this process and every few seconds otherwise (other processes' changes).

A peer is an authority: host, plus the port when not the scheme's default. Which peers an entry
covers is defined once, in `storage.coverage` (the SQL filters that hide blocked peers' content
use the same definition): `host` covers that host on any port, `host:port` that port only,
`*.example.org` example.org and every host under it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage import peers as peer_queries
from storage.coverage import entries_covering
from storage.models import PeerState

REFRESH_SECONDS = 5.0
BLOCKED = "blocked"
NOT_ALLOWED = "not on the allowlist"


def _matches(authority: str, entries: frozenset[str]) -> bool:
    return bool(entries) and any(entry in entries for entry in entries_covering(authority))


@dataclass
class Policy:
    mode: str  # allowlist | blocklist | open
    own_authority: str = ""  # this instance: always allowed to talk to itself
    allowed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    loaded_at: float = field(default=float("-inf"))

    async def refresh(self, session: AsyncSession) -> None:
        rows = await peer_queries.decided_peers(session)
        # a limited peer federates as an allowed one; its posts are kept out of public timelines
        self.allowed = frozenset(domain for domain, state in rows if state in (PeerState.allowed, PeerState.limited))
        self.blocked = frozenset(domain for domain, state in rows if state is PeerState.blocked)
        self.loaded_at = time.monotonic()

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > REFRESH_SECONDS

    def allows(self, authority: str) -> bool:
        return self.refusal(authority) is None

    def refusal(self, authority: str) -> str | None:
        """None when the peer may talk to us and be talked to; else why not, for the logs and
        the admins (never for the peer): BLOCKED or NOT_ALLOWED."""
        authority = authority.lower()
        if authority == self.own_authority:
            return None
        if _matches(authority, self.blocked):
            return BLOCKED
        if self.mode == "allowlist" and not _matches(authority, self.allowed):
            return NOT_ALLOWED
        return None
