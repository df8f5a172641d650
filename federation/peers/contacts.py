"""Who reaches us: requests from peers, counted in memory and written in batches.

Every signed request is counted for its peer (requests, first and last seen) with no write on the
request path: intake takes thousands of requests a second, so the counts live in memory and
`flush` writes them, every few seconds (`flush_every`, started by federation.runtime.context) and at close. A
refused request, a knock, is counted the same way with what an admin needs to decide: the
route, the reason, the key id, and whether the signature was valid against a key we already
held. Nothing is fetched from a refused peer, so a key we do not hold leaves it `unverified`.

Unknown peers cannot fill the peer list. In allowlist mode a knock from a peer with no row makes
it `pending`, within limits: each source address may bring at most
`pending_peers_per_address_per_hour` distinct peers an hour (counted per process; further
knocks from it are refused and logged, not recorded), no new peer is added once
`pending_peers_max` are pending, and a pending peer that has not knocked for
`pending_peer_expiry_days` is forgotten. A knock from a blocked peer is counted on its row, if it
has one, and never adds one.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError

from federation.runtime.clock import Clock
from federation.runtime.settings import FederationSettings
from storage import peers as peer_queries
from storage.db import Database, describe_error
from storage.peers import Contact

log = logging.getLogger(__name__)

MAX_TALLIES = 100_000  # peers counted between two flushes, beyond which new ones are not
MAX_ADDRESSES = 100_000  # source addresses tracked for the hourly limit
WINDOW = timedelta(hours=1)
EXPIRY_EVERY = timedelta(hours=1)


class Contacts:
    def __init__(self, settings: FederationSettings, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._tallies: dict[str, Contact] = {}
        self._sources: dict[str, tuple[datetime, set[str]]] = {}  # address -> (window start, peers)
        self._expired_at: datetime | None = None

    def seen(self, peer: str) -> None:
        """An accepted signed request from `peer`."""
        now = self._clock.now()
        tally = self._tallies.get(peer)
        if tally is None:
            if len(self._tallies) < MAX_TALLIES:
                self._tallies[peer] = Contact(peer, 1, now, now)
            return
        tally.count += 1
        tally.last = now

    def admit(self, peer: str, address: str) -> bool:
        """Whether a knock from `peer`, coming from `address`, is recorded: within the hourly
        number of distinct peers one address may bring."""
        now = self._clock.now()
        start, peers = self._sources.get(address, (now, set()))
        if now - start >= WINDOW:
            start, peers = now, set()
        if peer in peers:
            return True
        if len(peers) >= self._settings.pending_peers_per_address_per_hour:
            return False
        if address not in self._sources and len(self._sources) >= MAX_ADDRESSES:
            self._sources = {a: w for a, w in self._sources.items() if now - w[0] < WINDOW}
            if len(self._sources) >= MAX_ADDRESSES:
                return False
        peers.add(peer)
        self._sources[address] = (start, peers)
        return True

    def knocked_lately(self, peer: str) -> bool:
        """A knock from `peer` is counted since the last flush (its signature was looked at)."""
        tally = self._tallies.get(peer)
        return tally is not None and tally.refused

    def refused(self, peer: str, *, route: str, reason: str, key_id: str, signature: str | None,
                may_pend: bool) -> None:
        """A refused request from `peer` (admitted by `admit`). `signature` None keeps the last
        state seen."""
        now = self._clock.now()
        tally = self._tallies.get(peer)
        if tally is None:
            if len(self._tallies) >= MAX_TALLIES:
                return
            tally = self._tallies[peer] = Contact(peer, 0, now, now)
        tally.count += 1
        tally.last = now
        tally.refused = True
        tally.may_pend = may_pend
        tally.route, tally.reason, tally.key_id = route, reason, key_id
        if signature is not None:
            tally.signature = signature

    async def flush(self, db: Database) -> None:
        """Write what was counted since the last flush, and (hourly) forget stale pending peers."""
        tallies, self._tallies = self._tallies, {}
        now = self._clock.now()
        expire = self._expired_at is None or now - self._expired_at >= EXPIRY_EVERY
        if not tallies and not expire:
            return
        try:
            async with db.sessions.begin() as session:
                left_out = await peer_queries.record_contacts(
                    session, sorted(tallies.values(), key=lambda c: c.first),
                    pending_max=self._settings.pending_peers_max)
                expired = await peer_queries.expire_pending(
                    session, now - timedelta(days=self._settings.pending_peer_expiry_days)) if expire else 0
        except Exception:
            self._restore(tallies)
            raise
        if expire:
            self._expired_at = now
        if left_out:
            log.warning("pending peers are full (%d, federation.pending_peers_max): not listing %s",
                        self._settings.pending_peers_max, ", ".join(left_out[:10]))
        if expired:
            log.info("forgot %d pending peers that had not knocked for %g days", expired,
                     self._settings.pending_peer_expiry_days)

    async def flush_every(self, db: Database, seconds: float) -> None:
        """Flush every `seconds` until cancelled; a failed flush keeps its counts for the next."""
        while True:
            await asyncio.sleep(seconds)
            try:
                await self.flush(db)
            except (SQLAlchemyError, OSError) as exc:
                log.warning("peer contacts not written (%s); retrying", describe_error(exc))

    async def final_flush(self, db: Database) -> None:
        """Flush at close; a database that is gone by then costs the counts, logged."""
        try:
            await self.flush(db)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("peer contacts not written at close: %s", describe_error(exc))

    def _restore(self, tallies: dict[str, Contact]) -> None:
        """Put back counts a failed flush did not write, merged with those counted since."""
        for peer, older in tallies.items():
            newer = self._tallies.get(peer)
            if newer is None:
                self._tallies[peer] = older
                continue
            newer.count += older.count
            newer.first = older.first
            if not newer.refused and older.refused:
                newer.refused, newer.may_pend, newer.route, newer.reason, newer.key_id = (
                    True, older.may_pend, older.route, older.reason, older.key_id)
            newer.signature = newer.signature or older.signature
