"""Public keys of signers: memory, then the actors table, then the network.

Keys are kept in memory once seen. A key is fetched on first sight (a GET signed by the instance actor) and stored with its actor.
When a signature fails with a stored key, the caller may ask for one refetch, in case the peer
rotated its key; refetches are rate-limited per key id so a forger cannot make us hammer a
peer (or ourselves).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes

from federation.remote.actors import ActorError, actor_from_document, fetch_actor, upsert_remote_actor
from federation.runtime.clock import Clock
from federation.protocol.fetch import FetchError, Fetcher
from federation.protocol.keys import load_public_key
from federation.protocol.urls import authority
from federation.protocol.vocab.actors import ap_to_key_document
from storage import actors as actor_queries
from storage.db import Database


class UnknownKey(Exception):
    """The key cannot be found or fetched; one line."""


@dataclass(frozen=True)
class SignerKey:
    key_id: str
    owner: str  # actor uri
    public_key: PublicKeyTypes
    fetched_now: bool  # True when it came from the network during this call


class KeyStore:
    def __init__(self, db: Database, fetcher: Fetcher, clock: Clock, refetch_interval: float) -> None:
        self._db = db
        self._fetcher = fetcher
        self._clock = clock
        self._refetch_interval = refetch_interval
        self._last_refetch: dict[str, float] = {}
        self._cache: dict[str, SignerKey] = {}

    async def get(self, key_id: str) -> SignerKey:
        """Memory, then the actors table, then the network."""
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        async with self._db.sessions() as session:
            actor = await actor_queries.actor_by_key_id(session, key_id)
        # a row binding the key to an actor of another origin predates check_identity: not trusted
        if actor is not None and actor.deleted_at is None and authority(actor.uri) == authority(key_id):
            return self._remember(SignerKey(key_id, actor.uri, self._parse(key_id, actor.public_key_pem), False))
        return self._remember(await self._fetch(key_id))

    async def held(self, key_id: str) -> SignerKey | None:
        """The key if we already hold it (memory, then the actors table), never the network: for
        checking a refused peer's signature without asking it for anything."""
        cached = self._cache.get(key_id)
        if cached is not None:
            return cached
        async with self._db.sessions() as session:
            actor = await actor_queries.actor_by_key_id(session, key_id)
        if actor is None or actor.deleted_at is not None:
            return None
        try:
            return self._remember(SignerKey(key_id, actor.uri, self._parse(key_id, actor.public_key_pem), False))
        except UnknownKey:
            return None

    def forget(self, key_id: str) -> None:
        """Drop a key from memory (its actor was deleted)."""
        self._cache.pop(key_id, None)

    def _remember(self, key: SignerKey) -> SignerKey:
        if len(self._cache) >= 50_000:
            self._cache.clear()
        self._cache[key.key_id] = SignerKey(key.key_id, key.owner, key.public_key, False)
        return key

    async def refetch(self, key_id: str) -> SignerKey | None:
        """Fetch the key again unless it was refetched within the interval (then None)."""
        now = time.monotonic()
        if now - self._last_refetch.get(key_id, float("-inf")) < self._refetch_interval:
            return None
        self._last_refetch[key_id] = now
        if len(self._last_refetch) > 50_000:
            self._last_refetch.clear()
        return self._remember(await self._fetch(key_id))

    async def _fetch(self, key_id: str) -> SignerKey:
        """The key's document is either the actor itself (`.../users/x#main-key`) or a key
        document naming its owner (GoToSocial's `.../main-key` stub); then the owner is fetched,
        and it must publish this very key."""
        key_url = key_id.split("#", 1)[0]
        try:
            final_url, document = await self._fetcher.get_json(key_url)
            key_document = ap_to_key_document(document)
            if key_document.is_owner:
                ap = actor_from_document(key_url, final_url, document)
            else:
                ap = await fetch_actor(self._fetcher, key_document.owner)
        except (ActorError, FetchError) as exc:
            raise UnknownKey(str(exc)) from exc
        if ap.public_key.id != key_id:
            raise UnknownKey(f"actor {ap.id} does not publish the key {key_id}")
        public_key = self._parse(key_id, ap.public_key.pem)
        try:
            async with self._db.sessions.begin() as session:
                await upsert_remote_actor(session, ap, self._clock.now())
        except ActorError as exc:  # e.g. the key is bound to another actor
            raise UnknownKey(str(exc)) from exc
        return SignerKey(key_id, ap.id, public_key, True)

    @staticmethod
    def _parse(key_id: str, pem: str) -> PublicKeyTypes:
        try:
            return load_public_key(pem)
        except ValueError as exc:
            raise UnknownKey(f"key {key_id} is not a usable public key: {exc}") from exc

