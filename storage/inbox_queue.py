"""The inbox queue's queries: insert received activities in batches (for `federation.inbox.writer`),
and what the inbox worker runs: claim due items, record each item's outcome, release leases.

The states and transitions are declared in `storage.states`; the claim, the lease and the
guarded moves are `storage.leases`'. A claim reads the rows' `raw` as text and decodes nothing,
so no row can make a claim fail.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cache
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, func, select, text, union_all
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from storage import core, leases
from storage.db import Database
from storage.leases import INBOX_ITEMS
from storage.models import InboxItem, InboxState
from storage.text import storable

ERROR_CHARS = 2000


class Claims(list):
    """What a claim took, in order; `held_back`: due items it saw but left, because an earlier
    item of their actor is held (being handled here or by another worker)."""

    held_back: int = 0


@dataclass(frozen=True)
class Claimed:
    """An item as claimed: its attempts counting this one, and its raw JSON text undecoded (read
    for the items taken only, not for every due item a claim looks at)."""

    id: int
    activity_uri: str
    activity_type: str
    actor_uri: str
    attempts: int
    due: datetime
    raw: str = ""


# Claims of inbox items take this transaction-level advisory lock on PostgreSQL, so two workers'
# claims run one after the other and each sees the other's leases (the actor order needs that).
CLAIM_LOCK = 0x526F756E6473  # "Rounds"
# A claim of N reads up to WINDOW * N due items in turn order and takes the first N it may: with
# many actors' items held (by this worker's chains in flight, or by another worker's), the first
# N alone are mostly items of held actors, and a second worker would find little to take.
WINDOW = 4


async def claim(
    session: AsyncSession, now: datetime, limit: int, *, lease: timedelta, max_attempts: int, lock: bool,
) -> Claims:
    """Up to `limit` due items: retries and queued items in turn (`storage.leases.INBOX_ITEMS`:
    retries by due time, queued items in turn order), kept in each actor's arrival order
    (`_in_actor_order`), so that an actor's queued activities are never handled out of order or
    side by side, by this worker or another. It looks at up to WINDOW * `limit` due items, so
    items of free actors further on are taken when the first ones' actors are held. Each item
    taken is leased: queued, due after `lease`, one more attempt. An item whose attempts ran out
    under earlier leases (its handling never finished: it stopped the process, say) is marked
    dead instead. `lock`: PostgreSQL, where several workers share the queue: claims are
    serialised (CLAIM_LOCK), so each sees the leases the others took, and rows are locked FOR
    UPDATE SKIP LOCKED. Its statements are built once (this runs for every batch)."""
    if lock:
        await core.result(session, _CLAIM_LOCK, {})
    window = await (_DUE_LOCKED if lock else _DUE)(session, now, WINDOW * limit)
    candidates = [Claimed(*row) for row in window]
    items = await _in_actor_order(session, candidates, now, limit)
    spent = [item.id for item in items if item.attempts >= max_attempts]
    if spent:
        await core.result(session, _FINISH[InboxState.dead], {
            "ids": spent, "at": now, "error": f"its handling never finished in {max_attempts} attempts"})
    taken = [item for item in items if item.attempts < max_attempts]
    raws: dict[int, str] = {}  # the JSON of each item leased, as the lease returns it
    if taken:
        raws = dict((await core.result(session, _LEASE, {"ids": [item.id for item in taken], "until": now + lease})).all())
    claims = Claims(replace(item, attempts=item.attempts + 1, raw=raws[item.id]) for item in taken if item.id in raws)
    if len(items) < limit:  # then every candidate left was left for its actor's held item
        claims.held_back = len({item.id for item in candidates} - {item.id for item in items})
    return claims


_T = InboxItem.__table__
# what a claim reads of each due item it looks at; the raw JSON only of those it takes (_LEASE)
CLAIMED = (_T.c.id, _T.c.activity_uri, _T.c.activity_type, _T.c.actor_uri, _T.c.attempts, _T.c.next_attempt_at)
# the partial index's own condition, written out: SQLite (and a generic PostgreSQL plan) uses a
# partial index only for a query whose WHERE holds its condition literally, not as a parameter
_QUEUED = text("inbox_items.state = 'queued'")
_CLAIM_LOCK = select(func.pg_advisory_xact_lock(CLAIM_LOCK))
_DUE = leases.DueRows(INBOX_ITEMS, CLAIMED, lock=False)
_DUE_LOCKED = leases.DueRows(INBOX_ITEMS, CLAIMED, lock=True)
_CLAIMED_BY_ID = select(*CLAIMED).where(_T.c.id.in_(bindparam("ids", expanding=True)))
# the lease returns the JSON of the items it took: a statement fewer for each claim
_LEASE = leases.lease_by_ids(INBOX_ITEMS, InboxState.queued, attempts=_T.c.attempts + 1).returning(_T.c.id, _T.c.raw)
# an item's final outcome (done, ignored, dead), and a failed attempt, due again at `retry_at`
_FINISH = {
    state: leases.move_by_ids(INBOX_ITEMS, state, processed_at=bindparam("at"), last_error=bindparam("error"))
    for state in (InboxState.done, InboxState.ignored, InboxState.dead)
}
_RETRY = leases.move_by_ids(INBOX_ITEMS, InboxState.failed, next_attempt_at=bindparam("retry_at"),
                            last_error=bindparam("error"))


@cache
def _actor_ranges(actors: int):
    """`_in_actor_order`'s query for this many actors, built once: the queued items of actor
    `a<n>` up to id `t<n>`, for each n."""
    ranges = [
        select(_T.c.actor_uri, _T.c.id, _T.c.next_attempt_at)
        .where(_QUEUED, _T.c.actor_uri == bindparam(f"a{n}"), _T.c.id <= bindparam(f"t{n}"))
        for n in range(actors)
    ]
    return union_all(*ranges) if actors > 1 else ranges[0]


async def _in_actor_order(session: AsyncSession, candidates: list[Claimed], now: datetime, limit: int) -> list[Claimed]:
    """What the claim takes, at most `limit`: for each candidate's actor, its items in arrival
    (id) order up to the candidate, stopping at one held (leased: that actor is being handled).
    An earlier queued item that is not among the candidates (its turn came later: it was stamped
    by another intake process, say) is taken before the candidate rather than leaving both
    waiting. One index range per actor (ix_inbox_items_queued_actor), so a claim reads a few rows
    per actor, not the backlog. A failed item does not hold back its actor's later items: it is
    retried on its own, after them."""
    if not candidates:
        return []
    by_actor: dict[str, list[Claimed]] = {}
    for item in candidates:
        by_actor.setdefault(item.actor_uri, []).append(item)
    params: dict[str, Any] = {}
    for n, (actor_uri, items) in enumerate(by_actor.items()):
        params[f"a{n}"] = actor_uri
        params[f"t{n}"] = max(item.id for item in items)
    queued: dict[str, list[tuple[int, datetime]]] = {}
    for actor_uri, item_id, due in await core.result(session, _actor_ranges(len(by_actor)), params):
        queued.setdefault(actor_uri, []).append((item_id, due))
    free: dict[str, list[int]] = {}  # each actor's items that may be taken, in arrival order
    for actor_uri, items in by_actor.items():
        mine = queued.get(actor_uri, [])
        ids = {item_id for item_id, _ in mine}
        retries = [(item.id, item.due) for item in items if item.id not in ids]
        free[actor_uri] = []
        for item_id, due in sorted(mine + retries):
            if due > now:  # held: its actor is being handled
                break
            free[actor_uri].append(item_id)
    by_id = {item.id: item for item in candidates}
    missing = [item_id for ids in free.values() for item_id in ids if item_id not in by_id]
    if missing:
        by_id |= {row[0]: Claimed(*row) for row in await core.result(session, _CLAIMED_BY_ID, {"ids": missing})}
    taken: list[Claimed] = []
    seen: set[int] = set()
    for item in candidates:
        if len(taken) == limit:
            break
        ids = free[item.actor_uri]
        if item.id not in ids:
            continue
        for item_id in ids[:ids.index(item.id) + 1]:  # the actor's earlier ones first
            if item_id not in seen and len(taken) < limit:
                seen.add(item_id)
                taken.append(by_id[item_id])
    return taken


async def head_turn(session: AsyncSession) -> int | None:
    """The lowest turn still queued (held items included): how far the workers have come."""
    return await session.scalar(select(func.min(InboxItem.turn)).where(InboxItem.state == InboxState.queued))


async def last_turns(session: AsyncSession) -> list[tuple[str, int]]:
    """Each actor's highest turn still queued: where a writer starting up resumes stamping."""
    query = select(InboxItem.actor_uri, func.max(InboxItem.turn)).where(_QUEUED).group_by(InboxItem.actor_uri)
    return [(actor_uri, turn) for actor_uri, turn in await session.execute(query)]


