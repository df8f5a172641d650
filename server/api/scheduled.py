"""Mastodon client API: scheduled posts (federation.outbox.scheduled). POST /api/v1/statuses with
`scheduled_at` makes one (server.api.statuses hands it here); GET /api/v1/scheduled_statuses lists
them, and one is read, moved (PUT, its `scheduled_at`) or cancelled (DELETE) by its id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.outbox import scheduled
from federation.outbox.actions import NoSuchPost
from federation.protocol.vocab.values import parse_datetime
from federation.social.compose import Draft
from server.api.auth import ApiError
from server.api.common import add_route, api, owned, page_args, paged, viewer
from server.api.media import media_entity
from server.api.params import params, text_param
from server.api.times import iso
from server.appkeys import CLOCK, DATABASE, URLS
from server.responses import json_response
from storage import scheduled as queries
from storage.models import Actor, Media, ScheduledStatus


def scheduled_at_param(values: dict[str, Any]):
    """`scheduled_at` as an ISO 8601 time; 422 if it is not one."""
    raw = text_param(values, "scheduled_at")
    at = parse_datetime(raw)
    if at is None:
        raise ApiError(422, f"Validation failed: scheduled_at must be an ISO 8601 time, not {raw[:40]!r}")
    return at


async def _entities(request: web.Request, session, rows: list[ScheduledStatus]) -> list[dict[str, Any]]:
    uploads = await queries.uploads_of(session, [row.id for row in rows])
    return [_entity(request, row, uploads[row.id]) for row in rows]


def _entity(request: web.Request, row: ScheduledStatus, uploads: list[Media]) -> dict[str, Any]:
    draft = scheduled.draft_from_json(row.draft)
    poll = draft.poll
    return {
        "id": str(row.id), "scheduled_at": iso(row.scheduled_at),
        "params": {
            "text": draft.text, "spoiler_text": draft.summary or None, "sensitive": draft.sensitive,
            "visibility": draft.visibility.value, "language": draft.language,
            "in_reply_to_id": draft.in_reply_to_id, "media_ids": list(draft.media_ids) or None,
            "poll": {"options": list(poll.options), "expires_in": str(poll.expires_in), "multiple": poll.multiple,
                     "hide_totals": poll.hide_totals} if poll is not None else None,
            "application_id": draft.application_id, "scheduled_at": None,
            "idempotency": row.idempotency_key, "with_rate_limit": False,
            # Rounds' and Mastodon 4.5's, as a new post takes them
            "local_only": draft.local_only, "quoted_status_id": draft.quoted_status_id,
            "quote_approval_policy": draft.quote_policy,
        },
        "media_attachments": [media_entity(upload, request.app[URLS].base) for upload in uploads],
    }


async def schedule(request: web.Request, author: Actor, draft: Draft, values: dict[str, Any]) -> web.Response:
    """A new post asked for later: its ScheduledStatus (the one made before, for a request with
    the same Idempotency-Key)."""
    key = request.headers.get("Idempotency-Key", "")[:255]
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            row = await scheduled.schedule(session, author, draft, scheduled_at_param(values),
                                           request.app[CLOCK].now(), key)
            [entity] = await _entities(request, session, [row])
    except scheduled.ScheduleError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    except NoSuchPost as exc:
        raise ApiError(404, "Record not found") from exc
    return json_response(entity)


async def _own(session, me: Actor, raw: str) -> ScheduledStatus:
    return await owned(lambda row_id: queries.scheduled_by_id(session, me.id, row_id), raw)


@api
async def index(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    cursor = page_args(request, default=20, maximum=40)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.scheduled_of(session, me.id, cursor)
        entities = await _entities(request, session, rows)
    return paged(request, entities, [row.id for row in rows])


@api
async def show(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        [entity] = await _entities(request, session, [await _own(session, me, request.match_info["id"])])
    return json_response(entity)


@api
async def move(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    at = scheduled_at_param(await params(request))
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            row = await _own(session, me, request.match_info["id"])
            scheduled.reschedule(row, at, request.app[CLOCK].now())
            [entity] = await _entities(request, session, [row])
    except scheduled.ScheduleError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return json_response(entity)


@api
async def cancel(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    async with request.app[DATABASE].sessions.begin() as session:
        await scheduled.cancel(session, await _own(session, me, request.match_info["id"]))
    return json_response({})


def setup(app: web.Application) -> None:
    one = r"/api/v1/scheduled_statuses/{id:\d+}"
    add_route(app, "GET", "/api/v1/scheduled_statuses", index)
    add_route(app, "GET", one, show)
    add_route(app, "PUT", one, move)
    add_route(app, "DELETE", one, cancel)
