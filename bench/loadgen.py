"""A small keep-alive HTTP/1.1 GET load generator for the benchmarks (loopback only).

Run it as its own process, pinned to another core than the server, so the client's cost does
not land on the server's core:

    python bench/loadgen.py URL SECONDS CONNECTIONS DEPTH [Header: value ...]

Each connection keeps DEPTH requests in flight (HTTP/1.1 pipelining; DEPTH=1 is plain
request/response). A Python client needs pipelining to outrun an aiohttp server on one core;
the server answers pipelined requests one at a time, in order, as it does any others. Prints one
JSON line: responses, errors, seconds, per_second, and p50/p99 latency in ms.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections import deque
from urllib.parse import urlsplit


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value)
    return 0


class _Client(asyncio.Protocol):
    def __init__(self, request: bytes, depth: int, deadline: float, stats: dict, done: asyncio.Future):
        self.request, self.depth, self.deadline = request, depth, deadline
        self.stats, self.done = stats, done
        self.buffer = bytearray()
        self.sent: deque[float] = deque()

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send(self.depth)

    def _send(self, count: int) -> None:
        now = time.perf_counter()
        if now >= self.deadline:
            if not self.sent:
                self.transport.close()
            return
        self.sent.extend([now] * count)
        self.transport.write(self.request * count)

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
            self.stats["latencies"].append(time.perf_counter() - self.sent.popleft())
            self.stats["ok" if head[9:12] == b"200" else "errors"] += 1
            finished += 1
        if finished:
            self._send(finished)

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def run(url: str, seconds: float, connections: int, depth: int, headers: list[str]) -> dict:
    parts = urlsplit(url)
    assert parts.hostname in ("127.0.0.1", "localhost", "::1"), "loopback targets only"
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    request = "\r\n".join([f"GET {path} HTTP/1.1", f"Host: {parts.netloc}", *headers, "", ""]).encode()
    stats = {"ok": 0, "errors": 0, "latencies": []}
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    deadline = started + seconds
    waiters = []
    for _ in range(connections):
        done = loop.create_future()
        await loop.create_connection(
            lambda d=done: _Client(request, depth, deadline, stats, d), parts.hostname, parts.port or 80
        )
        waiters.append(done)
    await asyncio.wait_for(asyncio.gather(*waiters), timeout=seconds + 30)
    elapsed = time.perf_counter() - started
    latencies = sorted(stats["latencies"])
    return {
        "requests": stats["ok"],
        "errors": stats["errors"],
        "seconds": elapsed,
        "per_second": stats["ok"] / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000 if latencies else None,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000 if latencies else None,
    }


if __name__ == "__main__":
    url, seconds, connections, depth, *extra = sys.argv[1:]
    print(json.dumps(asyncio.run(run(url, float(seconds), int(connections), int(depth), extra))))
