"""GET /healthz tells the truth: 503, with a reason, when the database cannot be reached or
written, or when the oldest due inbox item or delivery has waited past the threshold."""

from __future__ import annotations

import socket
import sqlite3
from contextlib import asynccontextmanager
from datetime import timedelta

import asyncpg
from aiohttp import web
from sqlalchemy import select

from federation.outbox import relations
from federation.remote.resolve import resolve_actor

from server.app import create_app
from storage.models import Peer
from tests.fakepeer import FakePeer, activity
from tests.instances import free_port, settings_for


async def test_healthz_ok(instances, http):
    a = await instances.start()
    async with http.get(f"{a.base}/healthz") as r:
        assert r.status == 200
        assert await r.json() == {"status": "ok", "database": "ok", "inbox_wait_seconds": 0,
                                  "delivery_wait_seconds": 0, "queues": "ok"}


async def test_healthz_503_when_database_unreachable(tmp_path, http):
    # Given a server whose database (PostgreSQL on a closed loopback port) does not answer
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    unreachable = f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/none"
    settings = settings_for(tmp_path, base, None, 8080, database={"url": unreachable})
    runner = web.AppRunner(create_app(settings))
    await runner.setup()
    await web.SockSite(runner, sock).start()
    try:
        # When the health check runs, Then it says the database is unreachable
        async with http.get(f"{base}/healthz") as r:
            assert r.status == 503
            body = await r.json()
        assert body == {"status": "error", "database": "unreachable", "reason": "the database cannot be reached"}
        # And a page that needs the database gets a clean 503, not a traceback
        async with http.get(f"{base}/users/alice") as r:
            assert r.status == 503
            assert "database is unavailable" in (await r.json())["error"]
    finally:
        await runner.cleanup()


# --- health tells the truth ---------------------------------------------------------------------

async def _health(http, instance) -> tuple[int, dict]:
    async with http.get(f"{instance.base}/healthz") as r:
        return r.status, await r.json()


async def test_healthz_503_while_the_oldest_due_inbox_item_waits_too_long(instances, http):
    # Given A (health_max_queue_wait_seconds 900) with alice, and bob's Follow stored, not yet handled
    a = await instances.start(server={"health_max_queue_wait_seconds": 900})
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        peer.add_actor("bob")
        follow = activity(peer, "bob", "Follow", f"{a.base}/users/alice")
        assert (await peer.post(http, "bob", f"{a.base}/users/alice/inbox", follow, a.clock.now()))[0] == 202
        assert await _health(http, a) == (200, {"status": "ok", "database": "ok", "inbox_wait_seconds": 0,
                                                "delivery_wait_seconds": 0, "queues": "ok"})
        # When it waits 901 seconds with no worker running
        a.clock.advance(seconds=901)
        # Then health says 503, with the reason
        status, body = await _health(http, a)
        assert status == 503 and body["queues"] == "behind" and body["inbox_wait_seconds"] == 901
        assert body["reason"] == "the oldest due inbox item has waited 901 s, longer than 900 s"
        # And once the worker has handled it (and sent alice's Accept), 200 again
        await a.step()
        assert (await _health(http, a))[0] == 200
    finally:
        await peer.stop()


async def test_healthz_503_while_a_due_delivery_waits_too_long_but_not_for_a_peer_backing_off(instances, http):
    # Given A with a delivery queued to a peer (alice follows zed)
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        zed = await resolve_actor(a.fed, peer.add_actor("zed"))
        async with a.db.sessions.begin() as session:
            await relations.follow(a.fed, session, await a.actor("alice"), zed)
        # When it waits past the threshold while the peer is backing off (for a day, say)
        await _back_off(a, peer.authority, a.clock.now() + timedelta(days=1))
        a.clock.advance(seconds=901)
        # Then that is the peer's state, not ours: health is 200
        assert (await _health(http, a))[0] == 200
        # When the backoff is over and it is still not sent
        await _back_off(a, peer.authority, None)
        # Then 503, naming the delivery queue
        status, body = await _health(http, a)
        assert status == 503 and body["delivery_wait_seconds"] == 901 and "delivery" in body["reason"]
        # And once it is delivered, 200
        assert await a.delivery.run_once() == 1
        assert (await _health(http, a))[0] == 200
    finally:
        await peer.stop()


async def _back_off(instance, domain: str, until) -> None:
    async with instance.db.sessions.begin() as session:
        row = await session.scalar(select(Peer).where(Peer.domain == domain))
        if row is None:
            row = Peer(domain=domain, first_seen_at=instance.clock.now())
            session.add(row)
        row.retry_at = until


async def test_healthz_503_while_the_database_cannot_be_written(instances, http, database_url):
    # Given A (on SQLite, with a short busy timeout) and another connection holding the write lock
    a = await instances.start(database={"sqlite_busy_timeout_ms": 200})
    assert (await _health(http, a))[0] == 200
    async with _write_lock(a, database_url):
        # When a probe comes, Then it says 503: the database answers but takes no write
        assert await _health(http, a) == (503, {"status": "error", "database": "not writable",
                                                "reason": "the database cannot be written"})
    # And once the lock is gone, 200 again
    assert (await _health(http, a))[0] == 200


@asynccontextmanager
async def _write_lock(instance, database_url: str | None):
    """Hold a lock that keeps the instance's health probe from writing (the tests run as root,
    so file modes and REVOKE would not stop it)."""
    if database_url is None:
        conn = sqlite3.connect(instance.settings.sqlite_path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            yield
            conn.execute("ROLLBACK")
        finally:
            conn.close()
        return
    conn = await asyncpg.connect(database_url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f'SET search_path TO "{instance.settings.database.schema}"')
        async with conn.transaction():
            await conn.execute("LOCK TABLE health_probes IN EXCLUSIVE MODE")
            yield
    finally:
        await conn.close()
