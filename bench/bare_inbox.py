"""The inbound baseline: a bare aiohttp inbox that reads the body, recomputes the digest, verifies
the signature with one cached public key (`federation.protocol.signatures.verify_request`, the same check
Rounds runs) and answers 202. No database, no policy, no parsing.

    python bench/bare_inbox.py PORT AUTHORITY PUBLIC_KEY_PEM_FILE

AUTHORITY is the host[:port] the requests were signed for (the Rounds instance's), so both
servers get byte-identical requests.
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiohttp import web

from federation.protocol.keys import load_public_key
from federation.protocol.signatures import SignatureError, SignedRequest, verify_request

port, authority, pem_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
public_key = load_public_key(Path(pem_file).read_text())
base = f"http://{authority}"
skew = timedelta(hours=1)


async def inbox(request: web.Request) -> web.Response:
    body = await request.read()
    signed = SignedRequest(request.method, base + request.raw_path, request.headers, body)
    try:
        verify_request(signed, public_key, now=datetime.now(UTC), max_skew=skew, authority=authority)
    except SignatureError as exc:
        return web.Response(status=401, text=str(exc))
    return web.Response(status=202)


async def ping(request: web.Request) -> web.Response:
    return web.Response(text="ok")


app = web.Application(client_max_size=1_000_000)
app.router.add_post("/{tail:.*}", inbox)
app.router.add_get("/{tail:.*}", ping)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
