"""The inbox worker's committer: it runs prepared items' handlers in shared write transactions.

A prepared item (`federation.inbox.worker`'s chains prepare them) goes to the `Committer`, which
runs the handlers of the items it has, in the order submitted, in a shared write transaction (on
SQLite it takes the write lock first: BEGIN IMMEDIATE), each item in a savepoint, and records each
outcome in the same transaction; it commits when it has no more items, after BATCH_SECONDS, or as
soon as intake wants the write lock (`storage.db.WriteTurns`), so that intake's commits never wait
long. Creates of plain notes (most of what arrives) are handled together, a savepoint around them,
and each alone if that fails (`federation.inbox.handlers.create.handle_many`); while chains are
still preparing items, the committer waits for them a little (GATHER_SECONDS), so that more are
together. On SQLite the next transaction then waits GAP_SECONDS, so that other writers polling in
SQLite's busy handler get their turn.

A handler that raises Ignore marks its item ignored. Whatever else one item raises (a peer that
cannot be reached, a document that cannot be understood, a bug) rolls back that item's savepoint
only, and marks it failed, with the error, due again later (`federation.inbox.failures` says when,
and when it is dead instead, for an admin: `rounds queue`). The batch goes on either way. If the
transaction itself fails (the database), each item in it or waiting for it records its failure in
a transaction of its own, with the rest of its chain, and the committer waits RETRY_SECONDS before
the next one. Cancellation is not an Exception and stops the worker; its leases lapse (or are
released at the next start on SQLite). Streaming events are published after the commit
(`storage.db.after_commit`); failing to publish them is logged, and the items stay done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from federation.inbox.failures import failure
from federation.inbox.handlers import create
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.protocol.vocab.parse import APActivity, APObject
from federation.runtime.context import Federation
from storage import actors as actor_queries
from storage import inbox_queue
from storage.db import savepoint, take_write_lock
from storage.inbox_queue import Claimed
from storage.models import Actor, InboxState

log = logging.getLogger(__name__)

BATCH_SECONDS = 0.05  # a write transaction of handled items commits once it has run this long
GAP_SECONDS = 0.01  # then the next one waits this long on SQLite: other writers' turn
# in its first GATHER_SECONDS, a transaction waits for items being prepared before it takes the
# Creates waiting (`Committer._gather`): more of them handled together
GATHER_SECONDS = 0.01
INTAKE_PAUSE = 0.05
INTAKE_PAUSES = 20
RETRY_SECONDS = 1.0  # after a transaction failed (the database), the next one waits this long


@dataclass
class Work:
    """A claimed item, prepared for its handler, or with the reason it cannot be handled."""

    item: Claimed
    activity: APActivity | None = None
    handler: ModuleType | None = None
    prepared: Any = None
    error: Exception | None = None  # an Ignore or a failure met while preparing
    chain: int = 0  # which chain submitted it (its list's id)
    # set once its handler has run in the committer's open transaction, then once that commits
    handled: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())
    committed: asyncio.Future = field(default_factory=lambda: asyncio.get_running_loop().create_future())

    @property
    def keys(self) -> set[str]:
        """What orders it against other items: its actor, and the object it is about."""
        keys = {"actor " + self.item.actor_uri}
        if self.activity is not None:
            if self.activity.object_id:
                keys.add("object " + self.activity.object_id)
            post = self.activity.object
            if isinstance(post, APObject) and post.in_reply_to:  # a reply after the post it answers
                keys.add("object " + post.in_reply_to)
        return keys


def _alike(work: Work) -> bool:
    """A Create of a plain note, prepared: handled with others like it (`create.handle_many`)."""
    return work.error is None and work.handler is create and create.alike(work.prepared)


def _known(actor: Actor | None) -> bool:
    return actor is not None and actor.deleted_at is None


class Committer:
    """Runs prepared items' handlers in shared write transactions, a savepoint each."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self._pending: list[Work] = []
        self._task: asyncio.Task | None = None
        # held by each write transaction of the worker's own on SQLite, its one writer; on
        # PostgreSQL, with row locks, a claim does not wait for a batch to commit, nor a batch
        # for a claim (as intake does not: federation.inbox.writer)
        self.writes = fed.db.writes.lock if fed.db.is_sqlite else nullcontext()
        # SQLite: after a commit, the next transaction waits GAP_SECONDS, so that another writer
        # polling in its busy handler gets the lock; PostgreSQL has no single writer to share
        self._gap = GAP_SECONDS if fed.db.is_sqlite else 0.0
        self._free_at = 0.0  # loop time before which the next transaction does not begin
        self._preparing = 0  # items the pump's chains are preparing now: soon submitted
        self._arrival = asyncio.Event()  # set by each submission and each preparation's end

    @property
    def tasks(self) -> list[asyncio.Task]:
        return [self._task] if self._task is not None else []

    @asynccontextmanager
    async def preparing(self) -> AsyncIterator[None]:
        """Around an item's preparation, which ends in its submission (or its chain's end): while
        items are being prepared, the committer waits a little for them before it takes the
        Creates waiting (`_gather`), which are then handled together."""
        self._preparing += 1
        try:
            yield
        finally:
            self._preparing -= 1
            self._arrival.set()

    def submit(self, work: Work) -> None:
        """Queue the item, to be handled after the items submitted before it. `work.handled` says
        when its handler has run and its outcome is written in the open transaction, then
        `work.committed` when that commits; either gets what made the transaction fail."""
        self._pending.append(work)
        self._arrival.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    def drop_pending(self) -> None:
        self._pending.clear()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._pending:
            if loop.time() < self._free_at:
                await asyncio.sleep(self._free_at - loop.time())
            await give_way_to_intake(self.fed)
            taken: list[Work] = []
            try:
                await self._commit(taken)
            except Exception as exc:  # the database: what waits fails too, and is tried again later
                log.warning("inbox: a transaction of %d items did not commit, %d more waited: %s",
                            len(taken), len(self._pending), exc)
                waiting, self._pending = self._pending, []
                for work in taken:
                    (work.committed if work.handled.done() else work.handled).set_exception(exc)
                for work in waiting:
                    work.handled.set_exception(exc)
                self._free_at = loop.time() + RETRY_SECONDS
                continue
            finally:
                self._free_at = max(self._free_at, loop.time() + self._gap)
            for work in taken:
                work.committed.set_result(None)

    async def _commit(self, taken: list[Work]) -> None:
        """Handle pending items in one transaction, in the order submitted (but Creates of plain
        notes, handled together: `_take_alike`), those submitted meanwhile included, until none
        is left or it has run BATCH_SECONDS; each item taken is appended to `taken`."""
        loop = asyncio.get_running_loop()
        turns = self.fed.db.writes
        async with self.writes, self.fed.transaction() as session:
            await take_write_lock(session)
            started = loop.time()
            actors: dict[str, Actor] = {}  # emptied when a savepoint rolls back
            unknown: set[str] = set()
            done: list[int] = []  # the items handled, marked done together before the commit
            gather_until = started + GATHER_SECONDS
            while self._pending and loop.time() - started < BATCH_SECONDS and not (taken and turns.wanted):
                await self._gather(gather_until)
                work = self._pending.pop(0)
                group = [work]
                if _alike(work):  # with the other Creates of plain notes waiting
                    group += self._take_alike()
                taken += group
                if {other.activity.actor for other in group if other.activity is not None} - actors.keys() - unknown:
                    # the actors of these items and of the pending ones, at once
                    uris = {other.activity.actor for other in (*group, *self._pending) if other.activity is not None}
                    actors.update(await actor_queries.actors_by_uris(session, list(uris - actors.keys())))
                    unknown |= uris - actors.keys()
                if _alike(work):
                    await self._handle_alike(session, group, actors, done)
                else:
                    await self._handle(session, work, actors, done)
                for handled in group:
                    handled.handled.set_result(None)
                await asyncio.sleep(0)  # their chains submit their next items, if they have them ready
            await inbox_queue.finish_many(session, done, self.fed.clock.now())

    def _take_alike(self) -> list[Work]:
        """The Creates of plain notes waiting, taken out of the queue, but for those after an
        item of their chain that is not one: a chain's items are handled in the order submitted."""
        taken, left, held = [], [], set()
        for work in self._pending:
            if _alike(work) and work.chain not in held:
                taken.append(work)
            else:
                left.append(work)
                held.add(work.chain)
        self._pending = left
        return taken

    async def _gather(self, until: float) -> None:
        """Wait, until the loop time `until` at the latest, while items are being prepared and
        only Creates to handle together are waiting, so that those being prepared join them (a
        prefetch that reads the database, or a peer, takes a few loop turns). Not while intake
        wants the write lock."""
        loop = asyncio.get_running_loop()
        while (self._preparing and not self.fed.db.writes.wanted and all(_alike(work) for work in self._pending)
               and (left := until - loop.time()) > 0):
            self._arrival.clear()
            try:
                await asyncio.wait_for(self._arrival.wait(), left)
            except TimeoutError:
                return

    async def _handle_alike(self, session, group: list[Work], actors: dict[str, Actor], done: list[int]) -> None:
        """Creates of plain notes (`create.alike`) handled together, in one savepoint; those it
        leaves, and all of them if it fails (which one made it fail is not known), one at a time."""
        together = [work for work in group if _known(actors.get(work.activity.actor))]
        alone = [work for work in group if work not in together]
        if together:
            now = self.fed.clock.now()
            contexts = [HandlerContext(self.fed, session, work.activity, actors[work.activity.actor], now, work.prepared)
                        for work in together]
            try:
                async with savepoint(session):
                    left = {id(ctx) for ctx in await create.handle_many(contexts)}
            except Exception as exc:
                actors.clear()  # a rolled-back savepoint expired what it changed: load afresh
                log.info("inbox: %d Creates handled together failed (%s); handling each alone", len(together), exc)
                alone += together
            else:
                done += [work.item.id for work, ctx in zip(together, contexts) if id(ctx) not in left]
                alone += [work for work, ctx in zip(together, contexts) if id(ctx) in left]
        for work in alone:
            await self._handle(session, work, actors, done)

    async def _handle(self, session, work: Work, actors: dict[str, Actor], done: list[int]) -> None:
        """The item's handler in a savepoint; done (appended to `done`), or its outcome written."""
        item, now = work.item, self.fed.clock.now()
        try:
            if work.error is not None:
                raise work.error
            async with savepoint(session):
                actor = actors.get(work.activity.actor) or await actor_queries.actor_by_uri(session, work.activity.actor)
                if not _known(actor):
                    raise Ignore(f"unknown or deleted actor {work.activity.actor}")
                await work.handler.handle(HandlerContext(self.fed, session, work.activity, actor, now, work.prepared))
            done.append(item.id)
        except Ignore as reason:
            actors.clear()  # a rolled-back savepoint expired what it changed: load afresh
            log.info("inbox %s %s ignored: %s", item.activity_type, item.activity_uri, reason)
            await inbox_queue.finish(session, item.id, InboxState.ignored, str(reason), now)
        except Exception as exc:
            actors.clear()
            error, retry_at = failure(self.fed, item, exc, now)
            await inbox_queue.fail(session, item.id, error, now, retry_at)


async def give_way_to_intake(fed: Federation) -> None:
    """While inbox POSTs are being committed in this process, wait (up to a second at a time):
    a stored activity is already safe, and a peer waiting on its 202 is not. A worker process
    without intake never waits."""
    loop = asyncio.get_running_loop()
    for _ in range(INTAKE_PAUSES):
        if loop.time() - fed.inbox_writer.last_commit > INTAKE_PAUSE:
            return
        await asyncio.sleep(INTAKE_PAUSE)
