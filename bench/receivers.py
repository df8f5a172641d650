"""Receiving inboxes for the fan-out benchmark: one aiohttp process listening on several loopback
ports. Every POST is checked like a real peer would (digest recomputed, signature verified
against the sender's public key, signed host = the port it arrived on), answered 202, and
counted; GET /counts on any port returns the counts as JSON.

    python bench/receivers.py PUBLIC_KEY_PEM_FILE PORT [PORT ...]
"""

from __future__ import annotations

import asyncio
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from federation.protocol.keys import load_public_key
from federation.protocol.signatures import SignatureError, SignedRequest, verify_request

SKEW = timedelta(hours=1)


def make_app(public_key: object) -> web.Application:
    counts: Counter[str] = Counter()
    inboxes: set[str] = set()

    async def inbox(request: web.Request) -> web.Response:
        body = await request.read()
        signed = SignedRequest("POST", f"http://{request.host}{request.raw_path}", request.headers, body)
        try:
            verify_request(signed, public_key, now=datetime.now(UTC), max_skew=SKEW, authority=request.host)
        except SignatureError:
            counts["invalid"] += 1
            return web.Response(status=401)
        counts["valid"] += 1
        inboxes.add(f"{request.host}{request.raw_path}")
        return web.Response(status=202)

    async def report(request: web.Request) -> web.Response:
        return web.json_response({"valid": counts["valid"], "invalid": counts["invalid"], "inboxes": len(inboxes)})

    app = web.Application(client_max_size=1_000_000)
    app.router.add_post("/{tail:.*}", inbox)
    app.router.add_get("/counts", report)
    return app


async def serve(public_key: object, ports: list[int]) -> None:
    runner = web.AppRunner(make_app(public_key), access_log=None)
    await runner.setup()
    for port in ports:
        await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()  # until terminated


if __name__ == "__main__":
    key = load_public_key(Path(sys.argv[1]).read_text())
    asyncio.run(serve(key, [int(port) for port in sys.argv[2:]]))
