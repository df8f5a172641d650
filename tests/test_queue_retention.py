"""The retention sweep (federation/admin/retention.py): settled inbox items, deliveries and pushes
go once their retention ends, finished ones after [federation] finished_retention_days, failed ones
after failed_retention_days; nothing still queued or failed does, nor anything a claim needs; it
deletes a batch per transaction until none is left, reading an index, never the live queue; and
`rounds queue prune` runs it once."""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from federation.admin import retention
from federation.admin.retention import Retention
from federation.runtime.workers import Workers
from storage import inbox_queue, leases
from storage.ids import new_id
from storage.leases import DELIVERY_ROWS, INBOX_ITEMS, PUSH_ROWS
from storage.models import (
    Activity, Delivery, DeliveryState, InboxItem, InboxState, Notification, NotificationType, OAuthToken,
    PushDelivery, PushSubscription,
)
from tests.cli_helpers import help_text, run_cli
from tests.statements import sqlite_plan, statements_run

I, D = InboxState, DeliveryState
DAY = timedelta(days=1)


def _item(number: int, state: InboxState, now: datetime, *, settled: timedelta | None = None,
          actor: str = "x", due: datetime | None = None) -> InboxItem:
    """An inbox item received 60 days before `now`, settled `settled` before `now` (None: not settled)."""
    received = now - 60 * DAY
    return InboxItem(id=new_id(), activity_uri=f"https://peer.example/a/{number}", activity_type="Like",
                     actor_uri=f"https://peer.example/u/{actor}", signer_key_id=f"https://peer.example/u/{actor}#k",
                     raw="{}", state=state, attempts=1, received_at=received, next_attempt_at=due or received,
                     turn=number, processed_at=None if settled is None else now - settled)


class Scene:
    """An instance with one activity to deliver and one notification to push, and rows of each queue."""

    def __init__(self, instance, activity: Activity, subscription: PushSubscription,
                 notification: Notification) -> None:
        self.instance, self.activity, self.subscription, self.notification = instance, activity, subscription, notification

    def delivery(self, state: DeliveryState, now: datetime, settled: timedelta | None) -> Delivery:
        return Delivery(activity_id=self.activity.id, sender_id=self.activity.actor_id, inbox="https://peer.example/inbox",
                        peer="peer.example", state=state, created_at=now - 60 * DAY, next_attempt_at=now - 60 * DAY,
                        finished_at=None if settled is None else now - settled)

    def push(self, state: DeliveryState, now: datetime, settled: timedelta | None) -> PushDelivery:
        return PushDelivery(subscription_id=self.subscription.id, notification_id=self.notification.id, state=state,
                            created_at=now - 60 * DAY, next_attempt_at=now - 60 * DAY,
                            finished_at=None if settled is None else now - settled)

    async def add(self, *rows) -> list[int]:
        async with self.instance.db.sessions.begin() as session:
            session.add_all(rows)
            await session.flush()
            return [row.id for row in rows]

    async def left(self, model) -> set[int]:
        async with self.instance.db.sessions() as session:
            return set(await session.scalars(select(model.id)))


@pytest.fixture
async def scene(instances) -> Scene:
    a = await instances.start()
    account, user = await a.add_user("alice")
    _, other = await a.add_user("bob")
    async with a.db.sessions.begin() as session:
        activity = Activity(uri=f"{a.base}/activities/1", type="Create", actor_id=user.id, local=True, raw={})
        token = OAuthToken(token_hash=hashlib.sha256(b"t").hexdigest(), account_id=account.id, scopes="push")
        notification = Notification(recipient_id=user.id, type=NotificationType.follow, from_actor_id=other.id)
        session.add_all([activity, token, notification])
        await session.flush()
        subscription = PushSubscription(token_id=token.id, actor_id=user.id, endpoint="https://push.example/1",
                                        p256dh="k", auth="a", alerts={"follow": True})
        session.add(subscription)
    return Scene(a, activity, subscription, notification)


