"""Benchmark: the signed-in home page (GET /home, 40 statuses, rendered server-side with jinja2)
on one `rounds serve` process with SQLite, against a bare aiohttp handler that renders a plain
jinja2 list of the same 40 statuses (bench/bare_page.py), both on one core, in the same run.

    .venv/bin/python bench/web_home.py [--statuses 20000] [--seconds 5] [--rounds 2]

Target (issue 14): the home page's p50 under 15 ms for one browser at a time. The ratio of
p50s (rounds/bare) is printed too, since this machine is shared and absolute figures drift.
The database is bench/timeline.py's: remote authors, 50 of them followed by alice.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import select

from common import BIN, HERE, SERVER_CORE, free_port, load_measured, machine_load, pinned, make_instance, wait_for
from timeline import populate
from federation.social.web_sessions import open_session
from server.config import load_settings
from storage.db import open_database
from storage.models import Account

PAGE = 40


async def web_session(config: Path) -> str:
    """A web session cookie's token for alice."""
    db = open_database(load_settings(config).database.url)
    try:
        async with db.sessions.begin() as session:
            alice = (await session.execute(select(Account).where(Account.username == "alice"))).scalar_one()
            return await open_session(session, alice, at=datetime.now(timezone.utc), user_agent="bench")
    finally:
        await db.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statuses", type=int, default=20_000)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()

    config, port = make_instance(("alice",), federation={"mode": "open"},
                                 tables={"api": {"requests_per_5_minutes": 100_000_000}})
    started = time.perf_counter()
    token = asyncio.run(populate(config, args.statuses))
    cookie = asyncio.run(web_session(config))
    print(f"populated {args.statuses} statuses in {time.perf_counter() - started:.1f} s")

    url = f"http://127.0.0.1:{port}/home"
    headers = [f"Cookie: rounds_session={cookie}"]
    server = subprocess.Popen(pinned(SERVER_CORE, [str(BIN / "rounds"), "--config", str(config), "serve"]),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bare = None
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", server)
        api = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/timelines/home?limit={PAGE}",
                                     headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(api) as response:
            statuses = json.loads(response.read())
        page = urllib.request.Request(url, headers={"Cookie": f"rounds_session={cookie}"})
        with urllib.request.urlopen(page) as response:
            html = response.read().decode()
        shown = html.count("<article")
        assert len(statuses) == PAGE, f"the API gave {len(statuses)} statuses"
        statuses_file = Path(tempfile.mkstemp(suffix=".json")[1])
        statuses_file.write_text(json.dumps(statuses))
        bare_port = free_port()
        bare = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, str(HERE / "bare_page.py"), str(bare_port),
                                                     str(statuses_file)]))
        bare_url = f"http://127.0.0.1:{bare_port}/home"
        wait_for(bare_url, bare)
        rounds_runs, bare_runs = [], []
        for _ in range(args.rounds):
            bare_runs.append(load_measured(bare.pid, bare_url, args.seconds, 1, 1))
            rounds_runs.append(load_measured(server.pid, url, args.seconds, 1, 1, headers))
            assert rounds_runs[-1]["errors"] == 0, rounds_runs[-1]
    finally:
        for process in (server, bare):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    def median(runs, key):
        return statistics.median(run[key] for run in runs)

    print(f"home page: {len(html)} characters, {shown} statuses shown; one browser at a time, "
          f"{args.rounds} x {args.seconds:.0f} s per server, server on core {SERVER_CORE}; {machine_load()}")
    print(f"bare jinja2 page : {median(bare_runs, 'per_second'):7.0f} pages/s  p50 {median(bare_runs, 'p50_ms'):.2f} ms")
    print(f"rounds /home     : {median(rounds_runs, 'per_second'):7.0f} pages/s  p50 {median(rounds_runs, 'p50_ms'):.2f} ms"
          f"  p99 {median(rounds_runs, 'p99_ms'):.2f} ms")
    print(f"ratio of p50s    : {median(rounds_runs, 'p50_ms') / median(bare_runs, 'p50_ms'):7.2f} (rounds/bare)"
          f"   target: rounds p50 < 15 ms")


if __name__ == "__main__":
    main()
