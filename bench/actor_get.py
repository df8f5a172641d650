"""Benchmark: GETs per second of a local actor document from `rounds serve`, against a bare
aiohttp handler returning the same bytes, both on one core, in the same run. Also reports the
idle RSS of `rounds serve` after start.

    .venv/bin/python bench/actor_get.py [--seconds 5] [--rounds 3] [--connections 16] [--depth 8]

Targets (issue 2): ratio >= 0.6; idle RSS < 100 MB.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import (
    BIN, HERE, SERVER_CORE, free_port, load, load_measured, make_instance, pinned, rss_mb, wait_for,
)

ACCEPT = "Accept: application/activity+json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--depth", type=int, default=8, help="pipelined requests per connection")
    args = parser.parse_args()

    config, port = make_instance()
    url = f"http://127.0.0.1:{port}/users/alice"
    rounds_server = subprocess.Popen(
        pinned(SERVER_CORE, [str(BIN / "rounds"), "--config", str(config), "serve"]),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    bare = None
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", rounds_server)
        time.sleep(1.0)
        idle_rss = rss_mb(rounds_server.pid)
        request = urllib.request.Request(url, headers={"Accept": "application/activity+json"})
        with urllib.request.urlopen(request) as response:
            body, content_type = response.read(), response.headers["Content-Type"]
        body_file = Path(tempfile.mkstemp(suffix=".json")[1])
        body_file.write_bytes(body)
        bare_port = free_port()
        bare = subprocess.Popen(pinned(SERVER_CORE, [sys.executable, str(HERE / "bare_server.py"),
                                                     str(bare_port), str(body_file), content_type]))
        bare_url = f"http://127.0.0.1:{bare_port}/users/alice"
        wait_for(bare_url, bare)

        load(url, 1.0, args.connections, args.depth, [ACCEPT])  # warm-up
        load(bare_url, 1.0, args.connections, args.depth, [ACCEPT])
        rounds_rates, bare_rates, rounds_cpu, bare_cpu = [], [], [], []
        for _ in range(args.rounds):
            bare_result = load_measured(bare.pid, bare_url, args.seconds, args.connections, args.depth, [ACCEPT])
            rounds_result = load_measured(rounds_server.pid, url, args.seconds, args.connections, args.depth, [ACCEPT])
            assert rounds_result["errors"] == 0 and bare_result["errors"] == 0
            bare_rates.append(bare_result["per_second"])
            rounds_rates.append(rounds_result["per_second"])
            bare_cpu.append(bare_result["server_cpu"])
            rounds_cpu.append(rounds_result["server_cpu"])
        busy_rss = rss_mb(rounds_server.pid)
    finally:
        for process in (rounds_server, bare):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)

    rounds_rate, bare_rate = statistics.median(rounds_rates), statistics.median(bare_rates)
    print(f"actor document: {len(body)} bytes, {args.connections} connections x {args.depth} pipelined, "
          f"{args.rounds} x {args.seconds:.0f} s per server, server on core {SERVER_CORE}")
    print(f"bare aiohttp handler : {bare_rate:8.0f} GET/s  (runs: {', '.join(f'{r:.0f}' for r in bare_rates)}; "
          f"server core busy {statistics.median(bare_cpu):.0%})")
    print(f"rounds serve         : {rounds_rate:8.0f} GET/s  (runs: {', '.join(f'{r:.0f}' for r in rounds_rates)}; "
          f"server core busy {statistics.median(rounds_cpu):.0%})")
    print(f"ratio rounds/bare    : {rounds_rate / bare_rate:8.2f}   (target >= 0.60)")
    print(f"rounds serve RSS     : {idle_rss:8.1f} MB idle after start, {busy_rss:.1f} MB after the load (target idle < 100 MB)")


if __name__ == "__main__":
    main()