async def test_settled_rows_go_after_their_retention_and_live_ones_never(scene):
    a = scene.instance
    now = a.clock.now()
    # Given rows of each queue: settled long ago, settled lately, and never settled (still to do)
    inbox = dict(zip(["done old", "ignored old", "done new", "dead new", "dead old", "discarded old",
                      "queued old", "failed old"], await scene.add(
        _item(1, I.done, now, settled=8 * DAY), _item(2, I.ignored, now, settled=8 * DAY),
        _item(3, I.done, now, settled=6 * DAY), _item(4, I.dead, now, settled=29 * DAY),
        _item(5, I.dead, now, settled=31 * DAY), _item(6, I.discarded, now, settled=31 * DAY),
        _item(7, I.queued, now), _item(8, I.failed, now, due=now - DAY))))
    deliveries = dict(zip(["delivered old", "delivered new", "dead new", "dead old", "cancelled old", "queued old"],
                          await scene.add(
        scene.delivery(D.delivered, now, 8 * DAY), scene.delivery(D.delivered, now, 6 * DAY),
        scene.delivery(D.dead, now, 29 * DAY), scene.delivery(D.dead, now, 31 * DAY),
        scene.delivery(D.cancelled, now, 31 * DAY), scene.delivery(D.queued, now, None))))
    pushes = dict(zip(["delivered old", "dead new", "dead old", "queued old"], await scene.add(
        scene.push(D.delivered, now, 8 * DAY), scene.push(D.dead, now, 29 * DAY),
        scene.push(D.dead, now, 31 * DAY), scene.push(D.queued, now, None))))

    # When the workers' sweep runs, with the default retention (7 and 30 days)
    assert (a.fed.settings.finished_retention_days, a.fed.settings.failed_retention_days) == (7, 30)
    deleted = await Workers(a.fed, a.settings.media_dir).sweep_queues()

    # Then finished rows older than 7 days and failed ones older than 30 are gone; the rest stay
    assert deleted == {"inbox items": 4, "deliveries": 3, "pushes": 2}
    assert await scene.left(InboxItem) == {inbox[k] for k in ("done new", "dead new", "queued old", "failed old")}
    assert await scene.left(Delivery) == {deliveries[k] for k in ("delivered new", "dead new", "queued old")}
    assert await scene.left(PushDelivery) == {pushes[k] for k in ("dead new", "queued old")}
    # And a second sweep finds nothing
    assert await Workers(a.fed, a.settings.media_dir).sweep_queues() == dict.fromkeys(deleted, 0)


async def test_zero_keeps_rows_forever(scene):
    a = scene.instance
    now = a.clock.now()
    ids = await scene.add(_item(1, I.done, now, settled=400 * DAY), _item(2, I.dead, now, settled=400 * DAY))
    # Given finished rows kept forever (0), failed ones 30 days
    kept = Retention.of(dataclasses.replace(a.fed.settings, finished_retention_days=0))
    assert kept.finished is None and kept.failed == 30 * DAY
    # When the sweep runs, Then only the failed one goes
    assert (await retention.sweep(a.db, now, kept))["inbox items"] == 1
    assert await scene.left(InboxItem) == {ids[0]}


async def test_the_sweep_deletes_batch_after_batch_until_none_is_left(scene):
    a = scene.instance
    now = a.clock.now()
    # Given 7 finished items past their retention, and a batch of 3
    await scene.add(*[_item(n, I.done, now, settled=10 * DAY) for n in range(7)], _item(7, I.done, now, settled=DAY))
    async with statements_run(a.db) as statements:
        # When the sweep runs
        deleted = await retention.sweep(a.db, now, Retention(7 * DAY, 30 * DAY), batch=3)
    done_batches = [sql for sql, parameters in statements if sql.startswith("DELETE FROM inbox_items")
                    and "done" in tuple(parameters.values() if isinstance(parameters, dict) else parameters)]
    # Then it took three batches (3, 3, then 1: short, so the state is done) and all 7 went
    assert deleted["inbox items"] == 7
    assert len(done_batches) == 3
    assert len(await scene.left(InboxItem)) == 1


@pytest.mark.parametrize(("queue", "column", "state"), [
    (INBOX_ITEMS, InboxItem.processed_at, I.queued), (INBOX_ITEMS, InboxItem.processed_at, I.failed),
    (DELIVERY_ROWS, Delivery.finished_at, D.queued), (PUSH_ROWS, PushDelivery.finished_at, D.queued),
])
async def test_a_state_a_claim_takes_is_never_deleted(instances, queue, column, state):
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        with pytest.raises(ValueError, match="live; they are never deleted"):
            await leases.delete_settled(session, queue, column, state, a.clock.now(), 10)


