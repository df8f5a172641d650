"""Federation policy: the one place that says whether a peer may talk to us or be talked to.

Decisions are made in memory from a snapshot of the admin's allow/block entries, so refusing a
peer costs no database read and no network request. The snapshot is reloaded after every
change made in this process and every few seconds otherwise (other processes' changes).

A peer is an authority: host, plus the port when not the scheme's default. An entry
`*.example.org` covers example.org and all its subdomains; a plain entry covers exactly itself.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from storage import peers as peer_queries
from storage.models import PeerState

REFRESH_SECONDS = 5.0


def _matches(authority: str, entries: frozenset[str]) -> bool:
    if not entries:
        return False
    if authority in entries:
        return True
    host = authority.rsplit(":", 1)[0] if not authority.endswith("]") else authority
    parts = host.split(".")
    return any(f"*.{'.'.join(parts[i:])}" in entries for i in range(len(parts)))


@dataclass
class Policy:
    mode: str  # allowlist | blocklist | open
    own_authority: str = ""  # this instance: always allowed to talk to itself
    allowed: frozenset[str] = frozenset()
    blocked: frozenset[str] = frozenset()
    loaded_at: float = field(default=float("-inf"))

    async def refresh(self, session: AsyncSession) -> None:
        rows = await peer_queries.decided_peers(session)
        self.allowed = frozenset(domain for domain, state in rows if state is PeerState.allowed)
        self.blocked = frozenset(domain for domain, state in rows if state is PeerState.blocked)
        self.loaded_at = time.monotonic()

    def stale(self) -> bool:
        return time.monotonic() - self.loaded_at > REFRESH_SECONDS

    def allows(self, authority: str) -> bool:
        authority = authority.lower()
        if authority == self.own_authority:
            return True
        if _matches(authority, self.blocked):
            return False
        if self.mode == "allowlist":
            return _matches(authority, self.allowed)
        return True
