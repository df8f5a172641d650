"""The baseline: a bare aiohttp handler that returns fixed bytes with a fixed content type.

`python bench/bare_server.py PORT FILE CONTENT_TYPE` serves FILE's bytes at every GET path."""

from __future__ import annotations

import sys
from pathlib import Path

from aiohttp import web

port, body_file, content_type = int(sys.argv[1]), sys.argv[2], sys.argv[3]
body = Path(body_file).read_bytes()


async def handler(request: web.Request) -> web.Response:
    return web.Response(body=body, headers={"Content-Type": content_type})


app = web.Application()
app.router.add_get("/{tail:.*}", handler)
web.run_app(app, host="127.0.0.1", port=port, access_log=None, print=None)
