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

Commit: `federation.inbox.committer` (a prepared item goes to its `Committer`).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from federation.inbox.committer import Committer, Work
from federation.inbox.failures import record_failure_alone
from federation.inbox.handlers import HANDLERS
from federation.inbox.handlers.base import Ignore
from federation.protocol.urls import authority
from federation.protocol.vocab.jsondoc import load_json
from federation.protocol.vocab.parse import ap_to_activity
from federation.runtime.context import Federation
from storage import inbox_queue
from storage.db import take_write_lock
from storage.inbox_queue import Claimed

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
BATCH = 25  # items a claim takes
IN_FLIGHT = 2 * BATCH  # items claimed and not yet finished, at most: one batch prepares while one commits
# a claim that took nothing, only because other workers hold the due items' actors, is tried
# again after this long (`InboxPump.step`'s held_back_for), not at the next poll
HELD_BACK_SECONDS = 0.05


async def run_once(fed: Federation, limit: int = BATCH) -> int:
    """Claim one batch of due inbox items and see each of them through; how many were taken."""
    pump = InboxPump(fed)
    taken = await pump.step(limit)
    await pump.settle()
    return taken


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
        self._open: dict[str, tuple[list[Work], asyncio.Task]] = {}

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

    async def _run_chain(self, chain: list[Work], after: list[asyncio.Task]) -> None:
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

    def _close(self, chain: list[Work]) -> None:
        """No later claim adds to the chain from now on (called with no await since its last item)."""
        for key in [key for key, (open_chain, _) in self._open.items() if open_chain is chain]:
            del self._open[key]


def chains(works: list[Work]) -> list[list[Work]]:
    """The items in chains: two items sharing an actor or an object are in the same chain, in
    arrival (id) order; different chains share neither."""
    groups: list[list[Work] | None] = []
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


def _stores_what(work: Work, earlier: Work) -> bool:
    """Whether `earlier` (not committed yet) is about a post `work`'s prefetch looks up."""
    if work.activity is None or earlier.activity is None or earlier.committed.done():
        return False
    looks_up = getattr(HANDLERS.get(work.activity.type), "looks_up", None)
    return looks_up is not None and earlier.activity.object_id in looks_up(work.activity)


def _failure(work: Work) -> BaseException | None:
    """What made the transaction of a submitted item fail, if one did."""
    for future in (work.handled, work.committed):
        if future.done() and not future.cancelled() and future.exception() is not None:
            return future.exception()
    return None


def _decoded(fed: Federation, item: Claimed) -> Work:
    """The item with its activity parsed (what chains it), or with the error that stops it."""
    work = Work(item)
    try:
        work.activity = ap_to_activity(load_json(item.raw, fed.max_json_depth))
    except Exception as exc:
        work.error = exc
    return work


async def _prepare(fed: Federation, work: Work) -> None:
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


async def release_claims(fed: Federation) -> None:
    """At start on SQLite, the only process: leases a previous run held are void."""
    if fed.db.is_sqlite:
        async with fed.db.sessions.begin() as session:
            await inbox_queue.release_claims(session, fed.clock.now())
