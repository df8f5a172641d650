"""The one claim/lease helper (storage/leases.py): due rows in the queue's order, a lease that hides
them until it ends, and bulk moves that write only what storage/states.py declares."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from storage import inbox_queue, leases
from storage.ids import new_id
from storage.leases import INBOX_ITEMS
from storage.models import InboxItem, InboxState
from tests.statements import postgres_plan, sqlite_plan, statements_run


def _item(state: InboxState, due, number: int, turn: int = 0) -> InboxItem:
    return InboxItem(id=new_id(), activity_uri=f"https://peer.example/a/{number}", activity_type="Create",
                     actor_uri="https://peer.example/u/x", signer_key_id="https://peer.example/u/x#key",
                     raw="{}", state=state, attempts=0, received_at=due, next_attempt_at=due, turn=turn)


async def _states(instance) -> dict[str, InboxState]:
    async with instance.db.sessions() as session:
        return {item.activity_uri.rsplit("/", 1)[1]: item.state for item in await session.scalars(select(InboxItem))}


async def test_a_claim_takes_due_retries_first_then_queued_rows_in_turn_order_and_a_lease_hides_them(instances):
    a = await instances.start()
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        session.add_all([
            _item(InboxState.queued, now - timedelta(minutes=2), 1, turn=7),
            _item(InboxState.failed, now - timedelta(minutes=3), 2),
            _item(InboxState.queued, now - timedelta(minutes=1), 3, turn=4),  # arrived later, its turn is earlier
            _item(InboxState.failed, now + timedelta(minutes=1), 4),  # backing off: not due yet
            _item(InboxState.dead, now - timedelta(minutes=9), 5),    # waits for an admin
        ])
    async with a.db.sessions.begin() as session:
        rows = await leases.claim_due(session, INBOX_ITEMS, (InboxItem.activity_uri,), now, 10)
        assert [uri.rsplit("/", 1)[1] for uri, in rows] == ["2", "3", "1"]
        claimed = await leases.claim_due(session, INBOX_ITEMS, (InboxItem.id,), now, 2)
        await leases.lease(session, INBOX_ITEMS, [id_ for id_, in claimed], now + timedelta(minutes=5),
                           state=InboxState.queued)
    async with a.db.sessions.begin() as session:
        rows = await leases.claim_due(session, INBOX_ITEMS, (InboxItem.activity_uri,), now, 10)
        assert [uri.rsplit("/", 1)[1] for uri, in rows] == ["1"]
        assert (await _states(a))["2"] is InboxState.queued  # failed -> queued, as declared
        await leases.release_leases(session, INBOX_ITEMS, now)  # leases end; a backoff does not
        rows = await leases.claim_due(session, INBOX_ITEMS, (InboxItem.activity_uri,), now, 10)
        assert sorted(uri.rsplit("/", 1)[1] for uri, in rows) == ["1", "2", "3"]


async def test_a_bulk_move_writes_only_declared_moves(instances):
    a = await instances.start()
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        session.add_all([_item(InboxState.done, now, 1), _item(InboxState.dead, now, 2),
                         _item(InboxState.queued, now, 3), _item(InboxState.discarded, now, 4)])
    async with a.db.sessions.begin() as session:
        # done and discarded are final; dead and queued may become queued (staying is no move)
        moved = await leases.move(session, INBOX_ITEMS, InboxState.queued, InboxItem.id.is_not(None))
    assert moved == 2
    assert await _states(a) == {"1": InboxState.done, "2": InboxState.queued, "3": InboxState.queued,
                                "4": InboxState.discarded}


async def test_a_move_by_ids_writes_only_declared_moves_and_reads_only_the_rows_named(instances):
    """Given a backlog of queued items, when some are finished by id (the worker's statements,
    built once), then only declared moves are written; and on SQLite the UPDATE finds its rows by
    primary key: planned on the state index, it read the whole queued backlog for every commit."""
    a = await instances.start()
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        session.add_all([_item(InboxState.done, now, 1), _item(InboxState.dead, now, 2),
                         _item(InboxState.queued, now, 3), _item(InboxState.discarded, now, 4)])
        session.add_all([_item(InboxState.queued, now, n, turn=n) for n in range(10, 60)])
    ids = {int(item.activity_uri.rsplit("/", 1)[1]): item.id for item in await _all(a)}
    async with statements_run(a.db) as statements, a.db.sessions.begin() as session:
        await inbox_queue.finish_many(session, [ids[n] for n in (1, 2, 3, *range(10, 20))], now)
    states = await _states(a)
    assert [states[str(n)] for n in (1, 2, 3, 4, 10, 19, 20)] == [
        InboxState.done, InboxState.dead, InboxState.done, InboxState.discarded,
        InboxState.done, InboxState.done, InboxState.queued]
    if a.db.is_sqlite:
        ((update, parameters),) = [(sql, params) for sql, params in statements if sql.startswith("UPDATE")]
        assert await sqlite_plan(a.db, update, parameters) == ["SEARCH inbox_items USING INDEX sqlite_autoindex_inbox_items_1 (id=?)"]


async def _all(instance) -> list[InboxItem]:
    async with instance.db.sessions() as session:
        return list(await session.scalars(select(InboxItem)))


async def test_a_claim_reads_queued_items_in_turn_order_from_their_index_not_the_whole_backlog(instances):
    """Given queued items, when the worker's claim reads them, then on SQLite it walks the
    (state, turn, id) index and stops at its limit: planned on the due-time index (the planner's
    choice without statistics), it read and sorted every due queued item for every claim."""
    a = await instances.start()
    if not a.db.is_sqlite:
        return  # the plan is SQLite's; PostgreSQL plans with its statistics
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        session.add_all([_item(InboxState.queued, now - timedelta(seconds=1), n, turn=n) for n in range(30)])
    async with statements_run(a.db) as statements, a.db.sessions.begin() as session:
        claims = await inbox_queue.claim(session, now, 5, lease=timedelta(minutes=5), max_attempts=5, lock=False)
    assert [claimed.activity_uri.rsplit("/", 1)[1] for claimed in claims] == ["0", "1", "2", "3", "4"]
    ((select_queued, parameters),) = [(sql, params) for sql, params in statements
                                      if sql.startswith("SELECT") and "ORDER BY inbox_items.turn" in sql]
    plan = await sqlite_plan(a.db, select_queued, parameters)
    assert plan[0] == "SEARCH inbox_items USING INDEX ix_inbox_items_state_turn_id (state=?)"
    # no sort at all: with (state, turn) only, the ties of a turn were sorted by id ("RIGHT PART
    # OF ORDER BY"), each row's raw document copied into the sorter (1.1 -> 0.3 ms per window)
    assert not [line for line in plan if "TEMP B-TREE" in line]


async def test_a_claim_on_postgresql_walks_the_turn_order_index_even_with_statistics_of_an_empty_queue(instances):
    """Given statistics taken while no item was queued (a burst arrives faster than autovacuum
    analyses), when a worker claims from a backlog of 2,000 due items, then PostgreSQL reads them in
    turn order from (state, turn, id) and stops at the window: planned on (state, next_attempt_at),
    as it was, it read and sorted every due queued item for every claim (6.5 ms per claim at 2,000,
    and growing with the backlog; seen in bench/inbox_drain.py with two workers)."""
    a = await instances.start()
    if a.db.is_sqlite:
        return  # SQLite's plan: the test above
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        session.add_all([_item(InboxState.done, now - timedelta(hours=1), 10_000 + n) for n in range(200)])
    async with a.db.engine.connect() as conn:
        await conn.exec_driver_sql("ANALYZE inbox_items")
    async with a.db.sessions.begin() as session:
        session.add_all([_item(InboxState.queued, now - timedelta(seconds=1), n, turn=n) for n in range(2000)])
    async with statements_run(a.db) as statements, a.db.sessions.begin() as session:
        claims = await inbox_queue.claim(session, now, 5, lease=timedelta(minutes=5), max_attempts=5, lock=True)
    assert [claimed.activity_uri.rsplit("/", 1)[1] for claimed in claims] == ["0", "1", "2", "3", "4"]
    texts = [sql for sql, _ in statements]
    window = next(n for n, sql in enumerate(texts) if "ORDER BY inbox_items.turn" in sql)
    # sorting is priced out around the claim's due queries, and for them alone
    off, on = [n for n, sql in enumerate(texts) if "set_config" in sql]
    assert off < window < on and all("ORDER BY" in sql for sql in texts[off + 1:on])
    select_queued, parameters = statements[window]
    assert "Sort" in "\n".join(await postgres_plan(a.db, select_queued, parameters))  # the stale statistics' plan
    plan = "\n".join(await postgres_plan(a.db, select_queued, parameters, sort=False))
    assert "ix_inbox_items_state_turn_id" in plan and "Sort" not in plan, plan
