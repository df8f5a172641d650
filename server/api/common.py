"""Plumbing every client-API module shares: routes with and without a trailing slash, errors as
`{"error": ...}`, CORS for browser clients, rate-limit headers, and Link-header paging."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlencode

from aiohttp import web

from server.api.auth import ApiError, Caller, authenticate, user_of
from server.appkeys import SETTINGS, URLS
from server.client_address import client_address
from server.responses import json_response
from storage.ids import parse_id
from storage.models import Actor
from storage.paging import Cursor

T = TypeVar("T")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
API_PREFIXES = ("/api/", "/oauth/", "/.well-known/oauth-authorization-server")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, Idempotency-Key",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
    "Access-Control-Expose-Headers": "Link, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
}
WINDOW = 300.0
ADDRESS_FACTOR = 5


def add_route(app: web.Application, method: str, path: str, handler: Handler) -> None:
    """Register `path` and `path/`, the way Mastodon answers both."""
    app.router.add_route(method, path, handler)
    app.router.add_route(method, path + "/", handler)


def api(handler: Handler) -> Handler:
    """Turn ApiError into its `{"error": ...}` response."""
    @wraps(handler)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except ApiError as exc:
            return exc.response()
    return wrapped


@dataclass
class _Bucket:
    started: float
    used: int


class RateLimiter:
    """A fixed five-minute window per token (or per address without one)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, limit: int | None = None) -> tuple[int, float]:
        now = time.monotonic()
        bucket = self._buckets.get(key)
        if bucket is None or now - bucket.started >= WINDOW:
            if len(self._buckets) > 100_000:  # forget only buckets whose window is over
                self._buckets = {k: b for k, b in self._buckets.items() if now - b.started < WINDOW}
            bucket = self._buckets[key] = _Bucket(now, 0)
        bucket.used += 1
        return (limit or self.limit) - bucket.used, bucket.started + WINDOW - now


RATE_LIMITER = web.AppKey("rate_limiter", RateLimiter)


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIXES):
        return await handler(request)
    if request.method == "OPTIONS":
        return web.Response(status=204, headers=CORS_HEADERS)
    limiter = request.app[RATE_LIMITER]
    # per token, and per address too (a larger allowance), so made-up tokens buy no fresh budget
    address = f"address:{client_address(request) or '-'}"
    limit = ADDRESS_FACTOR * limiter.limit
    remaining, reset = limiter.take(address, limit)
    if "Authorization" in request.headers:
        limit = limiter.limit
        remaining = min(remaining, limiter.take(f"token:{request.headers['Authorization']}")[0])
    limits = {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": str(max(remaining, 0)),
        "X-RateLimit-Reset": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + reset)),
    }
    if remaining < 0:
        response: web.StreamResponse = json_response({"error": "Too many requests"}, status=429, headers=limits)
    else:
        try:
            response = await handler(request)
        except web.HTTPException as exc:
            if exc.status < 400:
                raise
            response = json_response({"error": exc.reason}, status=exc.status)
    response.headers.update(CORS_HEADERS)
    response.headers.update(limits)
    return response


def setup_plumbing(app: web.Application) -> None:
    app[RATE_LIMITER] = RateLimiter(app[SETTINGS].api.requests_per_5_minutes)
    app.middlewares.append(api_middleware)


async def viewer(request: web.Request, *needed: str) -> tuple[Caller, Actor]:
    """The caller, whose token holds one of the `needed` scopes and acts for a user (not an
    app-only token), and that user's actor."""
    caller = await authenticate(request, *needed)
    return caller, user_of(caller)


async def optional_viewer(request: web.Request, needed: str) -> Actor | None:
    """The user a token given acts for: None without a token, or for an app-only token, which
    reads what anyone may (its scope still counts)."""
    if "Authorization" not in request.headers:
        return None
    return (await authenticate(request, needed)).actor


def page_args(request: web.Request, *, default: int = 20, maximum: int = 40) -> Cursor:
    """The paging parameters (max_id, since_id, min_id, limit) of a list request."""
    def number(name: str) -> int | None:
        value = request.query.get(name)
        if value in (None, ""):
            return None
        if (number := parse_id(value)) is None:
            raise ApiError(400, f"{name} must be an id")
        return number
    limit = number("limit") or default
    return Cursor(number("max_id"), number("since_id"), number("min_id"), max(1, min(limit, maximum)))


def link_header(request: web.Request, ids: list[int]) -> dict[str, str]:
    """Link: next (older than the last item) and prev (newer than the first), as Mastodon sends."""
    if not ids:
        return {}
    base = request.app[URLS].base + request.path
    keep = {k: v for k, v in request.query.items() if k not in ("max_id", "min_id", "since_id")}
    next_url = f"{base}?{urlencode({**keep, 'max_id': min(ids)})}"
    prev_url = f"{base}?{urlencode({**keep, 'min_id': max(ids)})}"
    return {"Link": f'<{next_url}>; rel="next", <{prev_url}>; rel="prev"'}


def paged(request: web.Request, entities: list[dict[str, Any]], ids: list[int]) -> web.Response:
    return json_response(entities, headers=link_header(request, ids))


async def owned(find: Callable[[int], Awaitable[T | None]], raw: str) -> T:
    """The caller's own row (a list, a conversation, a scheduled post) that `find` looks up by
    its owner and the id `raw`; 404 if there is none (another's is not found either)."""
    row = await find(row_id) if (row_id := parse_id(raw)) is not None else None
    if row is None:
        raise ApiError(404, "Record not found")
    return row
