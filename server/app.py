"""The application factory. `create_app(settings)` wires everything; nothing happens at import.

The app owns its database engine through `cleanup_ctx`, so starting and stopping an app (in
`rounds serve` or in a test) opens and disposes exactly what it used.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

from aiohttp import web
from sqlalchemy.exc import InterfaceError, OperationalError

from federation.protocol.urls import LocalUrls
from federation.runtime.clock import Clock, SystemClock
from federation.runtime.context import open_federation
from federation.runtime.workers import Workers
from server import access, headers, health, logins, slow_clients
from server.activitypub import actors, articles as article_documents, collections, inbox, objects
from server.activitypub import emojis as emoji_documents
from server.api import routes as api_routes
from server.appkeys import CLOCK, DATABASE, FEDERATION, SETTINGS, URLS
from server.config import Settings
from server.responses import error_response
from server.version import VERSION
from server.web import pages
from server.wellknown import hostmeta, nodeinfo, webfinger
from storage.db import claim_node, describe_error, open_configured

log = logging.getLogger(__name__)


@web.middleware
async def errors_middleware(request: web.Request, handler) -> web.StreamResponse:
    """Unexpected failures become a logged JSON 500 (503 when the database is the cause)."""
    try:
        return await handler(request)
    except web.HTTPException:
        raise
    except (OperationalError, InterfaceError, ConnectionError) as exc:
        log.error("%s %s: database unavailable: %s", request.method, request.path, describe_error(exc))
        return error_response(503, "the database is unavailable; try again shortly")
    except Exception:
        log.exception("%s %s failed", request.method, request.path)
        return error_response(500, "internal server error")


def create_app(settings: Settings, *, clock: Clock | None = None, workers: bool = True) -> web.Application:
    """The web application. With `workers`, the inbox and delivery workers run inside it (the
    single-process default); `rounds serve --no-workers` and tests turn them off."""
    app = web.Application(
        client_max_size=settings.server.max_body_bytes,
        middlewares=[errors_middleware, slow_clients.body_deadline(settings.server.read_timeout_seconds)],
    )
    app[SETTINGS] = settings
    app[URLS] = LocalUrls(settings.public_url)
    app[CLOCK] = clock or SystemClock()
    app.cleanup_ctx.append(_database_ctx)
    app.cleanup_ctx.append(_federation_ctx)
    if workers:
        app.cleanup_ctx.append(_workers_ctx)
    for module in (headers, logins, actors, collections, objects, article_documents, emoji_documents, inbox, webfinger, hostmeta, nodeinfo, pages, health, api_routes):
        module.setup(app)
    access.setup(app)  # after every route: who may read each (see server/access.py)
    return app


def make_runner(app: web.Application, *, access_log: logging.Logger | None = None) -> web.AppRunner:
    """The runner that serves `app`. Its keep-alive timeout is [server] read_timeout_seconds,
    which also bounds how long a client may take to send a request's headers (server/slow_clients.py)."""
    return web.AppRunner(app, access_log=access_log, keepalive_timeout=app[SETTINGS].server.read_timeout_seconds)




async def _database_ctx(app: web.Application) -> AsyncIterator[None]:
    app[DATABASE] = open_configured(app[SETTINGS].database)
    try:
        await claim_node(app[DATABASE])
    except (OperationalError, InterfaceError, ConnectionError, OSError) as exc:
        log.warning("database unreachable at start (%s); ids use a random node", describe_error(exc))
    yield
    await app[DATABASE].dispose()


async def _federation_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    async with open_federation(
        settings.federation, app[URLS], app[DATABASE], app[CLOCK],
        user_agent=f"Rounds/{VERSION} (+{settings.public_url})", max_json_depth=settings.server.max_json_depth,
    ) as fed:
        app[FEDERATION] = fed
        yield


async def _workers_ctx(app: web.Application) -> AsyncIterator[None]:
    workers = Workers(app[FEDERATION], app[SETTINGS].media_dir)
    await workers.start()
    yield
    await workers.stop()
