"""A small keep-alive HTTP/1.1 load generator for the benchmarks (loopback only).

Run it as its own process, pinned to another core than the server, so the client's cost does
not land on the server's core:

    python bench/loadgen.py URL SECONDS CONNECTIONS DEPTH [Header: value ...]
    python bench/loadgen.py --requests FILE [--cycle] [--times OUT] URL SECONDS CONNECTIONS DEPTH

The first form repeats one GET. The second sends pre-built raw requests (FILE: see
`write_requests`), each once in order, or round and round with --cycle; it stops early when
they run out. Each connection keeps DEPTH requests in flight (HTTP/1.1 pipelining; DEPTH=1 is
plain request/response). A Python client needs pipelining to outrun an aiohttp server on one
core; the server answers pipelined requests one at a time, in order, as it does any others.
Prints one JSON line: requests (2xx answers), errors, statuses, seconds, per_second, and p50/p99
latency in ms. With --times OUT it also writes, as JSON to OUT, [index, wall-clock time, status]
for every answer (index: the request's position in FILE), for benchmarks that follow each
request further (bench/inbox_drain.py).
"""

from __future__ import annotations

import asyncio
import json
import pickle
import sys
import time
from collections import Counter, deque
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit


def write_requests(path: Path, requests: list[bytes]) -> None:
    """Store raw HTTP requests for `--requests`."""
    path.write_bytes(pickle.dumps(requests, protocol=pickle.HIGHEST_PROTOCOL))


def _source(requests: list[bytes], cycle: bool) -> Callable[[int], tuple[int, list[bytes]]]:
    """next(count) -> (position of the first, up to `count` requests: fewer, or none, when they run out)."""
    position = 0

    def take(count: int) -> tuple[int, list[bytes]]:
        nonlocal position
        if cycle:
            out = [requests[(position + i) % len(requests)] for i in range(count)]
        else:
            out = requests[position:position + count]
        first = position
        position += len(out)
        return first, out

    return take


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class _Client(asyncio.Protocol):
    def __init__(self, take: Callable[[int], tuple[int, list[bytes]]], depth: int, deadline: float, stats: dict,
                 done: asyncio.Future):
        self.take, self.depth, self.deadline = take, depth, deadline
        self.stats, self.done = stats, done
        self.buffer = bytearray()
        self.sent: deque[tuple[float, int]] = deque()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send(self.depth)

    def _send(self, count: int) -> None:
        now = time.perf_counter()
        first, batch = self.take(count) if now < self.deadline else (0, [])
        if not batch:
            if not self.sent:
                self.transport.close()
            return
        self.sent.extend((now, first + n) for n in range(len(batch)))
        self.transport.write(b"".join(batch))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        finished = 0
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                break
            head = bytes(self.buffer[:end])
            length = _content_length(head)
            if len(self.buffer) < end + 4 + length:
                break
            del self.buffer[:end + 4 + length]
            sent_at, index = self.sent.popleft()
            self.stats["latencies"].append(time.perf_counter() - sent_at)
            if self.stats["times"] is not None:
                self.stats["times"].append((index, time.time(), int(head[9:12])))
            self.stats["ok" if head[9:10] == b"2" else "errors"] += 1
            self.stats["statuses"][head[9:12].decode()] += 1
            finished += 1
        if finished:
            self._send(finished)

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run(url: str, seconds: float, connections: int, depth: int, headers: list[str],
              requests: list[bytes] | None = None, cycle: bool = False, times: list | None = None) -> dict:
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "loopback targets only"
    if requests is None:
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        requests = ["\r\n".join([f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]).encode()]
        cycle = True
    take = _source(requests, cycle)
    stats = {"ok": 0, "errors": 0, "latencies": [], "statuses": Counter(), "times": times}
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    deadline = started + seconds
    waiters = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(
            lambda d=done: _Client(take, depth, deadline, stats, d), parts.hostname, parts.port or 80
        )
        waiters.append(done)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"])
    return {
        "requests": stats["ok"],
        "errors": stats["errors"],
        "statuses": dict(stats["statuses"]),
        "seconds": elapsed,
        "per_second": stats["ok"] / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
    }


def main(argv: list[str]) -> None:
    requests, cycle, times_file = None, False, None
    while argv and argv[0].startswith("--"):
        option, *argv = argv
        if option == "--requests":
            requests = pickle.loads(Path(argv.pop(0)).read_bytes())
        elif option == "--cycle":
            cycle = True
        elif option == "--times":
            times_file = Path(argv.pop(0))
        else:
            raise SystemExit(f"unknown option {option}")
    url, seconds, connections, depth, *extra = argv
    times = [] if times_file is not None else None
    print(json.dumps(asyncio.run(run(url, float(seconds), int(connections), int(depth), extra, requests, cycle, times))))
    if times_file is not None:
        times_file.write_text(json.dumps(times))


if __name__ == "__main__":
    main(sys.argv[1:])
