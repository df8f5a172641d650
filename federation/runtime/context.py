"""The federation runtime of one process: what the inbox, outbox and workers share.

`open_federation` builds it around a database: the guarded HTTP client session, the fetcher, the
key store, the policy snapshot and the instance actor (who signs our fetches), and starts what
the rooms run in the background (the inbox writer, the contacts flush, the event listener on
PostgreSQL). Whoever opens it (the web app's cleanup context, `rounds worker`, a test) closes it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Mapping
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
from federation.social.push import take_queued as take_queued_pushes
from federation.protocol.fetch import Fetcher
from federation.protocol.http import make_client_session
from federation.inbox.writer import InboxWriter
from federation.protocol.keys import load_private_key
from federation.protocol.keystore import KeyStore
from federation.peers.policy import Policy
from federation.runtime.settings import FederationSettings
from federation.runtime.wakeups import Wakeups
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
    """What one process's federation runs on: its settings and identity, its clock, database,
    HTTP client, keys and policy snapshot. What a room owns is only handed through: the inbox
    writer (federation.inbox), the streaming event bus (federation.social.events), what this
    process knows of peers' comings and goings (federation.peers: contacts counted, backoffs
    read), and what wakes the workers (federation.runtime.wakeups)."""

    settings: FederationSettings
    urls: LocalUrls
    db: Database
    clock: Clock
    policy: Policy
    http: aiohttp.ClientSession
    inbox_writer: InboxWriter
    max_json_depth: int  # [server] max_json_depth: the bound `load_json` applies to every document
    fetcher: Fetcher = field(init=False)
    keys: KeyStore = field(init=False)
    instance_actor: Actor | None = None  # who signs our fetches; loaded by ensure_ready
    events: EventBus = field(init=False)
    contacts: Contacts = field(init=False)  # requests counted per peer, written every few seconds
    backoffs: Backoffs = field(default_factory=Backoffs)  # which peers back off, read from the peers table
    wake: Wakeups = field(default_factory=Wakeups)

    def __post_init__(self) -> None:
        self.events = EventBus(self.db)
        self.fetcher = Fetcher(
            session=self.http,
            sign=self.sign_get,
            allow_http=self.settings.allow_http,
            allow_private_addresses=self.settings.allow_private_addresses,
            allows_authority=self.policy.allows,
            max_bytes=self.settings.fetch_max_bytes,
            deadline_seconds=self.settings.fetch_timeout_seconds,
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
        if self.instance_actor is not None and not self.policy.stale() and not self.backoffs.stale(now):
            return
        async with self.db.sessions() as session:
            if self.instance_actor is None:
                instance = await actor_queries.instance_actor(session)
                if instance is None:
                    raise NotInitialised("this instance is not initialised; run 'rounds init' first")
                self.instance_actor = instance
            await self.policy.refresh(session)
            await self.backoffs.refresh(session, now)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """A write transaction whose streaming events are published once it has committed (and
        whose other `after_commit` callbacks run then too, as every transaction's do)."""
        async with self.db.sessions.begin() as session:
            after_commit(session, lambda: self._published(take_events(session), take_queued_pushes(session)))
            yield session

    def _published(self, events: list, pushes: bool) -> Awaitable[None]:
        """Publish a committed transaction's stream events; if it queued pushes (a notification
        for a device that wants it), wake the push worker. A notification nobody's device
        wants wakes nobody: the inbox worker writes many, and each wake is a claim."""
        if pushes:
            self.wake.push.set()
        return self.events.publish(events)

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
    tasks = [
        asyncio.create_task(fed.inbox_writer.run(), name="inbox-writer"),
        asyncio.create_task(fed.contacts.flush_every(db, CONTACTS_FLUSH_SECONDS), name="peer-contacts"),
    ]
    if not db.is_sqlite:  # other processes' streaming events come through NOTIFY
        tasks.append(asyncio.create_task(fed.events.listen_forever(settings.worker_poll_seconds), name="event-listener"))
    try:
        try:
            await fed.ensure_ready()
        except (SQLAlchemyError, OSError) as exc:
            log.warning("database not ready at start (%s); federation will retry", describe_error(exc))
        yield fed
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await fed.contacts.final_flush(db)
        await http.close()
