"""Polls: show one and vote on it. A poll's id is its post's id, and it is visible exactly when
its post is (otherwise 404). Votes go through `federation.outbox.actions`, which tells a remote poll's
server."""

from __future__ import annotations

from aiohttp import web

from federation.outbox import actions

from federation.social import polls
from federation.outbox.actions import OutboxError
from server.api.auth import ApiError
from server.api.common import add_route, api, optional_viewer, viewer
from server.api.entities import render
from server.api.params import list_param, params
from server.api.statuses import visible
from server.appkeys import DATABASE, FEDERATION
from server.responses import json_response
from storage.models import Actor, Object


def parse_choices(values: dict) -> list[int]:
    choices = list_param(values, "choices")
    if not choices or not all(isinstance(c, int) and not isinstance(c, bool) or isinstance(c, str) and c.isdigit()
                              for c in choices):
        raise ApiError(422, "Validation failed: choices must be option numbers")
    return [int(choice) for choice in choices]


@api
async def show(request: web.Request) -> web.Response:
    viewer_actor = await optional_viewer(request, "read:statuses")
    async with request.app[DATABASE].sessions() as session:
        post = await visible(request, session, request.match_info["id"], viewer_actor)
    entity = await render(request, viewer_actor, lambda renderer: renderer.poll(post))
    if entity is None:
        raise ApiError(404, "Record not found")
    return json_response(entity)


async def cast_vote(request: web.Request, session, voter: Actor, choices: list[int]) -> Object:
    """`voter`'s vote on the poll of the post the route's `id` names; the post. Also the web
    pages' poll form."""
    fed = request.app[FEDERATION]
    post = await visible(request, session, request.match_info["id"], voter)
    if post.type != "Question":
        raise ApiError(404, "Record not found")
    try:
        await actions.vote(fed, session, voter, post, choices)
    except (polls.PollError, OutboxError) as exc:
        raise ApiError(422, f"Validation failed: {exc}") from exc
    return post


@api
async def vote(request: web.Request) -> web.Response:
    _, voter = await viewer(request, "write:statuses")
    choices = parse_choices(await params(request))
    async with request.app[FEDERATION].transaction() as session:
        post = await cast_vote(request, session, voter, choices)
        entity = await render(request, voter, lambda renderer: renderer.poll(post), session)
    return json_response(entity)


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/polls/{id}", show)
    add_route(app, "POST", "/api/v1/polls/{id}/votes", vote)