async def finish(session: AsyncSession, item_id: int, state: InboxState, error: str | None, at: datetime) -> None:
    """The item's final outcome: done, or ignored with the reason."""
    await core.result(session, _FINISH[state], {
        "ids": [item_id], "at": at, "error": None if error is None else storable(error, ERROR_CHARS)})


async def finish_many(session: AsyncSession, item_ids: list[int], at: datetime) -> None:
    """These items are done (one UPDATE for a batch)."""
    if item_ids:
        await core.result(session, _FINISH[InboxState.done], {"ids": item_ids, "at": at, "error": None})


async def fail(session: AsyncSession, item_id: int, error: str, at: datetime, retry_at: datetime | None) -> None:
    """An attempt failed: `failed`, due again at `retry_at`, or `dead` when None."""
    error = storable(error, ERROR_CHARS)
    if retry_at is None:
        await core.result(session, _FINISH[InboxState.dead], {"ids": [item_id], "at": at, "error": error})
    else:
        await core.result(session, _RETRY, {"ids": [item_id], "retry_at": retry_at, "error": error})


async def release_claims(session: AsyncSession, now: datetime) -> None:
    """Void every lease: for the only process on SQLite, at its start."""
    await leases.release_leases(session, INBOX_ITEMS, now)


Row = dict[str, Any]


