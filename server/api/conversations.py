"""Mastodon client API: conversations, each a thread of direct posts one is in with the same people
(storage.conversations, kept by federation.social.feeds as direct posts arrive): GET
/api/v1/conversations, newest first; POST /api/v1/conversations/:id/read; DELETE
/api/v1/conversations/:id (it comes back with its next direct post). A conversation whose newest post she may no longer see, or whose
author she blocks or mutes, is left out."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from federation.social.access import can_see
from server.api.auth import ApiError
from server.api.common import add_route, api, owned, page_args, paged, viewer
from server.api.entities import render
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import conversations as queries
from storage.instance_api import hidden_from
from storage.models import Actor, Conversation, Object
from storage.posts import mentioned_actors


async def _entities(request: web.Request, session, me: Actor, rows: list[tuple[Conversation, Object]]
                    ) -> list[dict[str, Any]]:
    """Conversation entities: its other participants (the newest post's author and mentions) and
    that post."""
    hidden = await hidden_from(session, me.id, {post.actor_id for _, post in rows} - {me.id}, request.app[CLOCK].now())
    shown = []
    for row, post in rows:
        if post.actor_id in hidden or not await can_see(session, post, me):
            continue
        others = {actor.id: actor for actor in [await session.get(Actor, post.actor_id),
                                                *await mentioned_actors(session, post.id)]
                  if actor is not None and actor.id != me.id}
        shown.append((row, post, list(others.values())))
    return await render(request, me, lambda renderer: [
        {"id": str(row.id), "unread": row.unread, "accounts": renderer.accounts(others),
         "last_status": renderer.status(post)} for row, post, others in shown], session)


@api
async def index(request: web.Request) -> web.Response:
    _, me = await viewer(request, "read:statuses")
    cursor = page_args(request, default=20, maximum=40)
    async with request.app[DATABASE].sessions() as session:
        rows = await queries.conversations_of(session, me.id, cursor)
        entities = await _entities(request, session, me, rows)
    return paged(request, entities, [row.last_status_id for row, _ in rows])


async def _own(session, me: Actor, raw: str) -> Conversation:
    return await owned(lambda row_id: queries.conversation_of(session, me.id, row_id), raw)


@api
async def read(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:conversations")
    async with request.app[DATABASE].sessions.begin() as session:
        row = await _own(session, me, request.match_info["id"])
        await queries.mark_read(session, row)
        post = await session.get(Object, row.last_status_id)
        entities = await _entities(request, session, me, [(row, post)] if post is not None else [])
    if not entities:
        raise ApiError(404, "Record not found")
    return json_response(entities[0])


@api
async def remove(request: web.Request) -> web.Response:
    _, me = await viewer(request, "write:conversations")
    async with request.app[DATABASE].sessions.begin() as session:
        await session.delete(await _own(session, me, request.match_info["id"]))
    return json_response({})


def setup(app: web.Application) -> None:
    one = r"/api/v1/conversations/{id:\d+}"
    add_route(app, "GET", "/api/v1/conversations", index)
    add_route(app, "POST", f"{one}/read", read)
    add_route(app, "DELETE", one, remove)
