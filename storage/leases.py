"""One claim and one lease for every work queue, and the guarded bulk move of a queue's rows.

A queue is a table whose rows move through the states `storage.states` declares. A worker claims
the rows that are due: in a due state, their `next_attempt_at` passed, and no live lease on them.
It takes them in the queue's order, at most `limit`; on PostgreSQL it may lock them FOR UPDATE
SKIP LOCKED, so several workers share a queue without taking a row twice. Taking a row leases it:
its lease column (`claimed_until`) or, for a queue without one, its due time is pushed past the
lease, so a worker that dies holding rows loses nothing: they are due again once the lease ends.

Every state change of a queue's rows goes through `move` (or a statement `move_by_ids` built,
once, for a worker's hot path), whose WHERE admits only the rows whose state may become the
target, so an UPDATE can never write a move the declaration does not allow.

The one planner trap: on SQLite, without statistics, `id IN (six or more ids) AND state IN (...)`
is planned on the state index, which reads every queued row (the whole backlog) instead of the
rows named; a move by ids therefore writes its state guard as `+state` there (`not_indexed`),
which only the primary key can then serve. And a claim whose order is not by due time would be
planned on the (state, next_attempt_at) index, and sort every due row to return `limit`: its due
time is written `+next_attempt_at` there, so that the index of its order (each queue has one,
with the due time last, to skip rows not due without reading them) serves.
"""

from __future__ import annotations

import heapq
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from itertools import islice, zip_longest
from typing import Any

from sqlalchemy import ColumnElement, Update, bindparam, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.visitors import InternalTraversal

from storage import core
from storage.models import Delivery, DeliveryState, InboxItem, InboxState, PushDelivery
from storage.states import DELIVERIES, DELIVERY_DUE, INBOX, INBOX_DUE, PUSHES, Machine


@dataclass(frozen=True)
class Queue:
    """How one table works as a queue."""

    model: Any
    machine: Machine
    due_states: tuple  # the states a claim takes once their due time passes
    order: tuple  # the claim's order; it must end in the id, so it is total
    held_state: Any  # the state a leased row is in
    lease_column: Any = None  # a row held until this passes is not due; None: the lease pushes next_attempt_at
    # when the due states are taken in orders of their own: each state's order; a claim then takes
    # a row of each state in turn, in this dict's order (None: every due state in `order`, merged)
    orders: dict | None = None

    def state_orders(self) -> dict:
        return self.orders if self.orders is not None else dict.fromkeys(self.due_states, self.order)


# Inbox items: retries (the longest due first: index (state, next_attempt_at)) and queued items in
# turn order (index (state, turn, id): the order fair queuing gave them at intake), one of each in turn.
INBOX_ITEMS = Queue(InboxItem, INBOX, INBOX_DUE, (InboxItem.next_attempt_at, InboxItem.id), InboxState.queued,
                    orders={InboxState.failed: (InboxItem.next_attempt_at, InboxItem.id),
                            InboxState.queued: (InboxItem.turn, InboxItem.id)})
# Deliveries: in id order, so an inbox receives a sender's activities in the order they were made
# (index (state, id, next_attempt_at)).
DELIVERY_ROWS = Queue(Delivery, DELIVERIES, DELIVERY_DUE, (Delivery.id,), DeliveryState.queued,
                      Delivery.claimed_until)

# Web Push deliveries: in id order, so a device hears of its notifications in the order they came
# (index (state, id, next_attempt_at)).
PUSH_ROWS = Queue(PushDelivery, PUSHES, DELIVERY_DUE, (PushDelivery.id,), DeliveryState.queued,
                  PushDelivery.claimed_until)


def due(queue: Queue, state, now: datetime, *, by_due_time: bool = True) -> list[ColumnElement[bool]]:
    """The WHERE of a row of `queue` in `state` that a claim at `now` would take. `by_due_time`
    False: the due time only filters, written so that no index serves it (`not_indexed`)."""
    model = queue.model
    due_time = model.next_attempt_at if by_due_time else not_indexed(model.next_attempt_at)
    conditions = [model.state == state, due_time <= now]
    if queue.lease_column is not None:
        conditions.append(or_(queue.lease_column.is_(None), queue.lease_column < now))
    return conditions


