"""Slow clients are cut off: a request's headers, and then its body, must each arrive within
[server] read_timeout_seconds, or the connection goes.

Headers: aiohttp closes a connection that has not delivered a complete request line and headers
within its keep-alive timeout, counted from when the connection opens and again from the end of
each response. `server.app.make_runner` sets that timeout to read_timeout_seconds, so it bounds
the wait for headers as well as how long an idle keep-alive connection is kept.

Body: `body_deadline` starts a timer when a request with a body reaches the handlers (its
headers are complete). If the body has not fully arrived when the timer fires, reading it fails
with `BodyTimeout`, which becomes a 408 and closes the connection. The bound is on the total
time, not on silence between bytes, so a client that trickles a byte every few seconds gains
nothing. A reverse proxy that buffers request bodies (nginx does by default) hands Rounds
complete bodies, so only clients that reach Rounds directly can meet this limit.
"""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web
from aiohttp.streams import StreamReader

from server.responses import error_response

log = logging.getLogger(__name__)


class BodyTimeout(Exception):
    """The request body did not arrive in time; raised by reads of the body."""


def _cut_off(content: StreamReader, timeout: float) -> None:
    if not content.is_eof():
        content.set_exception(BodyTimeout(f"the request body did not arrive within {timeout:g} seconds"))


def body_deadline(timeout: float):
    """A middleware: the body of each request must arrive within `timeout` seconds."""

    @web.middleware
    async def middleware(request: web.Request, handler) -> web.StreamResponse:
        if not request.body_exists or request.content.is_eof():
            return await handler(request)
        timer = asyncio.get_running_loop().call_later(timeout, _cut_off, request.content, timeout)
        try:
            return await handler(request)
        except BodyTimeout as exc:
            log.info("%s %s from %s: %s; closing the connection", request.method, request.path, request.remote, exc)
            response = error_response(408, str(exc))
            response.force_close()
            return response
        finally:
            timer.cancel()

    return middleware
