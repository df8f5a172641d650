"""The federation runtime: one object that holds what the inbox, outbox and workers share.

`open_federation` builds it around a database: the guarded HTTP client session, the fetcher, the
key store, the policy snapshot, the inbox writer and the instance actor (who signs our fetches).
Whoever opens it (the web app's cleanup context, `rounds worker`, a test) closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import aiohttp
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession

from federation.runtime.clock import Clock
from federation.peers.backoff import Backoffs
from federation.peers.contacts import Contacts
from federation.social.events import EventBus
from federation.social.events import take as take_events
from federation.protocol.fetch import Fetcher
from federation.protocol.http import make_client_session
from federation.inbox.writer import InboxWriter
from federation.protocol.keys import load_private_key
from federation.protocol.keystore import KeyStore
from federation.peers.policy import Policy
from federation.runtime.settings import FederationSettings
from federation.protocol.signatures import sign_request
from federation.protocol.urls import LocalUrls
from federation.protocol.vocab.jsondoc import MAX_JSON_DEPTH
from storage import actors as actor_queries
from storage.db import Database, after_commit, describe_error
from storage.models import Actor

log = logging.getLogger(__name__)
CONTACTS_FLUSH_SECONDS = 10.0


class NotInitialised(Exception):
    """The database has no instance actor: `rounds init` has not run."""


@dataclass
class Federation:
    settings: FederationSettings
    urls: LocalUrls
    db: Database
    clock: Clock
    policy: Policy
    http: aiohttp.ClientSession
    inbox_writer: InboxWriter
    max_json_depth: int  # [server] max_json_depth: the bound `load_json` applies to every document
    events: EventBus = field(init=False)
    fetcher: Fetcher = field(init=False)
    keys: KeyStore = field(init=False)
    contacts: Contacts = field(init=False)  # requests counted per peer, written every few seconds
    instance_actor: Actor | None = None
    deliveries_queued: asyncio.Event = field(default_factory=asyncio.Event)
    inbox_queued: asyncio.Event = field(default_factory=asyncio.Event)
    peers_in_backoff: Backoffs = field(default_factory=Backoffs)  # read from the peers table
    peers_allowed: asyncio.Event = field(default_factory=asyncio.Event)  # wakes federation.peers.greeting

    def __post_init__(self) -> None:
        self.events = EventBus(self.db)
        self.fetcher = Fetcher(
            session=self.http,
            sign=self.sign_get,
            allow_http=self.settings.allow_http,
            allow_private_addresses=self.settings.allow_private_addresses,
            allows_authority=self.policy.allows,
            max_bytes=self.settings.fetch_max_bytes,
            max_json_depth=self.max_json_depth,
        )
        self.keys = KeyStore(self.db, self.fetcher, self.clock, self.settings.key_refetch_interval_seconds)
        self.contacts = Contacts(self.settings, self.clock)

    async def ensure_ready(self) -> None:
        """Load what needs the database (instance actor, policy, backoff set) if not loaded yet,
        and read the policy and the backoffs again once they are a few seconds old (another
        process may have changed them); a database that was down at start is picked up here
        once it is back."""
        now = self.clock.now()
        if self.instance_actor is not None and not self.policy.stale() and not self.peers_in_backoff.stale(now):
            return
        async with self.db.sessions() as session:
            if self.instance_actor is None:
                instance = await actor_queries.instance_actor(session)
                if instance is None:
                    raise NotInitialised("this instance is not initialised; run 'rounds init' first")
                self.instance_actor = instance
            await self.policy.refresh(session)
            await self.peers_in_backoff.refresh(session, now)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction whose streaming events are published once it has committed (and
        whose other `after_commit` callbacks run then too, as every transaction's do)."""
        async with self.db.sessions.begin() as session:
            after_commit(session, lambda: self.events.publish(take_events(session)))
            yield session

    async def reload_policy(self) -> None:
        """Take an admin change made in this process into effect at once."""
        async with self.db.sessions() as session:
            await self.policy.refresh(session)

    def sign_get(self, method: str, url: str) -> Mapping[str, str]:
        """Headers for a GET signed by the instance actor (authorized fetch)."""
        actor = self.instance_actor
        if actor is None:
            raise NotInitialised("the instance actor is not loaded yet")
        return sign_request(
            method, url, {}, None, key_id=actor.key_id,
            private_key=load_private_key(actor.private_key_pem), now=self.clock.now(),
        )


@asynccontextmanager
async def open_federation(
    settings: FederationSettings, urls: LocalUrls, db: Database, clock: Clock, *, user_agent: str,
    max_json_depth: int = MAX_JSON_DEPTH,
) -> AsyncIterator[Federation]:
    """The runtime, with its inbox writer running. The database may be down: what needs it is
    loaded by `ensure_ready` (tried here, and again on first use)."""
    http = make_client_session(
        allow_private_addresses=settings.allow_private_addresses,
        user_agent=user_agent,
        limit_per_host=settings.delivery_per_host,
    )
    fed = Federation(settings, urls, db, clock, Policy(settings.mode, urls.authority), http, InboxWriter(db, clock),
                     max_json_depth)
    writer = asyncio.create_task(fed.inbox_writer.run(), name="inbox-writer")
    listener = None if db.is_sqlite else asyncio.create_task(_listen(fed), name="event-listener")
    counter = asyncio.create_task(_flush_contacts(fed), name="peer-contacts")
    try:
        try:
            await fed.ensure_ready()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("database not ready at start (%s); federation will retry", describe_error(exc))
        yield fed
    finally:
        tasks = [task for task in (writer, listener, counter) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        try:
            await fed.contacts.flush(db)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("peer contacts not written at close: %s", describe_error(exc))
        await http.close()


async def _flush_contacts(fed: Federation) -> None:
    """Write the requests counted per peer every few seconds (see federation.peers.contacts)."""
    while True:
        await asyncio.sleep(CONTACTS_FLUSH_SECONDS)
        try:
            await fed.contacts.flush(fed.db)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("peer contacts not written (%s); retrying", describe_error(exc))


async def _listen(fed: Federation) -> None:
    """Keep LISTENing for other processes' streaming events; reconnect after a failure."""
    while True:
        try:
            await fed.events.listen()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("event listener lost the database (%s); retrying", describe_error(exc))
            await asyncio.sleep(fed.settings.worker_poll_seconds)
