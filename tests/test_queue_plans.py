"""How SQLite plans the delivery and Web Push queues' claims and outcomes (storage/leases.py).

SQLite keeps no statistics here, so on a small test database and a big one alike it picks an
index by the shape of the statement alone; these tests read the plans it makes. The traps: a
claim in id order planned on the (state, next_attempt_at) index reads and sorts every due row
(14 ms per claim over 30,000 queued deliveries); an outcome recorded by ids, guarded by its
state, planned on the (state, next_attempt_at) index read every queued row (10 ms per
outcome there); it seeks its rows by id in (state, id, next_attempt_at) now. PostgreSQL
plans with its statistics, so only SQLite is checked.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from storage import deliveries, push
from storage.models import (
    Activity, Delivery, DeliveryState, Notification, NotificationType, OAuthToken, PushDelivery,
    PushSubscription,
)
from tests.statements import sqlite_plan, statements_run


async def _plans(instance, run, startswith: str, contains: str) -> list[list[str]]:
    """The SQLite plan of each statement `run(session)` ran that starts with `startswith` and
    holds `contains`, each as its lines."""
    async with statements_run(instance.db) as statements, instance.db.sessions.begin() as session:
        await run(session)
    chosen = [(sql, params) for sql, params in statements if sql.startswith(startswith) and contains in sql]
    assert chosen
    return [await sqlite_plan(instance.db, sql, params) for sql, params in chosen]


def _by_id(plan: list[str]) -> bool:
    """The plan seeks each row by its id (the primary key, or (state, id, ...) with the state the
    outcome's guard names), rather than reading every row in a state."""
    return len(plan) == 1 and plan[0].startswith("SEARCH") and ("(id=?)" in plan[0] or "AND id=?)" in plan[0])


async def _queued_deliveries(instance, n: int) -> list[int]:
    _, user = await instance.add_user("sender")
    now = instance.clock.now()
    async with instance.db.sessions.begin() as session:
        activity = Activity(uri=f"{instance.base}/activities/1", type="Create", actor_id=user.id, local=True, raw={})
        session.add(activity)
        await session.flush()
        rows = [Delivery(activity_id=activity.id, sender_id=user.id, inbox=f"https://peer{k % 3}.example/inbox",
                         peer=f"peer{k % 3}.example", created_at=now, next_attempt_at=now - timedelta(seconds=1))
                for k in range(n)]
        session.add_all(rows)
        await session.flush()
        return [row.id for row in rows]


async def test_a_delivery_claim_reads_queued_rows_in_id_order_from_an_index_and_stops_at_its_limit(instances):
    """Given queued deliveries, when the delivery worker claims some, then SQLite walks the
    (state, id, next_attempt_at) index in id order: planned on the due-time index, it sorted
    every due delivery (a fan-out's whole backlog) for every claim."""
    a = await instances.start()
    if not a.db.is_sqlite:
        return
    await _queued_deliveries(a, 12)

    async def claim(session):
        batch = await deliveries.claim(session, a.clock.now(), 5, lease=timedelta(minutes=5), lock=False)
        assert len(batch.deliveries) == 5

    ((plan, *_),) = [await _plans(a, claim, "SELECT", "FROM deliveries")]
    assert plan[0] == "SEARCH deliveries USING INDEX ix_deliveries_state_id_next (state=?)"
    assert not [line for line in plan if "TEMP B-TREE" in line]


async def test_a_delivery_outcome_finds_its_rows_by_id_not_by_reading_every_queued_row(instances):
    """Given queued deliveries, when outcomes are recorded for some (delivered, or queued again
    to be retried), then SQLite seeks them by id: guarded by the state, it read every queued
    delivery through the (state, next_attempt_at) index for each outcome."""
    a = await instances.start()
    if not a.db.is_sqlite:
        return
    ids = await _queued_deliveries(a, 12)

    async def settle(session):
        await deliveries.settle(session, ids[:6], DeliveryState.delivered, a.clock.now(), attempted=True, status=202)
        await deliveries.settle(session, ids[6:], DeliveryState.queued, a.clock.now(), attempted=True,
                                status=503, error="busy")

    plans = await _plans(a, settle, "UPDATE", "deliveries")
    assert len(plans) == 2 and all(_by_id(plan) for plan in plans), plans
    async with a.db.sessions() as session:
        states = dict((await session.execute(select(Delivery.id, Delivery.state))).all())
    assert [states[i] for i in ids] == [DeliveryState.delivered] * 6 + [DeliveryState.queued] * 6


async def test_an_outcome_is_recorded_only_on_a_delivery_still_queued(instances):
    """Given a delivery an admin cancelled mid-send, when its send's outcome comes, then it stays
    cancelled (the outcome's guard: still queued)."""
    a = await instances.start()
    ids = await _queued_deliveries(a, 2)
    async with a.db.sessions.begin() as session:
        await deliveries.cancel_queued_to(session, "peer0.example", a.clock.now(), "blocked")
    async with a.db.sessions.begin() as session:
        await deliveries.settle(session, ids, DeliveryState.dead, a.clock.now(), attempted=True, status=410)
    async with a.db.sessions() as session:
        states = dict((await session.execute(select(Delivery.id, Delivery.state))).all())
    assert [states[i] for i in ids] == [DeliveryState.cancelled, DeliveryState.dead]


async def test_a_push_claim_and_outcome_use_the_claim_order_index_and_the_primary_key(instances):
    """Given queued pushes, when the push worker claims them and records their outcome, then
    SQLite reads them in id order from (state, id, next_attempt_at) and finds them by their
    id: as deliveries', planned on the due-time index, each read every queued push."""
    a = await instances.start()
    if not a.db.is_sqlite:
        return
    account, user = await a.add_user("reader")
    _, other = await a.add_user("writer")
    now = a.clock.now()
    async with a.db.sessions.begin() as session:
        token = OAuthToken(token_hash=hashlib.sha256(b"t").hexdigest(), account_id=account.id, scopes="push")
        session.add(token)
        await session.flush()
        subscription = PushSubscription(token_id=token.id, actor_id=user.id, endpoint="https://push.example/1",
                                        p256dh="k", auth="a", alerts={"follow": True})
        notifications = [Notification(recipient_id=user.id, type=NotificationType.follow, from_actor_id=other.id)
                         for _ in range(10)]
        session.add_all([subscription, *notifications])
        await session.flush()
        await push.queue_pushes(session, notifications[0].id, [subscription.id] * 10, now - timedelta(seconds=1))
    taken: list[int] = []

    async def claim(session):
        taken.extend(p.delivery.id for p in await push.claim(session, now, 6, lease=timedelta(minutes=5), lock=False))

    async def settle(session):
        await push.settle(session, taken, DeliveryState.delivered, now, status=201, error=None)

    ((plan, *_),) = [await _plans(a, claim, "SELECT", "FROM push_deliveries")]
    assert plan[0] == "SEARCH push_deliveries USING INDEX ix_push_deliveries_state_id_next (state=?)"
    assert not [line for line in plan if "TEMP B-TREE" in line]
    ((plan,),) = [await _plans(a, settle, "UPDATE", "push_deliveries SET state")]
    assert _by_id(plan), plan
    async with a.db.sessions() as session:
        states = list(await session.scalars(select(PushDelivery.state).order_by(PushDelivery.id)))
    assert states == [DeliveryState.delivered] * 6 + [DeliveryState.queued] * 4
