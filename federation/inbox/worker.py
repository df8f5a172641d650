"""The inbox worker: runs the handler of each stored activity, many at once, in order where order
matters, with one commit per batch of handled items.

The item states and their transitions are declared in `storage.states`; this is where
the worker's ones happen:

    queued | failed, when due --claim--> done | ignored | failed (due after a backoff) | dead

Claim. `InboxPump.step` claims a batch of due items (`storage.inbox_queue.claim`: retries and
queued items alternately, queued ones in the turn order fair queuing gave them at intake, so a
flooding peer cannot starve the others; an actor's queued items in arrival order only, never one
beside an earlier one still held, here or in another worker process). A claim leases its items
and counts an attempt; it decodes nothing.

Chains. The batch is split into chains: items that share an actor or an object (the activity's
object id), in arrival order. Chains run side by side, each item of a chain after the one before
it, so a Create is handled before its Update and Delete, and a post before the Like that arrived
after it. An item's preparation runs in its chain: decoding (bounded by [server]
max_json_depth), parsing, the policy re-check and the handler's `prefetch`, which is the only
step that reaches peers, each fetch bounded by [federation] fetch_timeout_seconds. A chain
prepares its next item while the one before waits to be handled. A slow peer delays its own
chain only; the other chains, and the next batches, go on.

Commit. A prepared item goes to the `Committer`, which runs the handlers of the items it has,
in the order submitted, in a shared write transaction (on SQLite it takes the write lock first: BEGIN
IMMEDIATE), each item in a savepoint, and records each outcome in the same transaction; it
commits when it has no more items, after BATCH_SECONDS, or as soon as intake wants the write
lock (`storage.db.WriteTurns`), so that intake's commits never wait long. Creates of plain notes
(most of what arrives) are handled together, a savepoint around them, and each alone if that
fails (`federation.inbox.handlers.create.handle_many`); while chains are still preparing items,
the committer waits for them a little (GATHER_SECONDS), so that more are together. On SQLite the next
transaction then waits GAP_SECONDS, so that other writers polling in SQLite's busy handler get
their turn. A handler that raises Ignore marks its item ignored. Whatever else one item raises (a peer
that cannot be reached, a document that cannot be understood, a bug) rolls back that item's
savepoint only, and marks it failed, with the error, due again later (`federation.inbox.failures`
says when, and when it is dead instead, for an admin: `rounds queue`). The batch goes on either way. If the transaction itself fails
(the database), each item in it or waiting for it records its failure in a transaction of its
own, with the rest of its chain, and the committer waits RETRY_SECONDS before the next one. Cancellation is not an
Exception and stops the worker; its leases lapse (or are released at the next start on SQLite).
Streaming events are published after the commit (`storage.db.after_commit`); failing to publish
them is logged, and the items stay done.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from types import ModuleType
from typing import Any

from federation.inbox.handlers import HANDLERS, create
from federation.inbox.failures import failure, record_failure_alone
from federation.inbox.handlers.base import HandlerContext, Ignore
from federation.protocol.urls import authority
from federation.protocol.vocab.jsondoc import load_json
from federation.protocol.vocab.parse import APActivity, APObject, ap_to_activity
from federation.runtime.context import Federation
from storage import actors as actor_queries
from storage import inbox_queue
from storage.db import savepoint, take_write_lock
from storage.inbox_queue import Claimed
from storage.models import Actor, InboxState

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 25  # items a claim takes
IN_FLIGHT = 2 * BATCH  # items claimed and not yet finished, at most: one batch prepares while one commits
BATCH_SECONDS = 0.05  # a write transaction of handled items commits once it has run this long
# in its first GATHER_SECONDS, a transaction waits for items being prepared before it takes the
# Creates waiting (`Committer._gather`): more of them handled together
GATHER_SECONDS = 0.01
GAP_SECONDS = 0.01  # then the next one waits this long on SQLite: other writers' turn
INTAKE_PAUSE = 0.05
INTAKE_PAUSES = 20
RETRY_SECONDS = 1.0  # after a transaction failed (the database), the next one waits this long
# a claim that took nothing, only because other workers hold the due items' actors, is tried
# again after this long (`InboxPump.step`'s held_back_for), not at the next poll
HELD_BACK_SECONDS = 0.05


async def run_once(fed: Federation, limit: int = BATCH) -> int:
    """Claim one batch of due inbox items and see each of them through; how many were taken."""
    pump = InboxPump(fed)
    taken = await pump.step(limit)
    await pump.settle()
    return taken


@dataclass
class _Work:
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


class InboxPump:
    """Claims batches, runs their chains side by side, and hands prepared items to its committer."""

    def __init__(self, fed: Federation, *, batch: int = BATCH, in_flight: int = IN_FLIGHT) -> None:
        self.fed = fed
        self.batch = batch
        self.in_flight = in_flight
        # SQLite has one writer at a time; the claim and the committer take turns here instead of
        # meeting in SQLite's busy handler, which sleeps in steps of up to 100 ms (PostgreSQL: no turns)
        self.committer = Committer(fed)
        self._writes = self.committer.writes
        self._items = 0  # claimed and not finished
        self._chains: set[asyncio.Task] = set()
        # the keys of chains still submitting, to the chain and its task
        self._open: dict[str, tuple[list[_Work], asyncio.Task]] = {}

    async def step(self, limit: int | None = None, *, held_back_for: float = 0.0) -> int:
        """Claim a batch, once there is room for one, and start its chains; how many were taken.
        `held_back_for`: while a claim takes nothing only because other workers hold the due
        items' actors, and none of this pump's chains is running (whose end would wake the
        loop), claim again every HELD_BACK_SECONDS for up to this long: another process's
        chains ending wakes no one here."""
        limit = limit or self.batch
        while self._chains and self._items + limit > self.in_flight:
            await asyncio.wait(self._chains, return_when=asyncio.FIRST_COMPLETED)
        items = await self._claim(limit)
        loop = asyncio.get_running_loop()
        until = loop.time() + held_back_for
        while not items and items.held_back and not self._chains and loop.time() < until:
            await asyncio.sleep(HELD_BACK_SECONDS)
            items = await self._claim(limit)
        for chain in chains([_decoded(self.fed, item) for item in items]):
            self._items += len(chain)
            keys = set().union(*(work.keys for work in chain))
            running = {id(self._open[key][0]): self._open[key] for key in keys if key in self._open}
            if len(running) == 1 and len(next(iter(running.values()))[0]) < self.batch:
                # an earlier batch's chain is still on the same actor or object: it goes on with these
                ((earlier, task),) = running.values()
                earlier.extend(chain)
                self._open.update(dict.fromkeys(keys, (earlier, task)))
                continue
            # it follows running chains (two, or a long one): it starts once they are done
            task = asyncio.create_task(self._run_chain(chain, after=[task for _, task in running.values()]))
            self._open.update(dict.fromkeys(keys, (chain, task)))
            self._chains.add(task)
            task.add_done_callback(self._chains.discard)
        return len(items)

    async def _claim(self, limit: int) -> inbox_queue.Claims:
        async with self._writes, self.fed.db.sessions.begin() as session:
            await take_write_lock(session)
            return await inbox_queue.claim(
                session, self.fed.clock.now(), limit, lease=LEASE,
                max_attempts=self.fed.settings.inbox_max_attempts, lock=not self.fed.db.is_sqlite,
            )

    async def settle(self) -> None:
        """Wait until every item claimed so far is finished."""
        while self._chains:
            await asyncio.gather(*self._chains)

    async def stop(self) -> None:
        """Cancel what is in flight; its leases lapse (or are released at the next start on SQLite)."""
        for task in (*self._chains, *self.committer.tasks):
            task.cancel()
        await asyncio.gather(*self._chains, *self.committer.tasks, return_exceptions=True)
        self._open.clear()
        self.committer.drop_pending()

    async def _run_chain(self, chain: list[_Work], after: list[asyncio.Task]) -> None:
        """Each item in turn (items a later claim adds to the chain included): prepared, then
        submitted to the committer, which handles a chain's items in the order submitted. The
        next is prepared meanwhile: a prefetch reads committed rows only, so it sees the same
        whether the item before it is handled yet or not; but an item whose prefetch looks up a
        post an earlier item of the chain stores (a reply to it, a boost of it) first waits for
        that item's commit. Then each item's commit is awaited. Once an item's transaction has
        failed, the rest of its chain is not submitted: each records its failure alone, to be
        tried again, as that item does."""
        submitted = 0
        try:
            if after:
                await asyncio.wait(after)
            try:
                for index, work in enumerate(chain):
                    if stored := [earlier.committed for earlier in chain[:index] if _stores_what(work, earlier)]:
                        await asyncio.wait(stored)
                    async with self.committer.preparing():
                        await _prepare(self.fed, work)
                    if failed := next(filter(None, map(_failure, chain[:index])), None):
                        raise failed
                    work.chain = id(chain)
                    self.committer.submit(work)
                    submitted += 1
            except Exception as exc:
                self._close(chain)
                for work in chain[submitted:]:
                    await record_failure_alone(self.fed, work.item, exc)
            else:
                self._close(chain)
            for work in chain[:submitted]:
                try:
                    await work.handled
                    await work.committed
                except Exception as exc:
                    await record_failure_alone(self.fed, work.item, exc)
        finally:
            self._items -= len(chain)
            self.fed.wake.inbox.set()  # its actor's later items may be claimed now

    def _close(self, chain: list[_Work]) -> None:
        """No later claim adds to the chain from now on (called with no await since its last item)."""
        for key in [key for key, (open_chain, _) in self._open.items() if open_chain is chain]:
            del self._open[key]


def chains(works: list[_Work]) -> list[list[_Work]]:
    """The items in chains: two items sharing an actor or an object are in the same chain, in
    arrival (id) order; different chains share neither."""
    groups: list[list[_Work] | None] = []
    owner: dict[str, int] = {}
    for work in sorted(works, key=lambda work: work.item.id):
        found = sorted({owner[key] for key in work.keys if key in owner})
        if not found:
            index = len(groups)
            groups.append([])
        else:
            index = found[0]
            for other in found[1:]:  # this item joins chains that were apart: one chain now
                merged = groups[other]
                groups[other] = None
                groups[index].extend(merged)
                groups[index].sort(key=lambda work: work.item.id)
                for moved in merged:
                    owner.update(dict.fromkeys(moved.keys, index))
        groups[index].append(work)
        owner.update(dict.fromkeys(work.keys, index))
    return [group for group in groups if group]


def _stores_what(work: _Work, earlier: _Work) -> bool:
    """Whether `earlier` (not committed yet) is about a post `work`'s prefetch looks up."""
    if work.activity is None or earlier.activity is None or earlier.committed.done():
        return False
    looks_up = getattr(HANDLERS.get(work.activity.type), "looks_up", None)
    return looks_up is not None and earlier.activity.object_id in looks_up(work.activity)


