"""Nothing is lost: a peer's outage, our own restart, and the classification of failures."""

from __future__ import annotations

import json

from sqlalchemy import func, select

from federation.outbox import actions, relations
from federation.outbox.delivery import DeliveryWorker, Outcome
from federation.remote.resolve import resolve_account, resolve_actor
from storage.models import Delivery, DeliveryState, InboxItem, Object, Peer, Visibility
from tests.fakepeer import FakePeer
from tests.instances import Instance, settle
from tests.statements import peers_written, statements_run


async def _setup(instances) -> tuple[Instance, Instance]:
    """bob@B follows alice@A, so A's posts go to B."""
    a, b = await instances.start("a"), await instances.start("b")
    await a.add_user("alice")
    await b.add_user("bob")
    alice = await resolve_account(b.fed, f"alice@{a.urls.authority}")
    async with b.db.sessions.begin() as session:
        await relations.follow(b.fed, session, await b.actor("bob"), alice)
    await settle(a, b)
    return a, b


async def _post(a: Instance, text: str):
    async with a.db.sessions.begin() as session:
        return await actions.post(a.fed, session, await a.actor("alice"), content=f"<p>{text}</p>")


async def _deliveries(a: Instance) -> list[Delivery]:
    async with a.db.sessions() as session:
        return list(await session.scalars(select(Delivery).order_by(Delivery.id)))


async def test_outage_then_recovery_delivers_in_order_exactly_once(instances):
    a, b = await _setup(instances)
    # Given B is down while alice posts three times
    await b.stop()
    posts = [await _post(a, f"update {n}") for n in range(3)]
    await a.step()
    pending = [d for d in await _deliveries(a) if d.state is DeliveryState.queued]
    assert len(pending) == 3
    assert pending[0].last_error is not None and pending[0].attempts == 1
    async with a.db.sessions() as session:
        peer = await session.scalar(select(Peer).where(Peer.domain == b.urls.authority))
    assert peer.consecutive_failures == 1 and peer.retry_at > a.clock.now()
    # a second step before the backoff ends sends nothing
    assert await a.delivery.run_once() == 0

    # When B comes back and A's clock passes the backoff
    b = await instances.restart(b)
    a.clock.advance(minutes=2)
    await settle(a, b)

    # Then B has all three, in the order they were posted, each received once
    async with b.db.sessions() as session:
        creates = list(await session.scalars(
            select(InboxItem.raw).where(InboxItem.activity_type == "Create").order_by(InboxItem.id)))
    assert [json.loads(c)["object"]["id"] for c in creates] == [p.uri for p in posts]
    assert len([1 for method, path in b.received if method == "POST"]) == 3
    assert all(d.state is DeliveryState.delivered for d in await _deliveries(a))


async def test_restart_resumes_pending_deliveries(instances):
    a, b = await _setup(instances)
    # Given deliveries queued when A stops (they were never sent)
    await _post(a, "before the restart")
    await _post(a, "also before")
    # When A restarts on the same database
    a = await instances.restart(a)
    await settle(a, b)
    # Then they are delivered
    assert [d.state for d in await _deliveries(a)][-2:] == [DeliveryState.delivered] * 2
    async with b.db.sessions() as session:
        assert await session.scalar(select(func.count()).where(InboxItem.activity_type == "Create")) == 2


async def test_a_peer_reaching_us_resets_its_backoff(instances, http):
    a, b = await _setup(instances)
    await b.stop()
    await _post(a, "while B is away")
    await a.step()
    b = await instances.restart(b)
    # When B contacts A (a signed request from bob), A's deliveries to B become due at once
    async with b.db.sessions.begin() as session:
        await actions.post(b.fed, session, await b.actor("bob"), content="<p>back</p>", mentions=[await b_remote(b, a)])
    await b.step()  # bob's post reaches A's inbox: the backoff is reset as it arrives
    async with a.db.sessions() as session:
        peer = await session.scalar(select(Peer).where(Peer.domain == b.urls.authority))
    assert peer.retry_at is None
    assert await a.delivery.run_once() >= 1
    assert all(d.state is DeliveryState.delivered for d in await _deliveries(a))


