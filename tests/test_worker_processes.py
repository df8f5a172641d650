"""On PostgreSQL, `rounds worker` processes share the delivery queue: two of them send 2,000
deliveries to a recording peer, and each arrives exactly once."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func, select

from federation.outbox import actions
from storage.models import (
    Actor,
    ActorType,
    Delivery,
    DeliveryState,
    Follow,
    FollowState,
)
from tests.conftest import DATABASE_URL
from tests.fakepeer import FakePeer, fixture_keys

ROUNDS = str(Path(sys.executable).with_name("rounds"))
pytestmark = pytest.mark.skipif(
    not DATABASE_URL, reason="several worker processes need PostgreSQL (CI sets ROUNDS_TEST_DATABASE_URL)"
)


def _config_for(instance, path: Path) -> Path:
    s = instance.settings
    path.write_text(
        f'public_url = "{s.public_url}"\ndata_dir = "{s.data_dir}"\n'
        f'[database]\nurl = "{s.database.url}"\nschema = "{s.database.schema}"\n'
        '[federation]\nmode = "open"\nallow_http = true\nallow_private_addresses = true\n'
        "worker_poll_seconds = 0.2\n"
    )
    return path


async def test_two_workers_deliver_2000_exactly_once(instances, tmp_path):
    # Given alice@A with 200 followers on a recording peer, each with its own inbox, and 10 posts
    a = await instances.start()
    await a.add_user("alice")
    peer = await FakePeer().start()
    try:
        alice = await a.actor("alice")
        async with a.db.sessions.begin() as session:
            for n in range(200):
                uri = f"{peer.base}/users/f{n}"
                follower = Actor(uri=uri, local=False, type=ActorType.Person, username=f"f{n}",
                                 domain=peer.authority, inbox=f"{uri}/inbox", key_id=f"{uri}#main-key",
                                 public_key_pem=fixture_keys(0).public_pem)
                session.add(follower)
                await session.flush()
                session.add(Follow(follower_id=follower.id, followee_id=alice.id, state=FollowState.accepted))
            for n in range(10):
                await actions.post(a.fed, session, alice, content=f"<p>post {n}</p>")
        async with a.db.sessions() as session:
            assert await session.scalar(select(func.count()).select_from(Delivery)) == 2000

        # When two `rounds worker` processes run against the same database
        config = _config_for(a, tmp_path / "worker.toml")
        workers = [subprocess.Popen([ROUNDS, "--config", str(config), "worker"], stdout=subprocess.DEVNULL,
                                    stderr=subprocess.PIPE, text=True, env=os.environ.copy())
                   for _ in range(2)]
        try:
            for _ in range(600):  # at most 120 s
                posts = [entry for entry in peer.received if entry[0] == "POST"]
                if len(posts) >= 2000:
                    break
                assert all(w.poll() is None for w in workers), [w.stderr.read() for w in workers]
                await asyncio.sleep(0.2)
            await asyncio.sleep(0.5)  # anything sent twice would arrive now
        finally:
            for w in workers:
                w.send_signal(signal.SIGTERM)
            assert [w.wait(timeout=30) for w in workers] == [0, 0]

        # Then each (inbox, activity) arrived exactly once, and every row is delivered
        seen = Counter((path, json.loads(body)["id"]) for method, path, _, body in peer.received if method == "POST")
        assert len(seen) == 2000 and set(seen.values()) == {1}
        async with a.db.sessions() as session:
            states = dict((await session.execute(
                select(Delivery.state, func.count()).group_by(Delivery.state))).all())
        assert states == {DeliveryState.delivered: 2000}
    finally:
        await peer.stop()