async def claim_due(
    session: AsyncSession, queue: Queue, columns: Sequence[Any], now: datetime, limit: int, *,
    where: Sequence[ColumnElement[bool]] = (), lock: bool = False,
) -> list[tuple]:
    """Up to `limit` due rows of `queue` that also meet `where`, in the queue's order, each as a
    tuple of `columns`. One query per due state, each reading at most `limit` rows in order
    (an index gives them without sorting the backlog), merged (or, with `Queue.orders`, a row of
    each state in turn). `lock`: FOR UPDATE SKIP LOCKED,
    for PostgreSQL. The rows are not leased yet: `lease` does that, in the same transaction.
    `DueRows` is the same claim with its statements built once."""
    async with _in_index_order(session, lock):
        batches = [
            [tuple(row) for row in await session.execute(query)]
            for query in _due_queries(queue, columns, now, limit, where, lock)
        ]
    return _merged(queue, batches, len(columns), limit)


# PostgreSQL plans with statistics, but a queue's are often stale: taken while nothing was queued
# (a burst comes faster than autovacuum analyses), they say a burst's due rows are few, and it
# read and sorted all of them, through another index, for every claim (6.5 ms per claim at 2,000
# due rows, growing with the backlog). With sorting priced out for the due queries alone, it
# reads them in order from the index of the claim's order and stops at the limit.
_NO_SORT = select(func.set_config("enable_sort", "off", True))
_SORT = select(func.set_config("enable_sort", "on", True))


@asynccontextmanager
async def _in_index_order(session: AsyncSession, postgresql: bool) -> AsyncIterator[None]:
    """The block's queries read in an index's order rather than sort (PostgreSQL: a claim's `lock`
    says so). If the block fails, the setting ends with the transaction, which fails too."""
    if not postgresql:
        yield
        return
    await core.result(session, _NO_SORT, {})
    yield
    await core.result(session, _SORT, {})


def _due_queries(queue: Queue, columns: Sequence[Any], now, limit, where: Sequence[ColumnElement[bool]],
                 lock: bool) -> list:
    """claim_due's query of each due state (`now` and `limit` values or bindparams)."""
    queries = []
    for state, order in queue.state_orders().items():
        # the rows are read from the index of the claim's order (each queue has one), the due
        # time only filtering, unless the order is by due time: SQLite, with no statistics,
        # would rather use the due time's index, and sort every due row of the state (the
        # whole backlog) to return the first `limit`
        by_due_time = order[0] is queue.model.next_attempt_at
        query = (
            select(*columns, *order)
            .where(*due(queue, state, now, by_due_time=by_due_time), *where)
            .order_by(*order)
            .limit(limit)
        )
        if lock:
            query = query.with_for_update(skip_locked=True, of=queue.model)
        queries.append(query)
    return queries


def _merged(queue: Queue, batches: list[list], width: int, limit: int) -> list[tuple]:
    if queue.orders is not None:  # one row of each state in turn, so no state waits on another's backlog
        merged = (row for rows in zip_longest(*batches) for row in rows if row is not None)
    else:
        merged = batches[0] if len(batches) == 1 else heapq.merge(*batches, key=lambda row: row[width:])
    return [tuple(row[:width]) for row in islice(merged, limit)]


class DueRows:
    """`claim_due` of plain columns (no ORM entities) with its statements built once, run on the
    session's connection (`storage.core`): for a worker that claims all the time."""

    def __init__(self, queue: Queue, columns: Sequence[Any], *, lock: bool) -> None:
        self._queue = queue
        self._width = len(columns)
        self._lock = lock
        self._queries = _due_queries(queue, columns, bindparam("now"), bindparam("limit"), (), lock)

    async def __call__(self, session: AsyncSession, now: datetime, limit: int) -> list[tuple]:
        params = {"now": now, "limit": limit}
        async with _in_index_order(session, self._lock):
            batches = [(await core.result(session, query, params)).all() for query in self._queries]
        return _merged(self._queue, batches, self._width, limit)