async def b_remote(b: Instance, a: Instance):
    return await resolve_account(b.fed, f"alice@{a.urls.authority}")


async def test_failure_classes(instances):
    """410 is permanent (dead), 429 and 500 retry later, 2xx is delivered."""
    # Given a follower on a fake peer whose inbox answers with a chosen status
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        remote = await resolve_account_via(a, peer)
        async with a.db.sessions.begin() as session:
            await relations.follow(a.fed, session, await a.actor("alice"), remote)
        for status, expected in ((410, DeliveryState.dead), (429, DeliveryState.queued),
                                 (500, DeliveryState.queued), (202, DeliveryState.delivered)):
            peer.inbox_status = status
            async with a.db.sessions.begin() as session:
                await session.execute(Peer.__table__.update().values(retry_at=None))
            async with a.db.sessions.begin() as session:
                await actions.like(a.fed, session, await a.actor("alice"), await _remote_note(a, peer, remote, status))
            await a.delivery.run_once()
            last = (await _deliveries(a))[-1]
            assert last.state is expected, (status, last.state, last.last_error)
            assert last.last_status == status
    finally:
        await peer.stop()


async def resolve_account_via(a: Instance, peer: FakePeer):
    uri = peer.add_actor("zed")
    return await resolve_actor(a.fed, uri)


async def _remote_note(a: Instance, peer: FakePeer, author, n: int):
    async with a.db.sessions.begin() as session:
        note = Object(uri=f"{peer.base}/notes/{n}", type="Note", actor_id=author.id, local=False,
                      visibility=Visibility.public, content="x")
        session.add(note)
    return note


async def test_a_peer_error_text_the_database_cannot_store_is_recorded_escaped(instances):
    """PostgreSQL refuses NUL in text: quoted raw, one peer's 500 page failed the whole record."""
    # Given a follow request from alice to a peer whose inbox answers 500 with a NUL in the body
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        remote = await resolve_account_via(a, peer)
        async with a.db.sessions.begin() as session:
            await relations.follow(a.fed, session, await a.actor("alice"), remote)
        peer.inbox_status, peer.inbox_body = 500, b"broken\x00page"
        # When the delivery worker sends it
        assert await a.delivery.run_once() == 1
        # Then the failure is recorded, the NUL written as an escape, and the peer backs off
        (row,) = await _deliveries(a)
        assert (row.state, row.attempts, row.last_status) == (DeliveryState.queued, 1, 500)
        assert row.last_error == "HTTP 500: broken\\x00page"
        async with a.db.sessions() as session:
            backoff = await session.scalar(select(Peer).where(Peer.domain == peer.authority))
        assert backoff.consecutive_failures == 1 and backoff.last_failure_reason == row.last_error
    finally:
        await peer.stop()


async def test_delivery_outcomes_write_peers_rows_in_domain_order(instances):
    """The delivery worker's outcomes write the peers' rows (healthy, backing off) in domain order,
    the order the peer contacts' flush takes too, so the two cannot deadlock on PostgreSQL (seen in
    bench/inbox_drain.py: a delivery's backoff against a contacts flush)."""
    a = await instances.start()
    outcomes = [Outcome(1, "zeta.example", DeliveryState.delivered, 202, None),
                Outcome(2, "alpha.example", DeliveryState.queued, None, "TimeoutError"),
                Outcome(3, "mid.example", DeliveryState.delivered, 202, None)]
    async with statements_run(a.db) as statements:
        await DeliveryWorker(a.fed)._record(outcomes)
    domains = {outcome.peer for outcome in outcomes}
    assert peers_written(statements, domains) == sorted(domains)
    async with a.db.sessions() as session:
        peers = {peer.domain: peer for peer in await session.scalars(select(Peer))}
    assert peers["alpha.example"].consecutive_failures == 1 and peers["zeta.example"].last_success_at is not None
