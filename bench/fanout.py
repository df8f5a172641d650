"""Benchmark: signed deliveries per second from one Rounds process (SQLite, one core) to 200
distinct receiving inboxes, through the real path (federation.outbox.actions.post queues one delivery row
per follower inbox; DeliveryWorker.run_once claims, signs, POSTs, records), against a bare loop
of signed keep-alive POSTs of the same bodies to the same inboxes with the same concurrency, in
the same process on the same core, in the same run.

    .venv/bin/python bench/fanout.py [--posts 10] [--rounds 2] [--ports 8]

Target (issue 3): ratio rounds/bare >= 0.8 (the bare loop does about 1.5k/s here).

How: a fresh instance (rounds init, user alice) gets 200 remote followers, each with its own
inbox (no shared inbox) spread over --ports receiver ports served by bench/receivers.py (pinned
to the other core), which verifies every signature and counts. Each round creates --posts posts
(~3.6 KB Create bodies, untimed), times the bare loop over their bodies, then times
DeliveryWorker.run_once until the queue is empty. Afterwards every delivery row must be
`delivered` and the receivers must have counted exactly the expected valid POSTs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Coroutine
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
from common import (
    CLIENT_CORE,
    HERE,
    SERVER_CORE,
    cpu_seconds,
    free_port,
    machine_load,
    make_instance,
    pinned,
    wait_for,
)
from sqlalchemy import func, select

from federation.outbox import actions
from federation.outbox.delivery import CONTENT_TYPE, DeliveryWorker
from federation.protocol.keys import load_private_key
from federation.protocol.signatures import sign_request
from federation.protocol.urls import LocalUrls
from federation.runtime.clock import SystemClock
from federation.runtime.context import open_federation
from server.config import load_settings
from storage import actors as actor_queries
from storage.db import open_configured
from storage.models import (
    Activity,
    Actor,
    ActorType,
    Delivery,
    DeliveryState,
    Follow,
    FollowState,
)

FOLLOWERS = 200
PARAGRAPH = ("<p>Grand rounds summary: the ward adopted a two-nurse check for insulin infusions and "
             "medication errors fell by a third over six months; slides and protocol attached.</p>")


def receivers_counts(port: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/counts", timeout=10) as response:
        return json.loads(response.read())


async def add_followers(db, alice_id: int, ports: list[int], public_pem: str) -> list[str]:
    """FOLLOWERS accepted remote followers of alice, each with a distinct inbox; returns the inboxes."""
    inboxes = []
    async with db.sessions.begin() as session:
        for n in range(FOLLOWERS):
            authority = f"127.0.0.1:{ports[n % len(ports)]}"
            uri = f"http://{authority}/users/f{n}"
            follower = Actor(uri=uri, local=False, type=ActorType.Person, username=f"f{n}", domain=authority,
                             inbox=f"{uri}/inbox", shared_inbox=None, key_id=f"{uri}#main-key",
                             public_key_pem=public_pem)
            session.add(follower)
            await session.flush()
            session.add(Follow(follower_id=follower.id, followee_id=alice_id, state=FollowState.accepted))
            inboxes.append(follower.inbox)
    return inboxes


async def make_posts(fed, alice_id: int, count: int, round_no: int) -> list[bytes]:
    """`count` public posts by alice (their deliveries are queued); returns the Create bodies as sent."""
    ids = []
    async with fed.db.sessions.begin() as session:
        alice = await session.get(Actor, alice_id)
        for n in range(count):
            content = f"<p>Round {round_no}, post {n}.</p>" + PARAGRAPH * 15
            item = await actions.post(fed, session, alice, content=content)
            ids.append(item.id)
    async with fed.db.sessions() as session:
        rows = await session.scalars(select(Activity).where(Activity.object_id.in_(ids)).order_by(Activity.id))
        return [json.dumps(a.raw, separators=(",", ":")).encode() for a in rows]


async def bare_loop(bodies: list[bytes], inboxes: list[str], alice: Actor, concurrency: int, per_host: int) -> int:
    """The baseline: sign and POST every body to every inbox over keep-alive connections."""
    key = load_private_key(alice.private_key_pem)
    jobs = iter([(inbox, body) for body in bodies for inbox in inboxes])
    delivered = 0

    async def worker(http: aiohttp.ClientSession) -> None:
        nonlocal delivered
        for inbox, body in jobs:
            headers = {"Content-Type": CONTENT_TYPE, "Accept": "application/activity+json"}
            headers.update(sign_request("POST", inbox, headers, body, key_id=alice.key_id, private_key=key,
                                        now=datetime.now(UTC)))
            async with http.post(inbox, data=body, headers=headers, allow_redirects=False) as response:
                await response.read()
                delivered += 200 <= response.status < 300

    connector = aiohttp.TCPConnector(limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector) as http:
        await asyncio.gather(*(worker(http) for _ in range(concurrency)))
    return delivered


async def rounds_loop(fed) -> int:
    """The product: run the delivery worker until nothing is due."""
    worker = DeliveryWorker(fed)
    taken = 0
    while batch := await worker.run_once():
        taken += batch
    return taken


async def timed(run: Coroutine) -> tuple[object, float, float]:
    """(result, seconds, share of a core this process used) of one awaited run."""
    cpu, started = cpu_seconds(os.getpid()), time.perf_counter()
    result = await run
    elapsed = time.perf_counter() - started
    return result, elapsed, (cpu_seconds(os.getpid()) - cpu) / elapsed


async def bench(args, config: Path, ports: list[int], receiver_port: int) -> list[dict]:
    settings = load_settings(config)
    db = open_configured(settings.database)
    federation = settings.federation
    results = []
    try:
        async with open_federation(federation, LocalUrls(settings.public_url), db, SystemClock(),
                                   user_agent="Rounds-bench/fanout") as fed:
            async with db.sessions() as session:
                alice = await actor_queries.local_actor_by_username(session, "alice")
            inboxes = await add_followers(db, alice.id, ports, alice.public_key_pem)
            for round_no in range(-1, args.rounds):  # round -1 warms up both paths (1 post)
                bodies = await make_posts(fed, alice.id, 1 if round_no < 0 else args.posts, round_no)
                expected = len(bodies) * len(inboxes)
                before = receivers_counts(receiver_port)["valid"]
                bare_ok, bare_s, bare_cpu = await timed(bare_loop(
                    bodies, inboxes, alice, federation.delivery_concurrency, federation.delivery_per_host))
                middle = receivers_counts(receiver_port)["valid"]
                taken, rounds_s, rounds_cpu = await timed(rounds_loop(fed))
                after = receivers_counts(receiver_port)
                async with db.sessions() as session:
                    states = dict((await session.execute(
                        select(Delivery.state, func.count()).group_by(Delivery.state))).all())
                assert bare_ok == expected and middle - before == expected, (bare_ok, middle - before, expected)
                assert taken == expected and after["valid"] - middle == expected, (taken, after, expected)
                assert set(states) == {DeliveryState.delivered}, states
                if round_no >= 0:
                    results.append({"deliveries": expected, "bare": expected / bare_s, "bare_cpu": bare_cpu,
                                    "rounds": expected / rounds_s, "rounds_cpu": rounds_cpu,
                                    "inboxes": after["inboxes"], "invalid": after["invalid"]})
    finally:
        await db.dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10, help=f"posts per round ({FOLLOWERS} deliveries each)")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--ports", type=int, default=8, help="receiver ports the 200 inboxes are spread over")
    args = parser.parse_args()

    config, _ = make_instance(users=("alice",), federation={"mode": "open", "allow_private_addresses": True})
    pem_file = config.parent / "alice.pem"
    ports = [free_port() for _ in range(args.ports)]
    receivers = None
    try:
        # The receivers need alice's public key: read it from the database before they start.
        settings = load_settings(config)
        pem_file.write_text(asyncio.run(_alice_pem(settings)))
        receivers = subprocess.Popen(pinned(CLIENT_CORE, [sys.executable, str(HERE / "receivers.py"), str(pem_file),
                                                          *map(str, ports)]))
        wait_for(f"http://127.0.0.1:{ports[0]}/counts", receivers)
        os.sched_setaffinity(0, {int(SERVER_CORE)})
        receivers_cpu, load_before = cpu_seconds(receivers.pid), machine_load()
        started = time.perf_counter()
        results = asyncio.run(bench(args, config, ports, ports[0]))
        receivers_cpu = (cpu_seconds(receivers.pid) - receivers_cpu) / (time.perf_counter() - started)
    finally:
        if receivers is not None:
            receivers.terminate()
            receivers.wait(timeout=30)
    shutil.rmtree(config.parent)  # kept when the run failed

    federation = settings.federation
    print(f"{FOLLOWERS} inboxes on {args.ports} receiver ports (core {CLIENT_CORE}, verifying; busy "
          f"{receivers_cpu:.0%} over the run), {args.posts} posts x {FOLLOWERS} = {results[0]['deliveries']} "
          f"deliveries per round, concurrency {federation.delivery_concurrency}, {federation.delivery_per_host} "
          f"per host, sender on core {SERVER_CORE}; {load_before} before, {machine_load()} after")
    for n, r in enumerate(results, 1):
        print(f"  round {n}: bare {r['bare']:6.0f}/s (core {r['bare_cpu']:.0%} = {_cpu_ms(r, 'bare'):.2f} ms CPU "
              f"each) | rounds {r['rounds']:6.0f}/s (core {r['rounds_cpu']:.0%} = {_cpu_ms(r, 'rounds'):.2f} ms "
              f"CPU each); every row delivered, receivers counted exactly the "
              f"deliveries expected ({r['inboxes']} distinct inboxes, {r['invalid']} bad signatures)")
    bare, rounds = statistics.median(r["bare"] for r in results), statistics.median(r["rounds"] for r in results)
    bare_cpu = statistics.median(_cpu_ms(r, "bare") for r in results)
    rounds_cpu = statistics.median(_cpu_ms(r, "rounds") for r in results)
    print(f"bare signed POST loop   : {bare:8.0f} deliveries/s, {bare_cpu:.2f} ms CPU each")
    print(f"rounds delivery worker  : {rounds:8.0f} deliveries/s, {rounds_cpu:.2f} ms CPU each")
    print(f"ratio rounds/bare       : {rounds / bare:8.2f}   (target >= 0.80; CPU-cost ratio bare/rounds "
          f"{bare_cpu / rounds_cpu:.2f})")


def _cpu_ms(result: dict, side: str) -> float:
    """CPU per delivery, in ms: steadier than the rate on a busy machine."""
    return result[f"{side}_cpu"] / result[side] * 1000


async def _alice_pem(settings) -> str:
    db = open_configured(settings.database)
    try:
        async with db.sessions() as session:
            return (await actor_queries.local_actor_by_username(session, "alice")).public_key_pem
    finally:
        await db.dispose()


if __name__ == "__main__":
    main()
