"""GET /healthz: what a load balancer or monitor probes. 200 when the instance is doing its work;
503, with a JSON `reason`, when it is not:

- the database cannot be reached, or cannot be written (each probe rewrites a row of
  `health_probes`; on PostgreSQL a write that waits more than WRITE_LOCK_TIMEOUT_MS for a lock
  counts as failed, on SQLite one that waits out [database] sqlite_busy_timeout_ms);
- the oldest due inbox item or delivery (`storage.health` says what is due) has waited longer
  than [server] health_max_queue_wait_seconds: the workers are stuck or far behind.

Time is the app's clock. Dead items do not fail the check: nothing is waiting on them but an
admin (`rounds queue list`). The driver's own error goes to the log, not to the public.
"""

from __future__ import annotations

import logging
from datetime import datetime

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.responses import json_response
from storage import health as health_queries
from storage.db import DatabaseUnavailable, describe_error, ping

log = logging.getLogger(__name__)

PROBE = "healthz"
WRITE_LOCK_TIMEOUT_MS = 2000


async def healthz(request: web.Request) -> web.Response:
    db = request.app[DATABASE]
    now = request.app[CLOCK].now()
    try:
        await ping(db)
    except DatabaseUnavailable as exc:
        log.warning("health check: database unreachable: %s", exc)
        return _unhealthy(database="unreachable", reason="the database cannot be reached")
    try:
        async with db.sessions.begin() as session:
            await health_queries.write_probe(session, PROBE, now, lock_timeout_ms=WRITE_LOCK_TIMEOUT_MS)
    except (OSError, SQLAlchemyError) as exc:
        log.warning("health check: database cannot be written: %s", describe_error(exc))
        return _unhealthy(database="not writable", reason="the database cannot be written")
    try:
        async with db.sessions() as session:
            waits = {
                "inbox": _seconds_since(await health_queries.oldest_due_inbox(session, now), now),
                "delivery": _seconds_since(await health_queries.oldest_due_delivery(session, now), now),
            }
    except (OSError, SQLAlchemyError) as exc:
        log.warning("health check: the queues cannot be read: %s", describe_error(exc))
        return _unhealthy(database="ok", reason="the queues cannot be read")
    body = {"database": "ok"} | {f"{queue}_wait_seconds": waited for queue, waited in waits.items()}
    limit = request.app[SETTINGS].server.health_max_queue_wait_seconds
    late = [(queue, waited) for queue, waited in waits.items() if waited > limit]
    if late:
        queue, waited = late[0]
        noun = "inbox item" if queue == "inbox" else "delivery"
        reason = f"the oldest due {noun} has waited {waited} s, longer than {limit:g} s"
        log.warning("health check: %s", reason)
        return _unhealthy(**body, queues="behind", reason=reason)
    return json_response({"status": "ok", **body, "queues": "ok"})


def _seconds_since(at: datetime | None, now: datetime) -> int:
    return 0 if at is None else max(int((now - at).total_seconds()), 0)


def _unhealthy(**body: object) -> web.Response:
    return json_response({"status": "error", **body}, status=503)


def setup(app: web.Application) -> None:
    app.router.add_get("/healthz", healthz)
