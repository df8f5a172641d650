"""Announcements, as apps show them on start: GET /api/v1/announcements (those not ended; the
caller's dismissed ones only with `with_dismissed`), POST .../:id/dismiss, and PUT and DELETE
.../:id/reactions/:name. Admins make and remove them at /api/rounds/v1/admin/announcements
(Mastodon has no API for this) or from the CLI (`rounds announcement ...`); the rules are
federation.admin.announcements's."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from federation.admin import announcements
from federation.admin.announcements import AnnouncementError, NoSuchAnnouncement
from federation.protocol.vocab.values import parse_datetime
from server.api.auth import ApiError, authenticate
from server.api.common import add_route, api, viewer
from server.api.entities import iso, render
from server.api.params import bool_param, params, text_param
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import announcements as queries
from storage.emojis import emojis_named
from storage.models import Announcement

BASE = "/api/v1/announcements"
ADMIN_BASE = "/api/rounds/v1/admin/announcements"


def _entity(renderer, row: Announcement, read: bool, reactions: list[queries.Reaction]) -> dict[str, Any]:
    custom = emojis_named(renderer.session, {(r.name, "") for r in reactions})
    return {
        "id": str(row.id), "content": row.content, "starts_at": iso(row.starts_at), "ends_at": iso(row.ends_at),
        "all_day": row.all_day, "published": True, "published_at": iso(row.published_at),
        "updated_at": iso(row.updated_at), "read": read, "mentions": [], "statuses": [], "tags": [], "emojis": [],
        "reactions": [
            {"name": r.name, "count": r.count, "me": r.me}
            | ({"url": (e := renderer.emoji(custom[(r.name, "")]))["url"], "static_url": e["static_url"]}
               if (r.name, "") in custom else {})
            for r in reactions],
    }


async def _entities(request: web.Request, rows: list[tuple[Announcement, bool]], viewer_id: int
                    ) -> list[dict[str, Any]]:
    async with request.app[DATABASE].sessions() as session:
        reactions = await queries.reactions(session, [row.id for row, _ in rows], viewer_id)
    return await render(request, None, lambda renderer: [
        _entity(renderer, row, read, reactions.get(row.id, [])) for row, read in rows])


@api
async def index(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:accounts")
    with_dismissed = bool_param(request.query, "with_dismissed")
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.current(session, request.app[CLOCK].now(), viewer_id=me.id, with_dismissed=with_dismissed)
    return json_response(await _entities(request, rows, me.id))


def _announcement_id(request: web.Request) -> int:
    value = request.match_info["id"]
    if not value.isdigit() or len(value) > 18:
        raise ApiError(404, "Record not found")
    return int(value)


def _mine(action, scope: str):
    """dismiss, react, unreact: the caller's, on an announcement shown now."""
    @api
    async def handler(request: web.Request) -> web.Response:
        _, me = await viewer(request, scope)
        announcement_id = _announcement_id(request)
        extra = (request.match_info["name"],) if "name" in request.match_info else ()
        try:
            async with request.app[DATABASE].sessions.begin() as session:
                await action(session, announcement_id, me.id, *extra, request.app[CLOCK].now())
        except NoSuchAnnouncement as exc:
            raise ApiError(404, "Record not found") from exc
        except AnnouncementError as exc:
            raise ApiError(422, f"Validation failed: {exc}") from exc
        return json_response({})
    return handler


def _time(values: dict[str, Any], name: str) -> datetime | None:
    text = text_param(values, name)
    if not text:
        return None
    parsed = parse_datetime(text)
    if parsed is None:
        raise ApiError(422, f"Validation failed: {name} must be a time such as 2026-12-24T08:00:00Z")
    return parsed


@api
async def admin_list(request: web.Request) -> web.Response:
    caller = await authenticate(request, "admin:read", admin=True)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.all_announcements(session)
    return json_response(await _entities(request, [(row, False) for row in rows], caller.actor.id))


@api
async def admin_create(request: web.Request) -> web.Response:
    caller = await authenticate(request, "admin:write", admin=True)
    values = await params(request)
    text = text_param(values, "text", required=True)
    starts_at, ends_at = _time(values, "starts_at"), _time(values, "ends_at")
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            row = await announcements.create(session, text, starts_at=starts_at, ends_at=ends_at,
                                             all_day=bool_param(values, "all_day"),
                                             by=f"api:{caller.account.username}", at=request.app[CLOCK].now())
    except AnnouncementError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return json_response((await _entities(request, [(row, False)], caller.actor.id))[0])


@api
async def admin_remove(request: web.Request) -> web.Response:
    caller = await authenticate(request, "admin:write", admin=True)
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await announcements.remove(session, _announcement_id(request), by=f"api:{caller.account.username}",
                                       at=request.app[CLOCK].now())
    except NoSuchAnnouncement as exc:
        raise ApiError(404, "Record not found") from exc
    return json_response({})


def setup(app: web.Application) -> None:
    add_route(app, "GET", BASE, index)
    add_route(app, "POST", BASE + "/{id}/dismiss", _mine(announcements.dismiss, "write:accounts"))
    add_route(app, "PUT", BASE + "/{id}/reactions/{name}", _mine(announcements.react, "write:favourites"))
    add_route(app, "DELETE", BASE + "/{id}/reactions/{name}", _mine(announcements.unreact, "write:favourites"))
    add_route(app, "GET", ADMIN_BASE, admin_list)
    add_route(app, "POST", ADMIN_BASE, admin_create)
    add_route(app, "DELETE", ADMIN_BASE + "/{id}", admin_remove)
