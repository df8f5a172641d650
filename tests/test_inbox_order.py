"""The inbox worker handles items concurrently, and still in order where order matters:

- fairness: a peer that floods the inbox does not push a quiet peer's activity to the back
  (turns stamped at intake, `federation.inbox.turns`);
- an actor's activities: a later one is not claimed while an earlier one is being handled
  (`storage.inbox_queue.claim`), by this worker or another;
- within a batch, items sharing an actor or an object run one after the other (chains): a
  Create before its Update and before another actor's Like of it, even when the Create waits on
  a slow fetch;
- batched commits: a batch of handled items commits once, and an item that fails rolls back its
  own writes and stream events alone (a savepoint), while the rest of the batch commits.

Real instances and signed activities over loopback HTTP; each test says what breaks it.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiohttp import web
from sqlalchemy import event

from federation.inbox import committer, worker
from federation.inbox.handlers import HANDLERS, like
from federation.inbox.turns import Turns
from storage import inbox_queue
from storage.ids import new_id
from storage.models import InboxItem, InboxState, Like, Notification, Object
from tests.fakepeer import FakePeer, activity
from tests.handler_helpers import Scene, start_scene
from tests.statements import statements_run


async def _claim(scene: Scene, limit: int) -> list[inbox_queue.Claimed]:
    async with scene.a.db.sessions.begin() as session:
        return await inbox_queue.claim(session, scene.a.clock.now(), limit, lease=timedelta(minutes=5),
                                       max_attempts=5, lock=not scene.a.db.is_sqlite)


async def _second_peer(name: str) -> FakePeer:
    peer = await FakePeer().start()
    peer.add_actor(name, key=2)
    return peer


async def test_a_flooding_peer_does_not_push_a_quiet_peers_activity_to_the_back(instances, http):
    """Breaks if intake stops stamping turns (the claim would take items in arrival order) or
    the claim stops ordering by turn."""
    async with start_scene(instances, http) as scene:
        quiet = await _second_peer("quinn")
        try:
            # Given 40 Creates from a flooding peer, then one from a quiet peer
            for n in range(40):
                await scene.send("zed", "Create", scene.note("zed", str(n)), suffix=str(n))
            note = {"id": f"{quiet.base}/users/quinn/statuses/1", "type": "Note", "content": "<p>hi</p>",
                    "attributedTo": f"{quiet.base}/users/quinn", "to": ["https://www.w3.org/ns/activitystreams#Public"]}
            create = activity(quiet, "quinn", "Create", note)
            status, text = await quiet.post(http, "quinn", f"{scene.a.base}/inbox", create, scene.a.clock.now())
            assert status == 202, text
            # When the worker claims its first batch of 10
            claimed = await _claim(scene, 10)
            # Then the quiet peer's activity is in it, not 41st
            assert create["id"] in [item.activity_uri for item in claimed]
            assert len(claimed) == 10
        finally:
            await quiet.stop()


async def test_an_actors_later_activity_waits_while_an_earlier_one_is_held(instances, http):
    """Breaks if the claim stops checking an actor's earlier queued items: the Update would be
    claimed (by this or another worker) while its Create is still being handled."""
    async with start_scene(instances, http) as scene:
        note = scene.note("zed", "1")
        create = await scene.send("zed", "Create", note)
        update = await scene.send("zed", "Update", note | {"content": "<p>edited</p>"})
        other = await scene.send("mallory", "Create", scene.note("mallory", "1"))
        # Given the Create is claimed (held, being handled)
        first = await _claim(scene, 1)
        assert [item.activity_uri for item in first] == [create["id"]]
        # When the next claim runs, then it takes another actor's item but not the Update
        second = await _claim(scene, 10)
        assert [item.activity_uri for item in second] == [other["id"]]
        # And once the Create is finished, the Update is taken
        async with scene.a.db.sessions.begin() as session:
            await inbox_queue.finish(session, first[0].id, InboxState.done, None, scene.a.clock.now())
        assert [item.activity_uri for item in await _claim(scene, 10)] == [update["id"]]


class SlowPeer(FakePeer):
    """Answers GETs of anything but its actors after a delay."""

    delay = 0.5

    async def _handle(self, request: web.Request) -> web.Response:
        if request.method == "GET" and "/statuses/" in request.path:
            await asyncio.sleep(self.delay)
        return await super()._handle(request)

    def sams_post(self) -> str:
        """Serve the actor sam and a post of sam's (fetched slowly); the post's id."""
        self.add_actor("sam", key=2)
        return self.serve("/users/sam/statuses/1", {
            "id": f"{self.base}/users/sam/statuses/1", "type": "Note", "content": "<p>first</p>",
            "attributedTo": f"{self.base}/users/sam", "to": ["https://www.w3.org/ns/activitystreams#Public"]})


async def test_a_create_waiting_on_a_slow_fetch_still_comes_before_its_update_and_a_like(instances, http):
    """Breaks if items of one batch run side by side without chains (by actor: the Update; by
    object: the other actor's Like would be handled first, and ignored as about an unknown post)."""
    async with start_scene(instances, http) as scene:
        slow = await SlowPeer().start()
        try:
            uri = slow.sams_post()
            # Given a Create by reference (its post is fetched, slowly), its Update, and a Like of it
            create = activity(slow, "sam", "Create", uri)
            update = activity(slow, "sam", "Update", slow.documents["/users/sam/statuses/1"] | {"content": "<p>second</p>"})
            for document in (create, update):
                status, text = await slow.post(http, "sam", f"{scene.a.base}/inbox", document, scene.a.clock.now())
                assert status == 202, text
            liked = await scene.send("zed", "Like", uri)
            # When the worker handles them, in one batch
            assert await scene.run() == 3
            # Then each was handled in arrival order
            for document in (create, update, liked):
                assert (await scene.outcome(document))[0] is InboxState.done, await scene.outcome(document)
            post = await scene.one(Object, Object.uri == uri)
            assert post.content == "<p>second</p>"
            assert await scene.count(Like, Like.object_id == post.id) == 1
        finally:
            await slow.stop()


async def test_a_failing_item_rolls_back_alone_and_the_batch_commits_once(instances, http, monkeypatch):
    """Breaks if items lose their savepoint (the failing Like's row and stream event would stay),
    or if each item commits on its own (more commits)."""
    async with start_scene(instances, http) as scene:
        post = await scene.local_post()
        uri = f"{scene.a.base}/users/alice/statuses/{post.id}"
        assert post.uri == uri
        doomed_id = f"{scene.peer.base}/users/mallory/like/doomed"

        class Faulty:
            """The real Like handler, which then raises for one activity: a bug after its writes."""

            @staticmethod
            async def handle(ctx: Any) -> None:
                await like.handle(ctx)
                if ctx.activity.id == doomed_id:
                    raise RuntimeError("a bug after the writes")

        monkeypatch.setitem(HANDLERS, "Like", Faulty)
        monkeypatch.setattr(committer, "BATCH_SECONDS", 60.0)  # the batch is bounded by its items only, here
        # Given a batch of Likes of alice's post, one of which fails after writing
        doomed = activity(scene.peer, "mallory", "Like", uri) | {"id": doomed_id}
        await scene.post("mallory", doomed)
        sent = []
        for n in range(5):
            scene.peer.add_actor(f"fan{n}", key=0)
            sent.append(await scene.send(f"fan{n}", "Like", uri))
        events = scene.a.fed.events.subscribe()
        commits = []
        sync_engine = scene.a.db.engine.sync_engine
        listener = lambda connection: commits.append(1)  # noqa: E731
        event.listen(sync_engine, "commit", listener)
        try:
            # When the worker handles the batch
            assert await scene.run() == 6
        finally:
            event.remove(sync_engine, "commit", listener)
        # Then the failing item is failed with its error, and nothing it wrote stayed
        state, error = await scene.outcome(doomed)
        assert state is InboxState.failed and "a bug after the writes" in error
        likers = {like_row.actor_id for like_row in await scene.all(Like, Like.object_id == post.id)}
        assert likers == {(await scene.remote(f"fan{n}")).id for n in range(5)}
        # And the others are handled
        for document in sent:
            assert (await scene.outcome(document))[0] is InboxState.done
        # And the batch committed once (besides the claim), not once per item
        assert len(commits) <= 2, len(commits)
        # And a stream event was published for each notification written, none for the rolled-back one
        heard = []
        while not events.empty():
            heard.append(events.get_nowait())
        notified = {e.ref for e in heard if e.event == "notification"}
        assert notified == {n.id for n in await scene.all(Notification)}, heard


async def test_an_inbox_post_during_a_long_batch_is_stored_before_the_batch_ends(instances, http, monkeypatch):
    """Breaks if a batch no longer ends when intake wants the write lock (storage.db.WriteTurns):
    the peer's POST would wait for the whole batch to commit before its 202."""
    async with start_scene(instances, http) as scene:
        post = await scene.local_post()
        uri = f"{scene.a.base}/users/alice/statuses/{post.id}"
        handled: list[str] = []
        answered: list[int] = []  # how many items were handled when the late POST got its 202
        arrived = asyncio.Event()

        async def late_post() -> None:
            await scene.send("fan0", "Create", scene.note("fan0", "late"))  # a known key: intake writes the row alone
            answered.append(len(handled))
            arrived.set()

        class Patient:
            """The real Like handler; the first starts a peer's POST and returns once intake waits
            for the write lock; the others wait (a second at most) for that POST's 202."""

            @staticmethod
            async def handle(ctx: Any) -> None:
                await like.handle(ctx)
                handled.append(ctx.activity.id)
                if len(handled) == 1:
                    asyncio.get_running_loop().create_task(late_post())
                    for _ in range(200):
                        if scene.a.db.writes.wanted or not scene.a.db.is_sqlite:
                            break
                        await asyncio.sleep(0.01)
                else:
                    try:
                        await asyncio.wait_for(arrived.wait(), 1.0)
                    except TimeoutError:
                        pass

        monkeypatch.setitem(HANDLERS, "Like", Patient)
        monkeypatch.setattr(committer, "BATCH_SECONDS", 60.0)  # the batch is bounded by its items only, here
        # Given six Likes of alice's post, one chain in one batch
        for n in range(6):
            scene.peer.add_actor(f"fan{n}", key=0)
            await scene.send(f"fan{n}", "Like", uri)
        # When the worker handles them, and a peer POSTs to the inbox while the first is handled
        assert await scene.run() == 6
        # Then the POST was answered before the batch ended (on SQLite, right after its first
        # item; PostgreSQL's intake never waits for the worker)
        assert answered and answered[0] < 6, answered
        assert answered[0] == 1 or not scene.a.db.is_sqlite, answered
        assert len(handled) == 6


async def test_a_like_claimed_while_its_posts_create_is_still_on_joins_that_chain(instances, http):
    """Breaks if a later claim's item starts a chain of its own while an earlier batch's chain
    about the same object is still running: the Like would be handled first, and ignored."""
    async with start_scene(instances, http) as scene:
        slow = await SlowPeer().start()
        pump = worker.InboxPump(scene.a.fed)
        try:
            uri = slow.sams_post()
            # Given a Create by reference, claimed, its post being fetched slowly
            create = activity(slow, "sam", "Create", uri)
            status, text = await slow.post(http, "sam", f"{scene.a.base}/inbox", create, scene.a.clock.now())
            assert status == 202, text
            assert await pump.step() == 1
            # When a Like of that post arrives and is claimed meanwhile
            liked = await scene.send("zed", "Like", uri)
            assert await pump.step() == 1
            await pump.settle()
            # Then the Like was handled after the Create
            assert (await scene.outcome(create))[0] is InboxState.done
            assert (await scene.outcome(liked))[0] is InboxState.done, await scene.outcome(liked)
        finally:
            await pump.stop()
            await slow.stop()


def _row(actor: str, number: int, *, turn: int, state: InboxState = InboxState.queued, due=None) -> InboxItem:
    # due a day ago by default: due whatever the instance's clock says (it is set when the
    # instance starts, and a loaded machine may take more than a second to get here)
    at = due or datetime.now(UTC) - timedelta(days=1)
    return InboxItem(id=new_id(), activity_uri=f"https://{actor}.example/a/{number}", activity_type="Like",
                     actor_uri=f"https://{actor}.example/u/{actor}", signer_key_id=f"https://{actor}.example/u/{actor}#k",
                     raw="{}", state=state, attempts=0, received_at=at, next_attempt_at=at, turn=turn)


async def _claimed_uris(instance, limit: int) -> list[str]:
    async with instance.db.sessions.begin() as session:
        items = await inbox_queue.claim(session, instance.clock.now(), limit, lease=timedelta(minutes=5),
                                        max_attempts=5, lock=not instance.db.is_sqlite)
    return [item.activity_uri for item in items]


async def test_an_actors_earlier_item_with_a_later_turn_is_taken_first_not_left_waiting(instances):
    """Two intake processes can stamp an actor's later activity with an earlier turn. Breaks if
    the claim only checks the earlier item (out of its window) and takes neither, for ever."""
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        session.add(_row("x", 1, turn=100))  # arrived first, stamped late
        session.add(_row("x", 2, turn=1))    # arrived second, stamped early
        session.add_all([_row(f"f{n}", n, turn=10 + n) for n in range(10)])
    assert (await _claimed_uris(a, 3))[:2] == ["https://x.example/a/1", "https://x.example/a/2"]


async def test_due_retries_do_not_hold_back_queued_items(instances):
    """Breaks if a claim takes every due retry before any queued item (a dead peer's thousand
    retries would then starve everyone)."""
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        session.add_all([_row(f"r{n}", n, turn=0, state=InboxState.failed) for n in range(10)])
        session.add(_row("q", 1, turn=5))
    assert "https://q.example/a/1" in await _claimed_uris(a, 4)


async def test_after_a_restart_a_quiet_peer_still_comes_before_a_floods_backlog(instances):
    """Breaks if a writer starting up stamps every peer after the highest queued turn (the
    quiet peer would wait behind the whole backlog) or forgets the flooding peer's turns (its new
    items would jump ahead of its own queued ones)."""
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        session.add_all([_row("flood", n, turn=n) for n in range(1, 101)])
    turns = Turns()
    async with a.db.sessions() as session:
        await turns.refresh(session)
    assert turns.stamp("quiet.example") == 2  # the head is turn 1
    assert turns.stamp("flood.example") == 101


async def test_two_workers_claims_take_turns_so_neither_takes_an_actors_item_the_other_holds(instances):
    """PostgreSQL, where several workers claim. Breaks without the claims' advisory lock: the
    second claim, running before the first commits its leases, would take the actor's items too."""
    a = await instances.start()
    if a.db.is_sqlite:
        pytest.skip("two workers claiming at once need PostgreSQL (CI sets ROUNDS_TEST_DATABASE_URL)")
    async with a.db.sessions.begin() as session:
        session.add_all([_row("x", 1, turn=1), _row("x", 2, turn=2)])

    async def claim(session) -> list[str]:
        items = await inbox_queue.claim(session, a.clock.now(), 1, lease=timedelta(minutes=5), max_attempts=5, lock=True)
        return [item.activity_uri for item in items]

    # Given a first worker's claim, not committed yet
    async with a.db.sessions.begin() as first:
        assert await claim(first) == ["https://x.example/a/1"]
        # When a second worker claims meanwhile
        async with a.db.sessions.begin() as second:
            other = asyncio.create_task(claim(second))
            await asyncio.sleep(0.3)
            assert not other.done()  # it waits for the first claim's transaction
            await first.commit()
            # Then it takes nothing of x's: x's first item is held, and its second waits for it
            assert await other == []


async def test_a_claim_looks_past_due_items_whose_actor_is_held(instances):
    """Breaks if a claim of N looks at the first N due items only: they are x's, held behind x's
    item being handled (here or by another worker), and y's item further on is not taken."""
    a = await instances.start()
    due = a.clock.now() - timedelta(seconds=1)  # the instance's clock, not the wall's: a slow machine
    async with a.db.sessions.begin() as session:
        session.add(_row("x", 0, turn=0, due=due + timedelta(minutes=5)))  # held: leased
        session.add_all([_row("x", n, turn=n, due=due) for n in range(1, 5)])
        session.add(_row("y", 1, turn=10, due=due))
    assert await _claimed_uris(a, 2) == ["https://y.example/a/1"]


async def test_a_claim_waits_for_a_batch_in_progress_only_on_sqlite(instances):
    """SQLite has one writer: a claim takes its turn after the worker's batch in progress (the
    process's write turns). PostgreSQL has row locks: there a claim must not wait for a batch to
    commit (a batch runs up to BATCH_SECONDS; claims waiting behind each one starved the chains).
    Breaks if either database's behaviour is swapped."""
    a = await instances.start()
    async with a.db.sessions.begin() as session:
        session.add(_row("x", 1, turn=0, due=a.clock.now() - timedelta(seconds=1)))
    pump = worker.InboxPump(a.fed)
    async with a.db.writes.lock:  # what a batch in progress holds
        step = asyncio.create_task(pump.step())
        done, _ = await asyncio.wait({step}, timeout=1.0)
        assert bool(done) is (not a.db.is_sqlite)
    assert await step == 1
    await pump.settle()


async def test_once_a_chains_transaction_failed_its_later_items_wait_to_be_tried_again_in_order(instances, http, monkeypatch):
    """Breaks if a chain goes on submitting its items after an earlier one's transaction failed
    (the database): the Update, still being prepared then, would be handled alone, before its
    Create is tried again, and ignored as about an unknown post; the edit would be lost."""
    async with start_scene(instances, http) as scene:
        note = scene.note("zed", "1")
        create = await scene.send("zed", "Create", note)
        update = await scene.send("zed", "Update", note | {"content": "<p>edited</p>"})

        real = HANDLERS["Update"]

        class SlowUpdate:
            """The real Update handler, whose preparation takes a while (a slow peer)."""

            handle = staticmethod(real.handle)

            @staticmethod
            async def prefetch(fed: Any, activity: Any) -> Any:
                await asyncio.sleep(0.3)
                return await real.prefetch(fed, activity)

        finish, failures = inbox_queue.finish_many, []

        async def failing_once(session: Any, ids: list[int], now: datetime) -> None:
            """The real outcome, which fails the first transaction: the disk is full."""
            if not failures:
                failures.append(ids)
                raise RuntimeError("the disk is full")
            await finish(session, ids, now)

        monkeypatch.setitem(HANDLERS, "Update", SlowUpdate)
        monkeypatch.setattr(inbox_queue, "finish_many", failing_once)
        # When the Create's transaction fails while the Update is being prepared
        await scene.run()
        # Then both are failed, to be tried again, and nothing was stored
        for document in (create, update):
            state, error = await scene.outcome(document)
            assert state is InboxState.failed and "the disk is full" in error, (document["type"], state, error)
        assert await scene.count(Object, Object.uri == note["id"]) == 0
        # And when they are tried again, the Create comes first and the edit is kept
        scene.a.clock.advance(minutes=10)
        await scene.run()
        for document in (create, update):
            assert (await scene.outcome(document))[0] is InboxState.done
        assert "edited" in (await scene.one(Object, Object.uri == note["id"])).content


async def test_a_claim_reads_the_json_of_the_items_it_takes_only(instances):
    """A claim of N looks at up to 4N due items (`inbox_queue.WINDOW`). Breaks if it reads the
    JSON body of every item it looks at: bodies of kilobytes each, read and mostly left. (The
    lease that takes them returns their JSON.)"""
    a = await instances.start()
    rows = [_row(f"f{n}", n, turn=n) for n in range(12)]
    async with a.db.sessions.begin() as session:
        session.add_all(rows)
    async with statements_run(a.db) as statements:
        taken = await _claimed_uris(a, 3)
    assert taken == [f"https://f{n}.example/a/{n}" for n in range(3)]

    def returns_raw(sql: str) -> bool:
        sql = sql.lower()
        returned = sql.split("returning")[1] if "returning" in sql else sql.split("from")[0] if sql.lstrip().startswith("select") else ""
        return "raw" in returned

    reading = [parameters for sql, parameters in statements if returns_raw(sql)]
    assert len(reading) == 1, reading
    values = reading[0].values() if isinstance(reading[0], dict) else reading[0]
    assert {value for value in values if value in {row.id for row in rows}} == {row.id for row in rows[:3]}