async def test_a_claim_still_keeps_an_actors_order_once_its_old_items_are_gone(scene):
    """The claim reads an actor's queued items only: its settled ones may go."""
    a = scene.instance
    now = a.clock.now()
    # Given an actor with an item done long ago, one being handled (held by its lease), and a later one
    old, held, later = await scene.add(_item(1, I.done, now, settled=30 * DAY),
                                       _item(2, I.queued, now, due=now + timedelta(minutes=5)),
                                       _item(3, I.queued, now))
    # When the sweep removes the old one
    assert (await retention.sweep(a.db, now, Retention.of(a.fed.settings)))["inbox items"] == 1
    # Then a claim still leaves the later item until the held one is done
    async with a.db.sessions.begin() as session:
        claims = await inbox_queue.claim(session, now, 10, lease=timedelta(minutes=5), max_attempts=5,
                                         lock=not a.db.is_sqlite)
    assert list(claims) == [] and claims.held_back == 1
    assert await scene.left(InboxItem) == {held, later}


async def test_the_sweep_reads_its_rows_from_the_settled_time_index(scene):
    """Without (state, settled time) indexes, SQLite (no statistics) reads every row in a state
    through (state, next_attempt_at) for each batch: the whole retained history, every 10 minutes.
    PostgreSQL plans with its statistics; only SQLite is checked."""
    a = scene.instance
    if not a.db.is_sqlite:
        return
    now = a.clock.now()
    await scene.add(_item(1, I.done, now, settled=10 * DAY), scene.delivery(D.delivered, now, 10 * DAY),
                    scene.push(D.delivered, now, 10 * DAY))
    async with statements_run(a.db) as run:
        await retention.sweep(a.db, now, Retention.of(a.fed.settings))
    statements = [(sql, params) for sql, params in run if sql.startswith("DELETE")]
    indexes = {"inbox_items": "ix_inbox_items_state_processed", "deliveries": "ix_deliveries_state_finished",
               "push_deliveries": "ix_push_deliveries_state_finished"}
    for sql, params in statements:
        table = sql.split()[2]
        plan = await sqlite_plan(a.db, sql, params)
        assert plan[0].startswith(f"SEARCH {table} USING ") and plan[0].endswith("(id=?)"), plan  # by its ids
        assert any(line.startswith(f"SEARCH {table} USING INDEX {indexes[table]} (state=? AND ")
                   for line in plan), plan
        assert not [line for line in plan if line.startswith("SCAN") or "TEMP B-TREE" in line], plan
    assert {sql.split()[2] for sql, _ in statements} == set(indexes)


async def test_rounds_queue_prune_runs_the_sweep_once(scene, tmp_path):
    a = scene.instance
    now = datetime.now(UTC)  # the command's clock is the system's
    done, recent = await scene.add(_item(1, I.done, now, settled=8 * DAY), _item(2, I.done, now, settled=DAY))
    delivered, = await scene.add(scene.delivery(D.delivered, now, 3 * DAY))
    # When an admin prunes, with finished rows kept 2 days
    pruned = run_cli(a, tmp_path, "queue", "prune", federation="finished_retention_days = 2\n")
    # Then the old rows are gone, and it says how many
    assert pruned.returncode == 0, pruned.stderr
    assert pruned.stdout == "Deleted 1 inbox items, 1 deliveries, 0 pushes.\n"
    assert await scene.left(InboxItem) == {recent} and delivered not in await scene.left(Delivery)
    # And with everything kept forever, it says so and deletes nothing
    forever = run_cli(a, tmp_path, "queue", "prune",
                      federation="finished_retention_days = 0\nfailed_retention_days = 0\n")
    assert forever.returncode == 0 and "Nothing to prune" in forever.stdout
    assert done not in await scene.left(InboxItem)


def test_prune_has_help():
    text = help_text("queue", "prune")
    assert "finished_retention_days" in text and "failed_retention_days" in text and "never deleted" in text
