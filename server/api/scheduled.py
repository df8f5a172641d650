"""Mastodon client API: scheduled posts (federation.outbox.scheduled). POST /api/v1/statuses with
`scheduled_at` makes one (server.api.statuses hands it here); GET /api/v1/scheduled_statuses lists
them, and one is read, moved (PUT, its `scheduled_at`) or cancelled (DELETE) by its id."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.outbox import scheduled
from federation.protocol.vocab.values import parse_datetime
from federation.social.compose import Draft
from server.api.auth import ApiError
from server.api.common import add_route, api, page_args, paged, viewer
from server.api.media import media_entity
from server.api.params import params, text_param
from server.api.times import iso
from server.appkeys import CLOCK, DATABASE, URLS
from server.responses import json_response
from storage import scheduled as queries
from storage.ids import parse_id
from storage.media import owned_media
from storage.models import Actor, ScheduledStatus


def scheduled_at_param(values: dict[str, Any]):
    """`scheduled_at` as an ISO 8601 time; 422 if it is not one."""
    raw = text_param(values, "scheduled_at")
    at = parse_datetime(raw)
    if at is None:
        raise ApiError(422, f"Validation failed: scheduled_at must be an ISO 8601 time, not {raw[:40]!r}")
    return at


async def _entity(request: web.Request, session, row: ScheduledStatus) -> dict[str, Any]:
    draft = scheduled.draft_from_json(row.draft)
    uploads = [upload for upload in [await owned_media(session, row.actor_id, i) for i in row.media_ids] if upload]
    poll = draft.poll
    return {
        "id": str(row.id), "scheduled_at": iso(row.scheduled_at),
        "params": {
            "text": draft.text, "spoiler_text": draft.summary or None, "sensitive": draft.sensitive,
            "visibility": draft.visibility.value, "language": draft.language,
            "in_reply_to_id": draft.in_reply_to_id, "media_ids": list(draft.media_ids) or None,
            "poll": {"options": list(poll.options), "expires_in": str(poll.expires_in), "multiple": poll.multiple,
                     "hide_totals": poll.hide_totals} if poll is not None else None,
            "application_id": str(draft.application_id) if draft.application_id else None,
            "scheduled_at": None, "idempotency": None, "with_rate_limit": False,
        },
        "media_attachments": [media_entity(upload, request.app[URLS].base) for upload in uploads],
    }


async def schedule(request: web.Request, author: Actor, draft: Draft, values: dict[str, Any]) -> web.Response:
    """A new post asked for later: its ScheduledStatus."""
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            row = await scheduled.schedule(session, author, draft, scheduled_at_param(values), request.app[CLOCK].now())
            entity = await _entity(request, session, row)
    except scheduled.ScheduleError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return json_response(entity)


async def _own(session, me: Actor, raw: str) -> ScheduledStatus:
    row = await queries.scheduled_by_id(session, me.id, row_id) if (row_id := parse_id(raw)) is not None else None
    if row is None:
        raise ApiError(404, "Record not found")
    return row


@api
async def index(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    cursor = page_args(request, default=20, maximum=40)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.scheduled_of(session, me.id, cursor)
        entities = [await _entity(request, session, row) for row in rows]
    return paged(request, entities, [row.id for row in rows])


@api
async def show(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        return json_response(await _entity(request, session, await _own(session, me, request.match_info["id"])))


@api
async def move(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    at = scheduled_at_param(await params(request))
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            row = await _own(session, me, request.match_info["id"])
            scheduled.reschedule(row, at, request.app[CLOCK].now())
            entity = await _entity(request, session, row)
    except scheduled.ScheduleError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return json_response(entity)


@api
async def cancel(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:statuses")
    async with request.app[DATABASE].sessions.begin() as session:
        await session.delete(await _own(session, me, request.match_info["id"]))
    return json_response({})


def setup(app: web.Application) -> None:
    one = r"/api/v1/scheduled_statuses/{id:\d+}"
    add_route(app, "GET", "/api/v1/scheduled_statuses", index)
    add_route(app, "GET", one, show)
    add_route(app, "PUT", one, move)
    add_route(app, "DELETE", one, cancel)
