"""Mastodon client API: streaming, over WebSocket (`/api/v1/streaming` with an Upgrade) and
Server-Sent Events (`/api/v1/streaming/user`, `/public/local`, `/hashtag?tag=`...).

Each connection takes one queue from the federation event bus and keeps its own subscriptions
(server.api.stream_connection: what it hears, and each event rendered for its viewer, who must
still hold a live token). The bus already carries other processes' events on PostgreSQL
(LISTEN/NOTIFY), so nothing here knows how many processes there are.

The one decision to know: the connection's work runs in a task the handler waits on, never
detached. The handler's `finally` cancels it and returns the queue, so a client that goes away
costs nothing afterwards, and a shutdown ends every stream at once instead of stalling for the
runner's shutdown timeout.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from federation.social.events import StreamEvent
from server.api.auth import ApiError, Caller, request_caller, stream_token
from server.api.common import CORS_HEADERS, add_route, api
from server.api.stream_connection import SSE_PATHS, Connection, Subscription
from server.appkeys import FEDERATION
from storage.models import Account, Actor

log = logging.getLogger(__name__)

WS_PING_SECONDS = 30.0
WS_CLOSE_SECONDS = 3.0   # how long a close we start waits for the client's answer


@dataclass
class StreamingState:
    """Per app: the SSE heartbeat interval (tests shorten it) and the running connection tasks."""

    heartbeat_seconds: float = 15.0
    tasks: set[asyncio.Task[None]] = field(default_factory=set)


STREAMING = web.AppKey("streaming", StreamingState)


# --- transports ------------------------------------------------------------------------------

async def _run(state: StreamingState, work: Coroutine[Any, Any, None]) -> None:
    """Run a connection's work as a task the app can cancel at shutdown. Whatever ends this
    call (the work finishing, the handler cancelled), the task is finished when it returns."""
    task = asyncio.create_task(work)
    state.tasks.add(task)
    try:
        await asyncio.wait({task})
    finally:
        state.tasks.discard(task)
        if not task.done():
            task.cancel()
            await asyncio.wait({task})
    if not task.cancelled():
        task.result()


async def _websocket(request: web.Request, conn: Connection, queue: asyncio.Queue[StreamEvent],
                     protocol: str | None) -> web.WebSocketResponse:
    ws = web.WebSocketResponse(protocols=(protocol,) if protocol else (), heartbeat=WS_PING_SECONDS,
                               timeout=WS_CLOSE_SECONDS)
    await ws.prepare(request)

    async def send(subscription: Subscription, event: str, payload: str) -> None:
        await ws.send_str(json.dumps({"stream": list(subscription.name), "event": event, "payload": payload}))

    async def pumped() -> None:
        await conn.pump(queue, send)
        if conn.revoked:  # ends the loop below too
            await ws.close(code=WSCloseCode.POLICY_VIOLATION, message=b"the access token was revoked")

    async def work() -> None:
        async with asyncio.TaskGroup() as group:
            pump = group.create_task(pumped())
            try:
                async for message in ws:
                    if message.type is WSMsgType.TEXT and (reply := conn.on_message(message.data)) is not None:
                        await ws.send_str(json.dumps(reply))
            except ConnectionError:
                pass  # the client went away while we answered it
            pump.cancel()

    await _run(request.app[STREAMING], work())
    if not ws.closed:
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"the server is shutting down")
    return ws


Encode = Callable[[str, str], Awaitable[str | None]]  # (event, payload) -> the SSE data, or None to skip


async def _as_is(event: str, payload: str) -> str | None:
    return payload


async def _event_stream(request: web.Request, conn: Connection, queue: asyncio.Queue[StreamEvent],
                        encode: Encode = _as_is, cors: bool = True) -> web.StreamResponse:
    response = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-store", "X-Accel-Buffering": "no",
        **(CORS_HEADERS if cors else {}),
    })
    await response.prepare(request)
    state = request.app[STREAMING]

    async def send(subscription: Subscription, event: str, payload: str) -> None:
        data = await encode(event, payload)
        if data is not None:
            lines = "".join(f"data: {line}\n" for line in data.splitlines() or [""])
            await response.write(f"event: {event}\n{lines}\n".encode())

    async def beat() -> None:
        if request.transport is None or request.transport.is_closing():
            raise ConnectionResetError("the client went away")
        await response.write(b":thump\n\n")

    async def work() -> None:
        try:
            await response.write(b":)\n\n")
        except ConnectionError:
            return
        await conn.pump(queue, send, heartbeat=state.heartbeat_seconds, beat=beat)

    await _run(state, work())
    return response


# --- handlers --------------------------------------------------------------------------------

async def _caller(request: web.Request, token: str | None) -> tuple[Caller | None, Actor | None]:
    """Who streams. Whether they may is the read rule's (federation.social.access.may_read, asked before
    this handler runs): in allowlist mode streams are for the instance's users only."""
    if token is None:
        return None, None
    caller = await request_caller(request, token)
    return caller, caller.actor


def _handler(path_stream: str | None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    @api
    async def handler(request: web.Request) -> web.StreamResponse:
        websocket = request.headers.get("Upgrade", "").lower() == "websocket"
        stream = path_stream or request.query.get("stream")
        if not websocket and not stream:
            raise ApiError(400, "No stream type given; use ?stream= or a /api/v1/streaming/<stream> path")
        token, as_protocol = stream_token(request)
        caller, actor = await _caller(request, token)
        conn = Connection(request.app, caller, actor)
        if stream:
            conn.subscribe(stream, request.query.get("tag"))
        bus = request.app[FEDERATION].events
        queue = bus.subscribe()
        try:
            if websocket:
                return await _websocket(request, conn, queue, token if as_protocol else None)
            return await _event_stream(request, conn, queue)
        finally:
            bus.unsubscribe(queue)
    return handler


async def session_events(request: web.Request, account: Account, actor: Actor, stream: str,
                         encode: Encode) -> web.StreamResponse:
    """Server-sent events for a signed-in web page (server/web/live.py): `stream` (`user`,
    `public`, `public:local`) as a token with read:statuses would hear it, statuses only (never
    notifications), each event's payload passed through `encode`. Whether the session may read
    it is the read rule's, asked before the page's handler runs."""
    # the session stands in for a token: its practitioner, allowed to read statuses
    caller = Caller(token=None, account=account, actor=actor, scopes=frozenset({"read:statuses"}))  # type: ignore[arg-type]
    conn = Connection(request.app, caller, actor)
    conn.subscribe(stream)
    bus = request.app[FEDERATION].events
    queue = bus.subscribe()
    try:
        return await _event_stream(request, conn, queue, encode, cors=False)
    finally:
        bus.unsubscribe(queue)


async def health(request: web.Request) -> web.Response:
    return web.Response(text="OK")


async def _stop_streams(app: web.Application) -> None:
    for task in list(app[STREAMING].tasks):
        task.cancel()


def setup(app: web.Application) -> None:
    app[STREAMING] = StreamingState()
    app.on_shutdown.append(_stop_streams)
    add_route(app, "GET", "/api/v1/streaming", _handler(None))
    add_route(app, "GET", "/api/v1/streaming/health", health)
    for path, stream in SSE_PATHS.items():
        add_route(app, "GET", f"/api/v1/streaming/{path}", _handler(stream))