def inserter(db: Database) -> _SqliteInsert | _ReturningInsert:
    """What inserts a batch of inbox rows (`await insert(rows, shared)`: each row's own values,
    and the values every row of the batch takes), ignoring rows whose activity is stored already,
    in a transaction of its own; it returns the ids inserted. Close it when done.

    On SQLite it keeps one connection, and a batch is one `executemany` on the driver connection
    under it, then the commit; the statement and each column's bind processing come from
    SQLAlchemy, once. Run through SQLAlchemy, its per-row and per-transaction work cost more
    than SQLite's own. SQLite returns no rows from an executemany, so the row count says whether
    every row was new, and only when it falls short are the new ones looked up (by their
    freshly minted ids). PostgreSQL takes each batch as one INSERT ... RETURNING."""
    return _SqliteInsert(db) if db.is_sqlite else _ReturningInsert(db)


class _SqliteInsert:
    """Each batch in one transaction on a connection the writer keeps: one executemany of a
    statement compiled once, then the commit. Returns the ids inserted."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._connection: AsyncConnection | None = None
        self._driver: Any = None  # the aiosqlite connection under it
        dialect = db.engine.dialect
        table = InboxItem.__table__
        compiled = (
            sqlite.insert(table).on_conflict_do_nothing(index_elements=["activity_uri"])
            .compile(dialect=dialect, column_keys=[column.key for column in table.columns])
        )
        self._sql = str(compiled)
        self._table = table.name
        self._names = compiled.positiontup
        self._processors = {
            name: table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in self._names
        }

    async def __call__(self, rows: list[Row], queue: Row) -> set[int]:
        shared = {name: self._bind(name, value) for name, value in queue.items()}  # once per batch
        params = [
            tuple(shared[name] if name in shared else self._bind(name, row.get(name)) for name in self._names)
            for row in rows
        ]
        ids = [row["id"] for row in rows]
        if self._connection is None:
            self._connection = await self._engine.connect()
            self._driver = (await self._connection.get_raw_connection()).driver_connection
        try:
            cursor = await self._driver.executemany(self._sql, params)
            if cursor.rowcount != len(rows):  # some were stored before: which of ours went in?
                marks = ", ".join("?" * len(ids))
                cursor = await self._driver.execute(f"SELECT id FROM {self._table} WHERE id IN ({marks})", ids)
                ids = [found for found, in await cursor.fetchall()]
            await self._driver.commit()
        except Exception:
            await self.close()  # rolls back; the next batch takes a fresh connection
            raise
        return set(ids)

    def _bind(self, name: str, value: Any) -> Any:
        process = self._processors[name]
        return value if process is None else process(value)

    async def close(self) -> None:
        if self._connection is not None:
            connection, self._connection, self._driver = self._connection, None, None
            await connection.close()


class _ReturningInsert:
    """Each batch as one INSERT ... ON CONFLICT DO NOTHING RETURNING id; returns the ids inserted."""

    def __init__(self, db: Database) -> None:
        self._engine = db.engine
        self._statement = (
            postgresql.insert(InboxItem).on_conflict_do_nothing(index_elements=["activity_uri"])
            .returning(InboxItem.id)
        )

    async def __call__(self, rows: list[Row], queue: Row) -> set[int]:
        async with self._engine.begin() as conn:
            return set(await conn.scalars(self._statement, [row | queue for row in rows]))

    async def close(self) -> None:
        pass


async def delete_settled(session: AsyncSession, state: InboxState, before: datetime, limit: int) -> int:
    """Delete up to `limit` items in `state` (done, ignored, dead or discarded) processed before
    `before`; how many (the retention sweep). No claim reads such an item: a claim and the actor
    order it keeps read queued and failed items only. Once an item is gone, a redelivery of its
    activity is stored and handled anew."""
    return await leases.delete_settled(session, INBOX_ITEMS, InboxItem.processed_at, state, before, limit)
