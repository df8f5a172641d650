"""Mastodon client API: trends, the explore tab of apps (storage.trends): GET /api/v1/trends/tags
(and /api/v1/trends, its older name), /api/v1/trends/statuses, and /api/v1/trends/links, which
is always empty: Rounds makes no previews of links, so no link can trend."""

from __future__ import annotations

from aiohttp import web

from federation.social.access import may_reach
from server.access import request_reader
from server.api.common import add_route, api, optional_viewer
from server.api.entities import render
from server.api.filtering import shown
from server.api.params import whole_number
from server.api.tags import tag_entities
from server.appkeys import CLOCK, DATABASE
from server.responses import json_response
from storage import trends as queries
from storage.instance_api import hidden_from

TAGS_DEFAULT, TAGS_MAX = 10, 20
POSTS_DEFAULT, POSTS_MAX = 20, 40


def _window(request: web.Request, default: int, maximum: int) -> tuple[int, int]:
    """(limit, offset) from the query, as Mastodon pages trends (and search)."""
    limit = whole_number(request.query, "limit", default)
    return min(max(limit, 1), maximum), whole_number(request.query, "offset", 0)


@api
async def tags(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    limit, offset = _window(request, TAGS_DEFAULT, TAGS_MAX)
    users = may_reach(True, await request_reader(request))
    async with request.app[DATABASE].sessions() as session:
        names = await queries.trending_tags(session, request.app[CLOCK].now(), limit=limit, offset=offset, users=users)
        return json_response(await tag_entities(request, session, names, me, users=users))


@api
async def statuses(request: web.Request) -> web.Response:
    me = await optional_viewer(request, "read:statuses")
    limit, offset = _window(request, POSTS_DEFAULT, POSTS_MAX)
    users = may_reach(True, await request_reader(request))
    now = request.app[CLOCK].now()
    async with request.app[DATABASE].sessions() as session:
        posts = await queries.trending_posts(session, now, limit=limit, offset=offset, users=users)
        if me is not None:  # not the posts of accounts she blocks or mutes, or who block her
            hidden = await hidden_from(session, me.id, {post.actor_id for post in posts} - {me.id}, now)
            posts = [post for post in posts if post.actor_id not in hidden]
        entities = await render(request, me, lambda renderer: shown(renderer.statuses(posts), "public"), session)
    return json_response(entities)


@api
async def links(request: web.Request) -> web.Response:
    await optional_viewer(request, "read:statuses")
    return json_response([])


def setup(app: web.Application) -> None:
    add_route(app, "GET", "/api/v1/trends", tags)
    add_route(app, "GET", "/api/v1/trends/tags", tags)
    add_route(app, "GET", "/api/v1/trends/statuses", statuses)
    add_route(app, "GET", "/api/v1/trends/links", links)
