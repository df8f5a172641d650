"""Custom emojis: GET /api/v1/custom_emojis (ours, for every app's picker, anyone may read it)
and, for admins, /api/rounds/v1/admin/custom_emojis (Mastodon has no API for this): list, add
(multipart: `shortcode`, the image in `file`, optional `category`) and DELETE
/api/rounds/v1/admin/custom_emojis/:shortcode. The rules are federation.social.emojis's; the
CLI (`rounds emoji ...`) makes the same calls."""

from __future__ import annotations

from aiohttp import web

from federation.social import emojis
from federation.social.emojis import EmojiError
from federation.social.media import MediaTooLarge
from server.api.auth import ApiError, authenticate
from server.api.common import add_route, api
from server.api.entities import render
from server.api.media import MEDIA_STORE, check_multipart, read_multipart
from server.appkeys import CLOCK, DATABASE, SETTINGS
from server.responses import json_response

ADMIN_BASE = "/api/rounds/v1/admin/custom_emojis"


async def _listing(request: web.Request, *, picker_only: bool) -> web.Response:
    async with request.app[DATABASE].sessions() as session:
        rows = await emojis.local(session)
    shown = [row for row in rows if row.visible_in_picker or not picker_only]
    return json_response(await render(request, None, lambda renderer: [renderer.emoji(row) for row in shown]))


async def custom_emojis(request: web.Request) -> web.Response:
    return await _listing(request, picker_only=True)


@api
async def admin_list(request: web.Request) -> web.Response:
    await authenticate(request, "admin:read", admin=True)
    return await _listing(request, picker_only=False)


@api
async def admin_add(request: web.Request) -> web.Response:
    caller = await authenticate(request, "admin:write", admin=True)
    max_bytes = request.app[SETTINGS].api.media_max_bytes
    try:
        check_multipart(request, max_bytes)
        fields, data = await read_multipart(await request.multipart(), max_bytes,
                                            {"shortcode", "category"}.__contains__)
    except MediaTooLarge as exc:
        raise ApiError(413, str(exc)) from exc
    if not data:
        raise ApiError(422, "Validation failed: send the image in the field 'file'")
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            emoji = await emojis.add(session, request.app[MEDIA_STORE], fields.get("shortcode", ""), data,
                                     category=fields.get("category") or None, by=f"api:{caller.account.username}",
                                     at=request.app[CLOCK].now())
    except EmojiError as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return json_response(await render(request, None, lambda renderer: renderer.emoji(emoji)))


@api
async def admin_remove(request: web.Request) -> web.Response:
    caller = await authenticate(request, "admin:write", admin=True)
    try:
        async with request.app[DATABASE].sessions.begin() as session:
            await emojis.remove(session, request.app[MEDIA_STORE], request.match_info["shortcode"],
                                by=f"api:{caller.account.username}", at=request.app[CLOCK].now())
    except EmojiError as exc:
        raise ApiError(404, str(exc)) from exc
    return json_response({})


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/custom_emojis", custom_emojis)
    add_route(app, "GET", ADMIN_BASE, admin_list)
    add_route(app, "POST", ADMIN_BASE, admin_add)
    add_route(app, "DELETE", ADMIN_BASE + "/{shortcode}", admin_remove)