async def lease(session: AsyncSession, queue: Queue, ids: Sequence[int], until: datetime, *,
                state=None, **values: Any) -> int:
    """Hold these rows until `until` (and, when given, move them to `state` and set `values`);
    how many were leased."""
    held = queue.lease_column if queue.lease_column is not None else queue.model.next_attempt_at
    values[held.key] = until
    if state is not None:
        return await move(session, queue, state, queue.model.id.in_(ids), **values)
    statement = update(queue.model).where(queue.model.id.in_(ids)).values(**values)
    return (await session.execute(statement)).rowcount


async def release_leases(session: AsyncSession, queue: Queue, now: datetime) -> None:
    """Void every lease: for the only process on SQLite, at its start, since no other holds one."""
    model = queue.model
    if queue.lease_column is not None:
        statement = update(model).where(model.state == queue.held_state, queue.lease_column.is_not(None))
        await session.execute(statement.values({queue.lease_column.key: None}))
    else:  # a row in the held state is due in the future only while leased
        statement = update(model).where(model.state == queue.held_state, model.next_attempt_at > now)
        await session.execute(statement.values(next_attempt_at=now))


async def move(session: AsyncSession, queue: Queue, target, *where: ColumnElement[bool], **values: Any) -> int:
    """Move the rows of `queue` meeting `where` to `target`, setting `values`, but only those whose
    state the declaration lets become `target` (staying in it is not a move); how many moved."""
    statement = (
        update(queue.model)
        .where(*where, queue.model.state.in_(queue.machine.reaching(target)))
        .values(state=target, **values)
        .execution_options(synchronize_session=False)
    )
    return (await session.execute(statement)).rowcount



class not_indexed(ColumnElement):
    """The column as an expression no index serves: `+column` on SQLite (its documented way to
    keep a term from choosing the index), the column itself elsewhere."""

    inherit_cache = True
    _traverse_internals = [("column", InternalTraversal.dp_clauseelement)]

    def __init__(self, column: ColumnElement) -> None:
        self.column = column
        self.type = column.type


@compiles(not_indexed)
def _column_itself(element: not_indexed, compiler, **kw) -> str:
    return compiler.process(element.column, **kw)


@compiles(not_indexed, "sqlite")
def _unary_plus(element: not_indexed, compiler, **kw) -> str:
    return "+" + compiler.process(element.column, **kw)


def move_by_ids(queue: Queue, target, **values: Any) -> Update:
    """`move` of the rows whose ids are given when it runs (the expanding parameter `ids`), as a
    statement built once: `values` are what it sets besides the state (bindparams, expressions or
    constants). Its state guard uses no index (`not_indexed`), so the ids pick the rows."""
    table = queue.model.__table__
    reaching = sorted(queue.machine.reaching(target), key=lambda state: state.value)
    return (
        update(table)
        .where(table.c.id.in_(bindparam("ids", expanding=True)), not_indexed(table.c.state).in_(reaching))
        .values(state=target, **values)
    )


def lease_by_ids(queue: Queue, state, **values: Any) -> Update:
    """`lease` with a state, as a statement built once (`move_by_ids`): its rows are held until
    the bindparam `until`."""
    held = queue.lease_column if queue.lease_column is not None else queue.model.next_attempt_at
    return move_by_ids(queue, state, **{held.key: bindparam("until")}, **values)


async def delete_settled(session: AsyncSession, queue: Queue, settled_at: Any, state, before: datetime,
                         limit: int) -> int:
    """Delete up to `limit` rows of `queue` in `state`, settled (their `settled_at`, the time
    their last outcome was recorded) before `before`; how many. For the retention sweep: one
    state at a time, so the (state, settled time) index gives the rows without reading the
    state's others. A state a claim takes (due, or holding a lease) is refused: those rows are
    the live queue. The caller commits, a batch per transaction."""
    if state in queue.due_states or state == queue.held_state:
        raise ValueError(f"{queue.model.__tablename__} in state {state.value} are live; they are never deleted")
    model = queue.model
    batch = select(model.id).where(model.state == state, settled_at < before).limit(limit)
    statement = delete(model).where(model.id.in_(batch)).execution_options(synchronize_session=False)
    return (await session.execute(statement)).rowcount
