"""A peer's backoff lives in the database, so every process sees it: a web process started with
--no-workers learns of a backoff a worker process set, and ends it when the peer reaches it."""

from __future__ import annotations

from sqlalchemy import select

from federation.outbox import actions
from federation.outbox.delivery import DeliveryWorker
from federation.runtime.context import open_federation
from storage.models import Peer
from tests.test_delivery_resilience import _post, _setup, b_remote


async def _retry_at(instance, domain: str):
    async with instance.db.sessions() as session:
        return await session.scalar(select(Peer.retry_at).where(Peer.domain == domain))


async def test_a_backoff_set_by_a_worker_process_is_seen_and_ended_by_the_web_process(instances):
    a, b = await _setup(instances)
    web = a.fed  # A's web process: it runs no delivery worker, and read the backoffs at start
    await web.ensure_ready()
    # Given a second process on A's database (`rounds worker`) that fails to deliver to B
    async with open_federation(a.settings.federation, a.urls, a.db, a.clock, user_agent="worker") as worker:
        await b.stop()
        await _post(a, "while B is away")
        assert await DeliveryWorker(worker).run_once() == 1
    assert await _retry_at(a, b.urls.authority) is not None
    # When a few seconds pass, Then the web process knows B is backing off
    a.clock.advance(seconds=6)
    await web.ensure_ready()
    assert b.urls.authority in web.backoffs
    # And when B reaches the web process (a signed POST to its inbox), the backoff ends
    b = await instances.restart(b)
    async with b.db.sessions.begin() as session:
        await actions.post(b.fed, session, await b.actor("bob"), content="<p>back</p>", mentions=[await b_remote(b, a)])
    await b.step()
    assert await _retry_at(a, b.urls.authority) is None
    assert b.urls.authority not in web.backoffs
