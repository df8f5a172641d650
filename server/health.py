"""GET /healthz: 200 when the database answers, 503 when it does not (the reason goes to the
log, not to the public)."""

from __future__ import annotations

import logging

from aiohttp import web

from server.appkeys import DATABASE
from server.responses import json_response
from storage.db import DatabaseUnavailable, ping

log = logging.getLogger(__name__)


async def healthz(request: web.Request) -> web.Response:
    try:
        await ping(request.app[DATABASE])
    except DatabaseUnavailable as exc:
        log.warning("health check: database unreachable: %s", exc)
        return json_response({"status": "error", "database": "unreachable"}, status=503)
    return json_response({"status": "ok", "database": "ok"})


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