def _failure(work: _Work) -> BaseException | None:
    """What made the transaction of a submitted item fail, if one did."""
    for future in (work.handled, work.committed):
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    return None


def _alike(work: _Work) -> bool:
    """A Create of a plain note, prepared: handled with others like it (`create.handle_many`)."""
    return work.error is None and work.handler is create and create.alike(work.prepared)


def _known(actor: Actor | None) -> bool:
    return actor is not None and actor.deleted_at is None


def _decoded(fed: Federation, item: Claimed) -> _Work:
    """The item with its activity parsed (what chains it), or with the error that stops it."""
    work = _Work(item)
    try:
        work.activity = ap_to_activity(load_json(item.raw, fed.max_json_depth))
    except Exception as exc:
        work.error = exc
    return work


async def _prepare(fed: Federation, work: _Work) -> None:
    """The policy re-check, the handler, and what its prefetch fetched; an error is kept on the
    work, for the committer to record."""
    if work.error is not None:
        return
    activity = work.activity
    try:
        if not fed.policy.allows(authority(activity.actor)):
            raise Ignore(f"{authority(activity.actor)} was blocked after this arrived")
        work.handler = HANDLERS.get(activity.type)
        if work.handler is None:
            raise Ignore(f"no handler for {activity.type}")
        prefetch = getattr(work.handler, "prefetch", None)
        work.prepared = await prefetch(fed, activity) if prefetch is not None else None
    except Exception as exc:
        work.error = exc


class Committer:
    """Runs prepared items' handlers in shared write transactions, a savepoint each."""

    def __init__(self, fed: Federation) -> None:
        self.fed = fed
        self._pending: list[_Work] = []
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

    def submit(self, work: _Work) -> None:
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
            taken: list[_Work] = []
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

    async def _commit(self, taken: list[_Work]) -> None:
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

    def _take_alike(self) -> list[_Work]:
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

    async def _handle_alike(self, session, group: list[_Work], actors: dict[str, Actor], done: list[int]) -> None:
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

    async def _handle(self, session, work: _Work, actors: dict[str, Actor], done: list[int]) -> None:
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


async def release_claims(fed: Federation) -> None:
    """At start on SQLite, the only process: leases a previous run held are void."""
    if fed.db.is_sqlite:
        async with fed.db.sessions.begin() as session:
            await inbox_queue.release_claims(session, fed.clock.now())
