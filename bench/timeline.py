"""Benchmark: home-timeline reads per second and p50 latency through /api/v1/timelines/home on
one `rounds serve` process with SQLite and 100,000 statuses, against a bare aiohttp handler that
returns the same JSON bytes, both on one core, in the same run.

    .venv/bin/python bench/timeline.py [--statuses 100000] [--seconds 5] [--rounds 2] [--connections 1]

Targets (issue 5): p50 under 3 ms for one client at a time (the default); the ratio is printed
for the record. With --connections N the requests queue on the one core, so p50 grows about N-fold.

The database holds `--statuses` public posts by 200 remote authors, 50 of whom alice follows,
spread over a year, so her home timeline holds ~25,000 posts (with the home-feed rows that
federation.social.feeds writes as posts arrive). Rows are written with batched Core inserts before the
server starts; the timing covers only the HTTP reads.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from sqlalchemy import insert

from common import BIN, HERE, SERVER_CORE, free_port, load_measured, machine_load, make_instance, pinned, wait_for
from federation.social.accounts import create_token
from federation.protocol.keys import generate_rsa_keypair
from server.config import load_settings
from storage import actors as actor_queries
from storage.db import open_database
from storage.ids import new_id
from storage.models import Actor, ActorType, FeedEntry, Follow, FollowState, Object, Visibility

AUTHORS = 200
FOLLOWED = 50


async def populate(config: Path, statuses: int) -> str:
    """Fill the instance's database; return a bearer token for alice."""
    settings = load_settings(config)
    db = open_database(settings.database.url)
    key = generate_rsa_keypair().public_pem
    start = datetime.now(timezone.utc) - timedelta(days=365)
    try:
        async with db.sessions.begin() as session:
            alice = await actor_queries.local_actor_by_username(session, "alice")
            authors = []
            for n in range(AUTHORS):
                uri = f"https://peer{n % 10}.example/users/u{n}"
                authors.append({"id": new_id(), "uri": uri, "local": False, "type": ActorType.Person,
                                "username": f"u{n}", "domain": f"peer{n % 10}.example", "display_name": f"User {n}",
                                "summary": "", "inbox": f"{uri}/inbox", "key_id": f"{uri}#main-key",
                                "public_key_pem": key, "manually_approves_followers": False, "discoverable": True,
                                "published": start, "updated": start})
            await session.execute(insert(Actor), authors)
            await session.execute(insert(Follow), [
                {"id": new_id(), "follower_id": alice.id, "followee_id": a["id"], "state": FollowState.accepted,
                 "created_at": start, "updated_at": start} for a in authors[:FOLLOWED]])
        step = timedelta(days=365) / statuses
        for offset in range(0, statuses, 5000):
            rows, feed = [], []
            for n in range(offset, min(offset + 5000, statuses)):
                at = start + step * n
                author = authors[n % AUTHORS]
                rows.append({"id": new_id(at=at), "uri": f"{author['uri']}/statuses/{n}", "type": "Note",
                             "actor_id": author["id"], "local": False, "visibility": Visibility.public,
                             "content": f"<p>Status {n}: a practice note about handover checklists.</p>",
                             "summary": "", "sensitive": False, "published": at})
                if n % AUTHORS < FOLLOWED:  # what federation.social.feeds writes when a followed author posts
                    feed.append({"id": new_id(), "owner_id": alice.id, "item_id": rows[-1]["id"],
                                 "author_id": author["id"], "boost": False})
            async with db.sessions.begin() as session:
                await session.execute(insert(Object), rows)
                await session.execute(insert(FeedEntry), feed)
        async with db.sessions.begin() as session:
            return (await create_token(session, "alice", "read")).token
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=1)
    args = parser.parse_args()

    config, port = make_instance(("alice",), federation={"mode": "open"})
    with config.open("a") as out:
        out.write("[api]\nrequests_per_5_minutes = 100000000\n")
    started = time.perf_counter()
    token = asyncio.run(populate(config, args.statuses))
    print(f"populated {args.statuses} statuses in {time.perf_counter() - started:.1f} s")

    url = f"http://127.0.0.1:{port}/api/v1/timelines/home"
    auth = f"Authorization: Bearer {token}"
    server = subprocess.Popen(pinned(SERVER_CORE, [str(BIN / "rounds"), "--config", str(config), "serve"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = None
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request) as response:
            body, content_type = response.read(), response.headers["Content-Type"]
        body_file = Path(tempfile.mkstemp(suffix=".json")[1])
        body_file.write_bytes(body)
        bare_port = free_port()
        bare = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, str(HERE / "bare_server.py"), str(bare_port),
                                                     str(body_file), content_type]))
        bare_url = f"http://127.0.0.1:{bare_port}/api/v1/timelines/home"
        wait_for(bare_url, bare)
        rounds_runs, bare_runs = [], []
        for _ in range(args.rounds):
            bare_runs.append(load_measured(bare.pid, bare_url, args.seconds, args.connections, 1, [auth]))
            rounds_runs.append(load_measured(server.pid, url, args.seconds, args.connections, 1, [auth]))
            assert rounds_runs[-1]["errors"] == 0, rounds_runs[-1]
    finally:
        for process in (server, bare):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    print(f"home timeline: {len(body)} bytes (20 statuses), {args.connections} connections, "
          f"{args.rounds} x {args.seconds:.0f} s per server, server on core {SERVER_CORE}; {machine_load()}")
    print(f"bare aiohttp handler : {median(bare_runs, 'per_second'):8.0f} reads/s  p50 {median(bare_runs, 'p50_ms'):.2f} ms")
    print(f"rounds serve         : {median(rounds_runs, 'per_second'):8.0f} reads/s  p50 {median(rounds_runs, 'p50_ms'):.2f} ms"
          f"  p99 {median(rounds_runs, 'p99_ms'):.2f} ms  (server core busy {median(rounds_runs, 'server_cpu'):.0%})")
    print(f"ratio rounds/bare    : {median(rounds_runs, 'per_second') / median(bare_runs, 'per_second'):8.2f}"
          f"   (target: p50 < 3 ms)")


if __name__ == "__main__":
    main()
