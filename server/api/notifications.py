"""Notifications: list (filtered by types), one, dismiss, clear.

A page of them is `notifications_page`, with the types parsed by `type_filters`: the web pages'
notifications list calls both too.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web

from server.api.auth import ApiError
from server.api.common import add_route, api, page_args, paged, viewer
from server.api.entities import Renderer, render, render_as_user
from server.appkeys import DATABASE
from server.responses import json_response
from storage import notifications as stored_notifications, timelines
from storage.models import Notification
from storage.paging import Cursor


def _types(request: web.Request, name: str) -> set[str]:
    return set(request.query.getall(f"{name}[]", [])) | set(request.query.getall(name, []))


def type_filters(request: web.Request) -> tuple[set[str] | None, set[str]]:
    """(types, exclude_types) of a list request: which kinds to show (None: all), which to leave out."""
    return _types(request, "types") or None, _types(request, "exclude_types")


def notifications_page(renderer: Renderer, cursor: Cursor, types: set[str] | None,
                       exclude: set[str]) -> tuple[list[Notification], list[dict[str, Any]]]:
    """A page of the renderer's viewer's notifications: the rows and their entities."""
    rows = timelines.notifications(renderer.session, renderer.viewer.id, cursor, types=types, exclude=exclude)
    return rows, renderer.notifications(rows)


@api
async def index(request: web.Request) -> web.Response:
    types, exclude = type_filters(request)

    def page(renderer):  # runs once the token is checked, in the same read (clients poll this)
        return notifications_page(renderer, page_args(request, default=40, maximum=80), types, exclude)
    rows, entities = await render_as_user(request, "read:notifications", page)
    return paged(request, entities, [row.id for row in rows])


async def _mine(session, actor_id: int, notification_id: str) -> Notification:
    row = await stored_notifications.notification_by_id(session, int(notification_id)) if notification_id.isdigit() else None
    if row is None or row.recipient_id != actor_id or row.dismissed:
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
async def clear(request: web.Request) -> web.Response:
    _, actor = await viewer(request, "write:notifications")
    async with request.app[DATABASE].sessions.begin() as session:
        await stored_notifications.dismiss_all(session, actor.id)
    return json_response({})


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/notifications", index)
    add_route(app, "POST", "/api/v1/notifications/clear", clear)
    add_route(app, "GET", "/api/v1/notifications/{id}", show)
    add_route(app, "POST", "/api/v1/notifications/{id}/dismiss", dismiss)
