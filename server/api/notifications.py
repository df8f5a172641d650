"""Notifications: list (filtered by types), one, dismiss, clear.

A page of them is `notifications_page`, with what it shows parsed by `list_scope`: the web pages'
notifications list calls both too. Notifications the recipient's policy held back show only
with `include_filtered` (and through their sender's notification request).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import ApiError
from server.api.common import add_route, api, page_args, paged, viewer
from server.api.entities import Renderer, render, render_as_user
from server.api.params import bool_param
from server.appkeys import DATABASE
from server.responses import json_response
from storage import notifications as stored_notifications, timelines
from storage.models import Notification
from storage.notifications import Scope
from storage.paging import Cursor


def requested_types(request: web.Request, name: str) -> frozenset[str] | None:
    """The types a list request names in `name[]` (or `name`); None if it names none."""
    given = set(request.query.getall(f"{name}[]", [])) | set(request.query.getall(name, []))
    return frozenset(given) or None


def list_scope(request: web.Request) -> Scope:
    """Which notifications a list request asks for: `types[]`, `exclude_types[]`, `account_id`,
    `include_filtered` (those the notification policy held back)."""
    account = request.query.get("account_id")
    if account is not None and (not account.isdigit() or len(account) > 19):
        raise ApiError(400, "account_id must be an id")
    return Scope(types=requested_types(request, "types"), exclude=requested_types(request, "exclude_types") or frozenset(),
                 account_id=int(account) if account is not None else None,
                 include_filtered=bool_param(request.query, "include_filtered"))


def unread_cap(request: web.Request) -> int:
    """Up to how many an unread count counts: `limit`, 100 unless told, 1000 at most."""
    limit = request.query.get("limit", "100")
    return max(1, min(int(limit), 1000)) if limit.isdigit() and len(limit) < 6 else 100


def notifications_page(renderer: Renderer, cursor: Cursor, scope: Scope) -> tuple[list[Notification], list[dict[str, Any]]]:
    """A page of the renderer's viewer's notifications: the rows and their entities."""
    rows = timelines.notifications(renderer.session, renderer.viewer.id, cursor, scope)
    return rows, renderer.notifications(rows)


@api
async def index(request: web.Request) -> web.Response:
    scope = list_scope(request)

    def page(renderer):  # runs once the token is checked, in the same read (clients poll this)
        return notifications_page(renderer, page_args(request, default=40, maximum=80), scope)
    rows, entities = await render_as_user(request, "read:notifications", page)
    return paged(request, entities, [row.id for row in rows])


async def _mine(session, actor_id: int, notification_id: str) -> Notification:
    row = await stored_notifications.notification_by_id(session, int(notification_id)) if notification_id.isdigit() else None
    if row is None or row.recipient_id != actor_id or row.dismissed or row.filtered:
        raise ApiError(404, "Record not found")
    return row


@api
async def show(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    async with request.app[DATABASE].sessions() as session:
        row = await _mine(session, actor.id, request.match_info["id"])
    entities = await render(request, actor, lambda renderer: renderer.notifications([row]))
    if not entities:
        raise ApiError(404, "Record not found")
    return json_response(entities[0])


@api
async def dismiss(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:notifications")
    async with request.app[DATABASE].sessions.begin() as session:
        (await _mine(session, actor.id, request.match_info["id"])).dismissed = True
    return json_response({})


@api
async def unread_count(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "read:notifications")
    async with request.app[DATABASE].sessions() as session:
        count = await stored_notifications.count_unread(session, actor.id, cap=unread_cap(request),
                                                        scope=list_scope(request))
    return json_response({"count": count})


@api
async def clear(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:notifications")
    async with request.app[DATABASE].sessions.begin() as session:
        await stored_notifications.dismiss_all(session, actor.id)
    return json_response({})


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/notifications", index)
    add_route(app, "POST", "/api/v1/notifications/clear", clear)
    add_route(app, "GET", "/api/v1/notifications/unread_count", unread_count)
    add_route(app, "GET", "/api/v1/notifications/{id}", show)
    add_route(app, "POST", "/api/v1/notifications/{id}/dismiss", dismiss)
